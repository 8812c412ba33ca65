/**
 * The region a controller serves: its name, zones (`local`, `local-1`,
 * `local-2` …) and the public address pools its elastic IPs come from.
 */
import type { Cidr } from './cidr.js';
import { DEFAULT_PUBLIC_POOLS, parsePublicPools } from './public-pools.js';

export interface Zone {
  name: string; // local-1
  id: string; // numeric, as Tencent's ZoneId
}
export interface Region {
  name: string;
  zones: Zone[];
  /** Public address pools, sorted by address (public-pools.ts). */
  publicPools: Cidr[];
}

/** Throws an Error naming what to fix when `publicPools` is not a valid set of pools. */
export function makeRegion(name = 'local', zoneCount = 2, publicPools: readonly string[] = DEFAULT_PUBLIC_POOLS): Region {
  return {
    name,
    zones: Array.from({ length: zoneCount }, (_, i) => ({ name: `${name}-${i + 1}`, id: String(900001 + i) })),
    publicPools: parsePublicPools(publicPools),
  };
}
