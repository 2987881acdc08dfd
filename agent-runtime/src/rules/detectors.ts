// The detectors a rule can use, each as what it remembers about one device (across windows)
// and what it hands the window when it fires. Time is the lines' own time (ms), never the
// clock, so a backfill of last week finds what a live run would have. Everything is bounded:
// keys per rule and device, entries per key, evidence per finding.
import { Baseline, type Spike } from '../agents/baseline.js';

export type Ref = number | string;
export type Captures = Readonly<Record<string, string | undefined>>;

export const MAX_KEYS = 1000; // per rule and device; the least recently seen go first
export const MAX_ENTRIES = 256; // per key: matches (count) or values (distinct) kept
export const MAX_EVIDENCE = 50;

/** What a detector reports for one key in one window. */
export interface Fire {
  key: string;
  captures: Captures;
  /** The count, the number of distinct values, or 1. */
  value: number;
  /**
   * The distinct values seen, and the evidence: the detector's own live collections, read (and
   * copied) only when the window ends, since a rule past its threshold fires on every match.
   */
  values?: ReadonlyMap<string, number>;
  refs: readonly Ref[];
  spike?: Spike;
}

/** Sets a key as the most recent of a Map (insertion order = recency), dropping the oldest past `cap`. */
function touch<V>(map: Map<string, V>, key: string, value: V, cap: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > cap) map.delete(map.keys().next().value!);
}

function keep<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.shift();
}

interface Series {
  times: number[];
  weights: number[];
  refs: Ref[];
  sum: number;
}

/** Matches per key within a sliding window. */
export class CountMemory {
  readonly series = new Map<string, Series>();

  /** Adds a match; returns the window's count when it has reached the threshold. */
  add(
    key: string,
    time: number,
    weight: number,
    ref: Ref,
    windowMs: number,
    threshold: number,
  ): Series | undefined {
    let s = this.series.get(key);
    // Oldest key first out when full (not least recently used: that costs a Map delete and set
    // per line, and expire() already drops the keys that went quiet).
    if (!s) touch(this.series, key, (s = { times: [], weights: [], refs: [], sum: 0 }), MAX_KEYS);
    s.times.push(time);
    s.weights.push(weight);
    s.sum += weight;
    keep(s.refs, ref, MAX_EVIDENCE);
    // Lines arrive in time order per device, give or take a little: trimming from the front is enough.
    while (s.times[0]! <= time - windowMs) {
      s.times.shift();
      s.sum -= s.weights.shift()!;
    }
    // Past the bound, the two oldest become one at the later time: the count stays whole (a
    // threshold of thousands still fires), and the oldest matches leave the window a little late.
    if (s.times.length > MAX_ENTRIES) {
      s.times.shift();
      const oldest = s.weights.shift()!;
      s.weights[0]! += oldest;
    }
    return s.sum >= threshold ? s : undefined;
  }

  /** Forgets keys with no match inside the window that ends at `now`. */
  expire(now: number, windowMs: number): void {
    for (const [key, s] of this.series)
      if ((s.times.at(-1) ?? -Infinity) <= now - windowMs) this.series.delete(key);
  }

  save(): unknown {
    return [...this.series].map(([k, s]) => [k, s.times, s.weights, s.refs]);
  }

  static load(saved: unknown): CountMemory {
    const m = new CountMemory();
    for (const [k, times, weights, refs] of asRows(saved, 4) as [
      string,
      number[],
      number[],
      Ref[],
    ][])
      m.series.set(k, { times, weights, refs, sum: weights.reduce((a, b) => a + b, 0) });
    return m;
  }
}

interface ValueSet {
  /** value -> last seen, least recent first. */
  seen: Map<string, number>;
  refs: Ref[];
}

/** Distinct values of one capture per key within a sliding window. */
export class DistinctMemory {
  readonly keys = new Map<string, ValueSet>();

