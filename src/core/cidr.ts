/** IPv4 address and CIDR arithmetic over unsigned 32-bit integers. Pure. */
import { isIPv6 } from 'node:net';

export interface Cidr {
  base: number; // network address
  prefix: number; // 0..32
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseIp(s: string): number | undefined {
  if (!IPV4.test(s)) return undefined;
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

export const formatIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export const size = (c: Cidr) => 2 ** (32 - c.prefix);
export const lastOf = (c: Cidr) => c.base + size(c) - 1;

/**
 * Parses `a.b.c.d/n`. With `strict`, the address must be the network address
 * itself (10.0.0.0/16, not 10.0.0.1/16), as Tencent requires for VPCs and subnets.
 */
export function parseCidr(s: string, strict = true): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const base = (ip & maskOf(prefix)) >>> 0;
  if (strict && base !== ip) return undefined;
  return { base, prefix };
}

export const formatCidr = (c: Cidr) => `${formatIp(c.base)}/${c.prefix}`;

/**
 * The one normal form of an IPv4 peer or destination: `a.b.c.d/n` with the
 * host bits cleared; a bare address is a /32. Undefined when it is neither.
 */
export function normaliseCidr(s: string): string | undefined {
  const c = parsePeer(s);
  return c && formatCidr(c);
}

/** A peer or destination as normaliseCidr reads it, parsed. */
export const parsePeer = (s: string): Cidr | undefined => parseCidr(s.includes('/') ? s : `${s}/32`, false);

/** CIDRs without those contained in another of them, sorted by address then prefix. O(n log n). */
export function collapseCidrs(cidrs: readonly Cidr[]): Cidr[] {
  // Two CIDRs nest or are disjoint; sorted by address then shorter prefix first, one that starts within the
  // last kept one lies inside it.
  const sorted = [...cidrs].sort((a, b) => a.base - b.base || a.prefix - b.prefix);
  const out: Cidr[] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (!last || c.base > lastOf(last)) out.push(c);
  }
  return out;
}

export const containsIp = (c: Cidr, ip: number) => ip >= c.base && ip <= lastOf(c);
export const containsCidr = (outer: Cidr, inner: Cidr) => inner.prefix >= outer.prefix && containsIp(outer, inner.base);
export const overlaps = (a: Cidr, b: Cidr) => a.base <= lastOf(b) && b.base <= lastOf(a);

/** The RFC 1918 blocks a VPC may use, with the largest VPC Tencent allows in each. */
export const PRIVATE_BLOCKS: readonly { block: Cidr; minPrefix: number }[] = [
  { block: { base: parseIp('10.0.0.0')!, prefix: 8 }, minPrefix: 12 },
  { block: { base: parseIp('172.16.0.0')!, prefix: 12 }, minPrefix: 12 },
  { block: { base: parseIp('192.168.0.0')!, prefix: 16 }, minPrefix: 16 },
];

/** `2001:db8::/32`-style IPv6 CIDR check (syntax and prefix length only). */
export function isIpv6Cidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  return !!m && isIPv6(m[1]!) && Number(m[2]) <= 128;
}
