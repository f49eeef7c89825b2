/**
 * Which IP addresses the HTTP switch may connect to (SSRF): none of loopback, private,
 * link-local, unique-local, CGNAT, multicast, reserved or unspecified ranges, nor any address
 * of this host's own interfaces, unless the operator allowed that range (`serve
 * --outbound-allow-net CIDR`). IPv4-mapped and NAT64 IPv6 forms are judged by the IPv4
 * address they carry.
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { NanovisorError } from '../../../shared/errors.ts';

/** Ranges no outbound call reaches unless allowed, with the reason a refusal names. */
const REFUSED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'], ['10.0.0.0', 8, 'private'], ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'], ['169.254.0.0', 16, 'link-local'], ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], ['192.0.2.0', 24, 'documentation'], ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'], ['198.51.100.0', 24, 'documentation'], ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'], ['240.0.0.0', 4, 'reserved'],
];
const REFUSED_V6: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'], ['::1', 128, 'loopback'], ['fc00::', 7, 'unique-local (private)'],
  ['fe80::', 10, 'link-local'], ['fec0::', 10, 'site-local'], ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'], ['100::', 64, 'discard'],
];

export interface Cidr {
  readonly text: string;
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parses `ADDRESS/PREFIX` (or a bare address: one host). NV_USAGE naming the flag otherwise. */
export function parseCidr(text: string, flag = '--outbound-allow-net'): Cidr {
  const [address = '', prefixText, extra] = text.split('/');
  const v = isIP(address);
  const max = v === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (v === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
    throw new NanovisorError('NV_USAGE', `${flag} "${text}": expected an address range like 127.0.0.1/32, 10.0.0.0/8 or ::1/128`);
  }
  return { text, address, prefix, family: v === 6 ? 'ipv6' : 'ipv4' };
}

/** The IPv4 address an IPv6 one carries (::ffff:a.b.c.d, 64:ff9b::a.b.c.d), if any. */
function embeddedV4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m !== null) return m[1];
  const h = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (h === null) return undefined;
  const hi = parseInt(h[1]!, 16);
  const lo = parseInt(h[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export class AddressPolicy {
  readonly #allowed = new BlockList();
  readonly #hasAllowed: boolean;
  /** Addresses of this host's interfaces when the policy was made (the daemon's own). */
  readonly #own: Set<string>;

  constructor(allowed: readonly Cidr[] = [], own: Iterable<string> = ownAddresses()) {
    for (const c of allowed) this.#allowed.addSubnet(c.address, c.prefix, c.family);
    this.#hasAllowed = allowed.length > 0;
    this.#own = new Set([...own].map((a) => a.toLowerCase()));
  }

  /** Why a connection to `address` is refused, or undefined when it may be made. */
  refusal(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return 'not an IP address';
    const v4 = family === 6 ? embeddedV4(address) : address;
    const candidates: [string, 'ipv4' | 'ipv6'][] = v4 === undefined ? [[address, 'ipv6']] : [[v4, 'ipv4'], ...(family === 6 ? [[address, 'ipv6'] as [string, 'ipv6']] : [])];
    if (this.#hasAllowed && candidates.some(([a, f]) => this.#allowed.check(a, f))) return undefined;
    for (const [a, f] of candidates) {
      const ranges = f === 'ipv4' ? REFUSED_V4 : REFUSED_V6;
      for (const [net, prefix, why] of ranges) {
        const one = new BlockList();
        one.addSubnet(net, prefix, f);
        if (one.check(a, f)) return `${why} address`;
      }
      if (this.#own.has(a.toLowerCase())) return "one of the daemon's own addresses";
    }
    return undefined;
  }
}

/** Every address of this host's network interfaces. */
export function ownAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.push(i.address.replace(/%.*$/, ''));
  return out;
}