  add(key: string, value: string, time: number, ref: Ref, windowMs: number): ValueSet {
    let v = this.keys.get(key);
    if (!v) v = { seen: new Map(), refs: [] };
    touch(this.keys, key, v, MAX_KEYS);
    touch(v.seen, value, time, MAX_ENTRIES);
    keep(v.refs, ref, MAX_EVIDENCE);
    for (const [old, t] of v.seen) {
      if (t > time - windowMs) break;
      v.seen.delete(old);
    }
    return v;
  }

  expire(now: number, windowMs: number): void {
    for (const [key, v] of this.keys) {
      const last = [...v.seen.values()].at(-1) ?? -Infinity;
      if (last <= now - windowMs) this.keys.delete(key);
    }
  }

  save(): unknown {
    return [...this.keys].map(([k, v]) => [k, [...v.seen], v.refs]);
  }

  static load(saved: unknown): DistinctMemory {
    const m = new DistinctMemory();
    for (const [k, seen, refs] of asRows(saved, 3) as [string, [string, number][], Ref[]][])
      m.keys.set(k, { seen: new Map(seen), refs });
    return m;
  }
}

/** Keys a device has shown before. */
export class NoveltyMemory {
  readonly known = new Map<string, true>();

  /** Whether the key is new (and, from now on, known); `warmup` keys must be known first for it to count. */
  add(key: string, warmup: number): boolean {
    const isNew = !this.known.has(key);
    const warm = this.known.size >= warmup;
    touch(this.known, key, true, MAX_KEYS * 10);
    return isNew && warm;
  }

  save(): unknown {
    return [...this.known.keys()];
  }

  static load(saved: unknown): NoveltyMemory {
    if (!Array.isArray(saved) || !saved.every((k) => typeof k === 'string'))
      throw new Error('novelty memory: expected a list of keys');
    const m = new NoveltyMemory();
    for (const k of saved) m.known.set(k, true);
    return m;
  }
}

interface Pending {
  since: number;
  ref: Ref;
  captures: Record<string, string>;
}

/** States that began (down) and have not ended (up) yet. */
export class AbsenceMemory {
  readonly pending = new Map<string, Pending>();

  begin(key: string, time: number, ref: Ref, captures: Captures): void {
    if (this.pending.has(key)) return; // still down since the first time
    const plain: Record<string, string> = {};
    for (const [k, v] of Object.entries(captures)) if (v !== undefined) plain[k] = v;
    touch(this.pending, key, { since: time, ref, captures: plain }, MAX_KEYS);
  }

  end(key: string): void {
    this.pending.delete(key);
  }

  /** States begun at least `withinMs` before `now`: each reported once, then forgotten. */
  overdue(now: number, withinMs: number): Fire[] {
    const out: Fire[] = [];
    for (const [key, p] of this.pending) {
      if (p.since + withinMs > now) continue;
      this.pending.delete(key);
      out.push({
        key,
        captures: p.captures,
        value: Math.round((now - p.since) / 1000),
        refs: [p.ref],
      });
    }
    return out;
  }

  save(): unknown {
    return [...this.pending].map(([k, p]) => [k, p.since, p.ref, p.captures]);
  }

  static load(saved: unknown): AbsenceMemory {
    const m = new AbsenceMemory();
    for (const [k, since, ref, captures] of asRows(saved, 4) as [
      string,
      number,
      Ref,
      Record<string, string>,
    ][])
      m.pending.set(k, { since, ref, captures });
    return m;
  }
}

/** A device's usual number of matches per window. */
export class RateMemory {
  constructor(readonly baseline = new Baseline()) {}

  save(): unknown {
    return this.baseline.save();
  }

  static load(saved: unknown): RateMemory {
    return new RateMemory(Baseline.load(saved));
  }
}

export type DetectorMemory =
  CountMemory | DistinctMemory | NoveltyMemory | AbsenceMemory | RateMemory;

function asRows(saved: unknown, width: number): unknown[][] {
  if (
    !Array.isArray(saved) ||
    !saved.every((r) => Array.isArray(r) && r.length === width && typeof r[0] === 'string')
  )
    throw new Error('rule memory: malformed');
  return saved as unknown[][];
}
