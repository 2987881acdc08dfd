// The addresses a model URL may reach (issue 20, M1): public ones, and what the allowlist adds.
import {
  addressAllowed,
  addressPolicy,
  parseAddress,
  type AddressPolicy,
} from './addressPolicy.js';

const policy = (allow?: string, apiServer?: string): AddressPolicy => {
  const p = addressPolicy(allow, apiServer);
  if ('invalid' in p) throw new Error(p.invalid);
  return p;
};

test.each([
  // Public unicast: allowed.
  ['93.184.215.14', true],
  ['8.8.8.8', true],
  ['2606:4700:4700::1111', true],
  ['::ffff:8.8.8.8', true],
  ['64:ff9b::808:808', true], // NAT64 of 8.8.8.8
  // Loopback.
  ['127.0.0.1', false],
  ['127.255.255.254', false],
  ['::1', false],
  ['::ffff:127.0.0.1', false],
  ['::ffff:7f00:1', false],
  // Link-local, the metadata endpoint among them.
  ['169.254.169.254', false],
  ['169.254.0.1', false],
  ['fe80::1', false],
  ['fe80::1%eth0', false],
  ['::ffff:169.254.169.254', false],
  ['64:ff9b::a9fe:a9fe', false], // NAT64 of 169.254.169.254
  // RFC 1918, CGNAT, unique local, this network, 6to4 of a private address.
  ['10.0.0.1', false],
  ['10.43.0.1', false], // k3s's service range
  ['10.96.0.1', false], // kubeadm's
  ['172.16.0.1', false],
  ['172.31.255.255', false],
  ['192.168.1.1', false],
  ['100.64.0.1', false],
  ['100.127.255.255', false],
  ['fc00::1', false],
  ['fd12:3456::1', false],
  ['0.0.0.0', false],
  ['0.1.2.3', false],
  ['::', false],
  ['::ffff:10.0.0.1', false],
  ['2002:a00:1::1', false], // 6to4 of 10.0.0.1
  // Multicast, broadcast, reserved.
  ['224.0.0.1', false],
  ['239.255.255.250', false],
  ['ff02::1', false],
  ['255.255.255.255', false],
  ['240.0.0.1', false],
  ['192.0.2.1', false],
  // Not an address at all.
  ['localhost', false],
  ['127.1', false],
])('%s: allowed %s by default', (address, allowed) => {
  expect(addressAllowed(policy(), address)).toBe(allowed);
});

test('the allowlist admits its ranges, and only those', () => {
  const lan = policy('192.168.10.0/24, fd00:1::/64,127.0.0.2');
  expect(addressAllowed(lan, '192.168.10.7')).toBe(true);
  expect(addressAllowed(lan, '::ffff:192.168.10.7')).toBe(true);
  expect(addressAllowed(lan, '192.168.11.7')).toBe(false);
  expect(addressAllowed(lan, 'fd00:1::5')).toBe(true);
  expect(addressAllowed(lan, 'fd00:2::5')).toBe(false);
  expect(addressAllowed(lan, '127.0.0.2')).toBe(true);
  expect(addressAllowed(lan, '127.0.0.1')).toBe(false);
  expect(addressAllowed(lan, '169.254.169.254')).toBe(false);
  expect(addressAllowed(lan, '8.8.8.8')).toBe(true);
});

test("the API server's address is refused even inside an allowed range", () => {
  const wide = policy('10.0.0.0/8', '10.43.0.1');
  expect(addressAllowed(wide, '10.0.8.5')).toBe(true);
  expect(addressAllowed(wide, '10.43.0.1')).toBe(false);
  expect(addressAllowed(wide, '::ffff:10.43.0.1')).toBe(false);
  expect(addressAllowed(policy(undefined, 'kubernetes.default'), '8.8.8.8')).toBe(true);
});

test('an allowlist entry that is not an address or a range is named', () => {
  expect(addressPolicy('10.0.0.0/8, lan.example, 10.1.0.0/16')).toEqual({ invalid: 'lan.example' });
  expect(addressPolicy('10.0.0.0/33')).toEqual({ invalid: '10.0.0.0/33' });
  expect(addressPolicy('')).toEqual({ allow: [], deny: [] });
  expect(addressPolicy(' , ')).toEqual({ allow: [], deny: [] });
});

test('host names, and the resolver-only forms of IPv4, are not addresses', () => {
  expect(parseAddress('models.example')).toBeUndefined();
  expect(parseAddress('0x7f.0.0.1')).toBeUndefined();
  expect(parseAddress('2130706433')).toBeUndefined();
  expect(parseAddress('[::1]')?.toString()).toBe('::1');
});
