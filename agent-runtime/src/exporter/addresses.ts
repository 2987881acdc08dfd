// transform.hashAddresses: every MAC address (aa:bb:cc:dd:ee:ff, any case) and every IPv4 and
// IPv6 address in a string becomes a keyed hash: HMAC-SHA-256 of the address in one canonical
// spelling, hex, cut to 16 digits, behind "mac-" or "ip-" so it reads as hashed. The same
// address gives the same hash everywhere in an export (records stay joinable); without the key
// it cannot be reversed by trying every address.
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

const HEX_DIGITS = 16;
const CACHE_LIMIT = 50_000;

// One pass, three alternatives, tried in this order at each position:
//   a MAC (six pairs of hex digits joined by colons);
//   an IPv6 candidate (hex groups and colons, optionally ending in a dotted IPv4), checked by
//   isIPv6 so that times like 10:00:00 are left alone;
//   a dotted IPv4 (checked by isIPv4), followed by anything but more digits: "1.2.3.4:22" and
//   "1.2.3.4." match, a version "1.2.3.4.5" does not.
// No alternative matches the empty string, so an exec loop always moves on.
// Each alternative begins with a hex digit or a colon: the lookahead in front says so once,
// and lets the engine pass over other characters without trying the lookbehinds (a fifth
// less time in the regex, which is most of hashing's time).
const ADDRESS =
  /(?=[0-9a-f:])(?:(?<![\w:.])([0-9a-f]{2}(?::[0-9a-f]{2}){5})(?![\w:])|(?<![\w:.])((?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}))(?![\w:]|\.\d)|(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d))/gi;
/** Strings without these cannot hold an address: most are skipped without a regex scan. */
const MAYBE = /[:.]/;

export class AddressHasher {
  private readonly cache = new Map<string, string>();

  constructor(private readonly key: Buffer) {}

  private hash(kind: 'mac' | 'ip', canonical: string): string {
    const cacheKey = `${kind}/${canonical}`;
    let out = this.cache.get(cacheKey);
    if (out === undefined) {
      out = `${kind}-${createHmac('sha256', this.key).update(`${kind}:${canonical}`).digest('hex').slice(0, HEX_DIGITS)}`;
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(cacheKey, out);
    }
    return out;
  }

  /** The string with every address replaced by its hash. */
  string(text: string): string {
    if (!MAYBE.test(text)) return text;
    // An exec loop rather than replace() with a function: twice as fast on log messages.
    ADDRESS.lastIndex = 0;
    let out = '';
    let done = 0;
    for (let m = ADDRESS.exec(text); m !== null; m = ADDRESS.exec(text)) {
      out += text.slice(done, m.index) + this.replacement(m[0], m[1], m[2], m[3]);
      done = ADDRESS.lastIndex;
    }
    return done === 0 ? text : out + text.slice(done);
  }

  /** What one match becomes: its hash, or itself when it is no address after all. */
  private replacement(match: string, mac?: string, v6?: string, v4?: string): string {
    if (mac) return this.hash('mac', mac.toLowerCase());
    if (v6) return isIPv6(v6) && /[0-9a-f]/i.test(v6) ? this.hash('ip', canonicalV6(v6)) : match;
    if (v4) return isIPv4(v4) ? this.hash('ip', v4) : match;
    return match;
  }

  /** Every string in a JSON value (object values, array items), recursively. */
  value(v: unknown): unknown {
    if (typeof v === 'string') return this.string(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.value(x);
      return out;
    }
    return v;
  }
}

/** One spelling per IPv6 address (2001:DB8:0::1 and 2001:db8::1 hash alike); a mapped IPv4 as the IPv4. */
function canonicalV6(address: string): string {
  try {
    const host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (mapped) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return host;
  } catch {
    return address.toLowerCase();
  }
}
