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

/**
 * The LB cluster's tunnel address (docs/load-balancers.md): every LB node
 * holds it and the fabric router spreads flows over them (ECMP); hosts send
 * traffic for internal VIPs there.
 */
export const DEFAULT_LB_ADDRESS = '100.64.254.1';

/**
 * The address LB node `n` (1-based) sends its health checks from, inside
 * each VPC router of the node: in 100.64.0.0/10 like Tencent's health-check
 * sources (SourceIpType 1), never a VPC's (VPCs are RFC 1918). A backend's
 * security group must allow it, as on Tencent Cloud.
 */
export function lbHealthSource(n: number): string {
  return formatIp((parseIp('100.64.253.10')! + n) >>> 0);
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
