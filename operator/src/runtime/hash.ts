// An input hash: a short digest of what a child was made from, kept in an annotation, so a
// pass whose inputs did not change can skip the write altogether.
import { createHash } from 'node:crypto';

export const INPUT_HASH_ANNOTATION = 'edgewarden.io/input-hash';

/** Stable JSON: object keys sorted, so equal values hash equally whatever their key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export function inputHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 16);
}
