// Which addresses an agent may download a model from (issue 20, M1). A model URL is the user's:
// without a policy, anyone who may create a ModelDeployment could make the agent probe its own
// loopback, the cluster's services or a cloud's metadata endpoint. So by default only public
// unicast addresses are allowed; the administrator's allowlist (the operator's
// --model-url-allow, EDGEWARDEN_MODEL_URL_ALLOW in the pod) admits a LAN range that serves models.
// The address decided on is the one connected to, after DNS resolution (safeFetch.ts).
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

export interface AddressPolicy {
  /** Ranges allowed although not public (the administrator's allowlist). */
  allow: readonly Cidr[];
  /** Ranges refused even when allowlisted: the cluster's own API server address. */
  deny: readonly Cidr[];
}

/** Public IPv4 ranges ipaddr.js names: anycast services, reachable like any public address. */
const PUBLIC_V4 = new Set(['unicast', 'as112', 'amt']);
const PUBLIC_V6 = new Set(['unicast', 'as112v6', 'amt']);

/** The IPv4 address an IPv6 address stands for, where it embeds one (mapped, NAT64, 6to4). */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052')
    return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

/** Whether `address` is public: not loopback, link-local, private, CGNAT, multicast, reserved. */
export function isPublicAddress(address: Address): boolean {
  if (address.kind() === 'ipv4') return PUBLIC_V4.has(address.range());
  const v6 = address as ipaddr.IPv6;
  const v4 = embeddedIPv4(v6);
  return v4 ? isPublicAddress(v4) : PUBLIC_V6.has(v6.range());
}

/** `text` as an address, or undefined when it is not one (a host name). */
export function parseAddress(text: string): Address | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return undefined;
  // Only the canonical forms: `127.1` or `0x7f.0.0.1` are names to the resolver, not addresses.
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return undefined;
  return ipaddr.parse(bare);
}

const within = (address: Address, [range, bits]: Cidr): boolean => {
  if (address.kind() !== range.kind()) {
    // An IPv4-mapped IPv6 address is the IPv4 address for every range.
    const v6 = address.kind() === 'ipv6' ? (address as ipaddr.IPv6) : undefined;
    if (!v6?.isIPv4MappedAddress()) return false;
    return v6.toIPv4Address().match(range, bits);
  }
  return address.match(range, bits);
};

/** Whether the policy lets the agent connect to `address` (an IP address in text). */
export function addressAllowed(policy: AddressPolicy, text: string): boolean {
  const address = parseAddress(text);
  if (!address) return false;
  if (policy.deny.some((cidr) => within(address, cidr))) return false;
  return isPublicAddress(address) || policy.allow.some((cidr) => within(address, cidr));
}

/** One range of an allowlist: `10.0.8.0/24`, `fd00::/8`, or a single address (`/32`, `/128`). */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  if (ipaddr.isValidCIDR(trimmed)) return ipaddr.parseCIDR(trimmed);
  const address = parseAddress(trimmed);
  return address ? [address, address.kind() === 'ipv4' ? 32 : 128] : undefined;
}

/**
 * The policy from the allowlist's text (comma-separated ranges) and the API server's address
 * (KUBERNETES_SERVICE_HOST in every pod); the range that does not parse, if one does not.
 */
export function addressPolicy(
  allowlist: string | undefined,
  apiServer?: string,
): AddressPolicy | { invalid: string } {
  const allow: Cidr[] = [];
  for (const entry of (allowlist ?? '').split(',').filter((e) => e.trim() !== '')) {
    const cidr = parseCidr(entry);
    if (!cidr) return { invalid: entry.trim() };
    allow.push(cidr);
  }
  const server = apiServer ? parseAddress(apiServer) : undefined;
  const deny: Cidr[] = server ? [[server, server.kind() === 'ipv4' ? 32 : 128]] : [];
  return { allow, deny };
}

/** Public addresses only: what an agent allows when its administrator allowed nothing more. */
export const PUBLIC_ONLY: AddressPolicy = { allow: [], deny: [] };
