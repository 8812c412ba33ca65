/**
 * The region's public address pools, from which elastic IPs are allocated.
 * Pure: callers pass what is taken.
 *
 * A pool keeps back the same three addresses a subnet does (ipam.ts): its
 * network address, its first address — reserved for the gateway side of the
 * pool, where the gateway nodes will answer for it — and its last (broadcast).
 * So 198.51.100.0/24 gives out .2 to .254.
 */
import { formatCidr, overlaps, parseCidr, type Cidr } from './cidr.js';
import { allocate, checkRequested, usableCount, type RequestedCheck } from './ipam.js';

/** Documentation ranges (RFC 5737): nothing on a real network routes them, so a region in a box can use them freely. */
export const DEFAULT_PUBLIC_POOLS: readonly string[] = ['198.51.100.0/24', '203.0.113.0/24'];

/**
 * Parses the configured pools: each a CIDR written as its network address,
 * with at least one address to give out, none overlapping another. Answers
 * them sorted by address, so "the lowest free address" means the same
 * whatever order they were configured in. Throws an Error saying what to fix.
 */
export function parsePublicPools(list: readonly string[]): Cidr[] {
  if (!list.length) throw new Error('no public address pool given; name at least one CIDR, e.g. 198.51.100.0/24');
  const pools = list.map((text) => {
    const c = parseCidr(text.trim());
    if (!c) throw new Error(`public address pool \`${text}\` is not a CIDR block written as its network address, e.g. 198.51.100.0/24`);
    if (usableCount(c) < 1) throw new Error(`public address pool \`${text}\` is too small: a pool keeps back its first two and its last address, so it needs /30 or larger`);
    return c;
  });
  pools.sort((a, b) => a.base - b.base);
  for (let i = 1; i < pools.length; i++)
    if (overlaps(pools[i - 1]!, pools[i]!)) throw new Error(`public address pools ${formatCidr(pools[i - 1]!)} and ${formatCidr(pools[i]!)} overlap`);
  return pools;
}

/** The lowest `count` free addresses across the pools (in address order), or fewer if they run out. */
export function allocatePublic(pools: readonly Cidr[], taken: ReadonlySet<string>, count: number): string[] {
  const out: string[] = [];
  for (const pool of pools) {
    if (out.length >= count) break;
    out.push(...allocate(pool, taken, count - out.length));
  }
  return out;
}

/** Whether a requested address can be given out: inside a pool, not kept back, not taken. */
export function checkPublicRequested(pools: readonly Cidr[], requested: string, taken: ReadonlySet<string>): RequestedCheck {
  for (const pool of pools) {
    const c = checkRequested(pool, requested, taken);
    if (c.ok || c.why !== 'outside') return c;
  }
  return { ok: false, why: 'outside' };
}

/** How many addresses the pools can give out in all. */
export const publicCapacity = (pools: readonly Cidr[]) => pools.reduce((n, p) => n + usableCount(p), 0);
