// Which IP addresses the service may connect to on behalf of a store. store_base_url comes from an unsigned callback,
// so every outbound connection is checked against this classifier: only globally routable unicast addresses pass.
// IPv6 is an allowlist (2000::/3 global unicast, minus special blocks) so anything new or odd is refused by default;
// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that IPv4 address.
// ipaddr.js parses IPv6 text (node:net only validates it); the rule itself is ours.
import { BlockList, isIP, isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';

const NON_PUBLIC_V4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
];

// Blocks inside 2000::/3 that are not ordinary global unicast.
const NON_PUBLIC_V6_IN_GLOBAL: ReadonlyArray<readonly [string, number]> = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID...
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

const v4Blocked = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V4) v4Blocked.addSubnet(net, prefix, 'ipv4');
const v6Global = new BlockList();
v6Global.addSubnet('2000::', 3, 'ipv6');
const v6Blocked = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V6_IN_GLOBAL) v6Blocked.addSubnet(net, prefix, 'ipv6');

/**
 * True when `ip` is a globally routable unicast address we may connect to. Anything that is not an IP address
 * (a host name, an empty string, a zoned IPv6 address) is not public.
 */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !v4Blocked.check(ip, 'ipv4');
  if (family !== 6 || ip.includes('%')) return false; // a zone id only makes sense for link-local addresses
  const embedded = embeddedIPv4(ipaddr.IPv6.parse(ip));
  if (embedded !== undefined) return isIPv4(embedded) && !v4Blocked.check(embedded, 'ipv4');
  return v6Global.check(ip, 'ipv6') && !v6Blocked.check(ip, 'ipv6');
}

/** The IPv4 address an IPv6 address stands for, when it is one of the forms that embed one. */
function embeddedIPv4(address: ipaddr.IPv6): string | undefined {
  // ::ffff:a.b.c.d (mapped)
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  const b = address.toByteArray();
  const v4 = (at: number): string => b.slice(at, at + 4).join('.');
  const zero = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  // ::ffff:0:a.b.c.d (translated, RFC 6145)
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return v4(12);
  // ::a.b.c.d (compatible, deprecated); also covers :: and ::1, which land in 0.0.0.0/8
  if (zero(0, 12)) return v4(12);
  // 64:ff9b::/96 well-known NAT64 prefix
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12);
  // 2002::/16 6to4: the relay forwards to the IPv4 address in bits 16..47
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return undefined;
}
