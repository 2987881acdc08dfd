// Counting with evidence: how many times each key occurred in a window, and the first few
// line references behind it, so a finding can point at its lines without keeping them all.

export const EVIDENCE_LIMIT = 50;

export class Tally<K = string> {
  private readonly counts = new Map<K, { n: number; refs: (number | string)[] }>();

  add(key: K, ref: number | string, by = 1): void {
    let entry = this.counts.get(key);
    if (!entry) {
      entry = { n: 0, refs: [] };
      this.counts.set(key, entry);
    }
    entry.n += by;
    if (entry.refs.length < EVIDENCE_LIMIT) entry.refs.push(ref);
  }

  count(key: K): number {
    return this.counts.get(key)?.n ?? 0;
  }

  refs(key: K): (number | string)[] {
    return this.counts.get(key)?.refs ?? [];
  }

  get size(): number {
    return this.counts.size;
  }

  total(): number {
    let sum = 0;
    for (const { n } of this.counts.values()) sum += n;
    return sum;
  }

  /** Keys with at least `minimum` occurrences, most frequent first. */
  atLeast(minimum: number): [K, number][] {
    return [...this.counts]
      .filter(([, e]) => e.n >= minimum)
      .map(([k, e]) => [k, e.n] as [K, number])
      .sort((a, b) => b[1] - a[1]);
  }

  keys(): IterableIterator<K> {
    return this.counts.keys();
  }

  /** Evidence of every key, capped. */
  allRefs(): (number | string)[] {
    const out: (number | string)[] = [];
    for (const { refs } of this.counts.values()) {
      for (const r of refs) {
        if (out.length >= EVIDENCE_LIMIT) return out;
        out.push(r);
      }
    }
    return out;
  }
}

/** Severity by how far a count is past the threshold that makes it a finding. */
export function severityByRatio(count: number, threshold: number, base: 2 | 3 | 4): 2 | 3 | 4 | 5 {
  const ratio = count / threshold;
  return Math.min(5, base + (ratio >= 4 ? 2 : ratio >= 2 ? 1 : 0)) as 2 | 3 | 4 | 5;
}

/** A score in [0, 1) that grows with how far past its threshold a count is. */
export function scoreByRatio(count: number, threshold: number): number {
  return Number((1 - threshold / (count + threshold)).toFixed(3));
}

/** Shannon entropy of a string, bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const freq = new Map<string, number>();
  for (const ch of s) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of freq.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
