/**
 * Address management within a subnet. Pure: callers pass what is taken.
 * Tencent reserves the network address, the gateway (first host) and the last
 * address of every subnet.
 */
import { containsIp, formatIp, lastOf, parseIp, size, type Cidr } from './cidr.js';

export const RESERVED_PER_SUBNET = 3;

export const gatewayOf = (subnet: Cidr) => subnet.base + 1;

export function isReserved(subnet: Cidr, ip: number): boolean {
  return ip === subnet.base || ip === gatewayOf(subnet) || ip === lastOf(subnet);
}

export const usableCount = (subnet: Cidr) => Math.max(0, size(subnet) - RESERVED_PER_SUBNET);

/** The lowest free, unreserved addresses of a subnet, `count` of them, or fewer if it runs out. */
export function allocate(subnet: Cidr, taken: ReadonlySet<string>, count = 1): string[] {
  const out: string[] = [];
  for (let ip = subnet.base + 2; ip < lastOf(subnet) && out.length < count; ip++) {
    const s = formatIp(ip);
    if (!taken.has(s)) out.push(s);
  }
  return out;
}

export type RequestedCheck = { ok: true; ip: string } | { ok: false; why: 'malformed' | 'outside' | 'reserved' | 'taken' };

/** Whether a requested address can be given out in this subnet. */
export function checkRequested(subnet: Cidr, requested: string, taken: ReadonlySet<string>): RequestedCheck {
  const ip = parseIp(requested);
  if (ip === undefined) return { ok: false, why: 'malformed' };
  if (!containsIp(subnet, ip)) return { ok: false, why: 'outside' };
  if (isReserved(subnet, ip)) return { ok: false, why: 'reserved' };
  if (taken.has(formatIp(ip))) return { ok: false, why: 'taken' };
  return { ok: true, ip: formatIp(ip) };
}
