// Online log-template mining in the manner of Drain (He et al., ICWS 2017): lines are grouped
// by token count and first token, then matched to the most similar template in the group;
// where a matched line differs, the template's token becomes a wildcard. The number of
// templates is bounded: past the bound, unmatched lines count as overflow instead of growing
// memory without limit on a Pi.

const WILDCARD = '<*>';
const SIMILARITY = 0.5;

export interface Template {
  id: number;
  tokens: string[];
  count: number;
}

/**
 * Tokens that look like values are variables from the start: numbers, addresses, hex ids,
 * key=value with a number. Names with a digit in them (wlan0, eth0.2, br-lan) are kept.
 */
const VALUE =
  /^[^A-Za-z]*\d|^(?:0x)?[0-9a-f]{8,}$|^[0-9a-f]{1,2}(?::[0-9a-f]{1,4}){2,}|=[^A-Za-z]*\d/i;

function hasDigit(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

function tokenize(message: string): string[] {
  const out: string[] = [];
  for (const token of message.split(' ')) {
    if (token.length === 0) continue;
    // Most tokens are plain words: only those with a digit need the regular expression.
    out.push(hasDigit(token) && VALUE.test(token) ? WILDCARD : token);
    if (out.length >= 64) break; // long lines: the head identifies the template
  }
  return out;
}

export class Drain {
  private readonly groups = new Map<string, Template[]>();
  private readonly byId = new Map<number, Template>();
  private nextId = 1;
  overflow = 0;

  constructor(private readonly maxTemplates = 1000) {}

  get size(): number {
    return this.nextId - 1;
  }

  /** The template of `message`, and whether this call created it; undefined past the bound. */
  add(message: string): { template: Template; created: boolean } | undefined {
    const tokens = tokenize(message);
    const key = `${tokens.length}\0${tokens[0] ?? ''}`;
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = []));
    let best: Template | undefined;
    let bestScore = -1;
    for (const t of group) {
      let same = 0;
      for (let i = 0; i < tokens.length; i++)
        if (t.tokens[i] === tokens[i] || t.tokens[i] === WILDCARD) same++;
      const score = tokens.length === 0 ? 1 : same / tokens.length;
      if (score > bestScore) {
        bestScore = score;
        best = t;
      }
    }
    if (best && bestScore >= SIMILARITY) {
      for (let i = 0; i < tokens.length; i++)
        if (best.tokens[i] !== tokens[i]) best.tokens[i] = WILDCARD;
      best.count++;
      return { template: best, created: false };
    }
    if (this.size >= this.maxTemplates) {
      this.overflow++;
      return undefined;
    }
    const template = { id: this.nextId++, tokens, count: 1 };
    group.push(template);
    this.byId.set(template.id, template);
    return { template, created: true };
  }

  /** The templates as plain JSON ([id, count, text] each, text with <*> wildcards). */
  save(): {
    maxTemplates: number;
    overflow: number;
    nextId: number;
    templates: [number, number, string[]][];
  } {
    return {
      maxTemplates: this.maxTemplates,
      overflow: this.overflow,
      nextId: this.nextId,
      templates: [...this.byId.values()].map((t) => [t.id, t.count, t.tokens]),
    };
  }

  /** The inverse of save(); throws on a value it cannot read. */
  static load(saved: unknown): Drain {
    const s = saved as Partial<ReturnType<Drain['save']>> | null;
    if (
      typeof s?.maxTemplates !== 'number' ||
      typeof s.overflow !== 'number' ||
      typeof s.nextId !== 'number' ||
      !Array.isArray(s.templates)
    )
      throw new Error('template miner state: malformed');
    const drain = new Drain(s.maxTemplates);
    drain.overflow = s.overflow;
    drain.nextId = s.nextId;
    for (const entry of s.templates) {
      const [id, count, tokens] = entry;
      if (
        !Number.isInteger(id) ||
        !Number.isInteger(count) ||
        !Array.isArray(tokens) ||
        !tokens.every((t) => typeof t === 'string')
      )
        throw new Error('template miner state: malformed template');
      const template = { id, count, tokens };
      const key = `${tokens.length}\0${tokens[0] ?? ''}`;
      const group = drain.groups.get(key);
      if (group) group.push(template);
      else drain.groups.set(key, [template]);
      drain.byId.set(id, template);
    }
    return drain;
  }

  get(id: number): Template | undefined {
    return this.byId.get(id);
  }

  text(template: Template): string {
    return template.tokens.join(' ');
  }
}
