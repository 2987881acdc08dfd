// Addresses and CIDR networks (IPv4 or IPv6) as the spec gives them, for the allowlist and the
// suppressions alike, and whether a rule's source capture falls inside them. Pure.
import type { BlockList } from 'node:net';
import { isIP } from 'node:net';

import { RuleError } from './ruleTypes.js';

/** An address or CIDR network of the spec, ready for a BlockList. */
export interface SourceNetwork {
  address: string;
  /** Unset: the address alone. */
  prefix?: number;
  type: 'ipv4' | 'ipv6';
}

/**
 * Reads an address or CIDR network (IPv4 or IPv6) the spec gives, or throws a RuleError naming
 * `where` and `field` (the schema checks only the shape: CEL's isCIDR needs Kubernetes 1.30).
 */
export function sourceNetwork(entry: string, where: string, field: string): SourceNetwork {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  const prefix = bits === undefined ? undefined : Number(bits);
  if (
    family === 0 ||
    extra !== undefined ||
    (prefix !== undefined && (!/^\d+$/.test(bits!) || prefix > (family === 4 ? 32 : 128)))
  )
    throw new RuleError(where, field, `"${entry}" is not an address or a CIDR network`);
  return { address: address!, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

export function addNetwork(list: BlockList, { address, prefix, type }: SourceNetwork): void {
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, prefix, type);
}

/** Whether a source capture (an address, IPv6 possibly in brackets) is inside the list. */
export function sourceInside(list: BlockList, source: string | undefined): boolean {
  const address = source?.replace(/^\[|\]$/g, '');
  if (address === undefined) return false;
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
