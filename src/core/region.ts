/**
 * The region a controller serves: its name, zones (`local`, `local-1`,
 * `local-2` …), the public address pools its elastic IPs come from, and the
 * underlay address of its gateway cluster.
 */
import { formatIp, parseIp, type Cidr } from './cidr.js';
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
  /**
   * The gateway cluster's tunnel address on the underlay: every gateway holds
   * it and the underlay's routers spread flows over them (ECMP); hosts send an
   * EIP instance's public traffic there (docs/public-network.md).
   */
  gatewayAddress: string;
}

/** The region in a box's gateway cluster address (src/region/layout.ts EDGE). */
export const DEFAULT_GATEWAY_ADDRESS = '100.64.255.1';

/**
 * The tunnel address of gateway node `n` (1-based, in the order of their
 * names): the node that carries a VPC's NAT sessions is reached there, and
 * the others announce it after it in rank order, so that one node takes over
 * its traffic (and, through conntrackd, its sessions) when it fails
 * (docs/public-network.md). Ten past the cluster's address: 100.64.255.11 …
 */
export function gatewayNodeAddress(gatewayAddress: string, n: number): string {
  const v = (parseIp(gatewayAddress)! + 10 + n - 1) >>> 0;
  return formatIp(v);
}

/** Throws an Error naming what to fix when `publicPools` is not a valid set of pools. */
export function makeRegion(name = 'local', zoneCount = 2, publicPools: readonly string[] = DEFAULT_PUBLIC_POOLS, gatewayAddress = DEFAULT_GATEWAY_ADDRESS): Region {
  return {
    name,
    zones: Array.from({ length: zoneCount }, (_, i) => ({ name: `${name}-${i + 1}`, id: String(900001 + i) })),
    publicPools: parsePublicPools(publicPools),
    gatewayAddress,
  };
}
