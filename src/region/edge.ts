/**
 * `weft up`'s edge on the linux data plane: the internet, the gateway nodes
 * and their route announcements (dataplane/linux/edge.ts wires, bird.ts
 * announces). Ready once both routers reach the pools and the cluster's
 * tunnel address over every gateway.
 */
import { join } from 'node:path';
import { formatCidr, formatIp, maskOf, parseCidr, parseIp } from '../core/cidr.js';
import { ipJson } from '../dataplane/linux/exec.js';
import { ensureGateway, ensureInternet, GATEWAY_INTERNET_LINK, internetRouterNs, routeHostToGateways, TRANSIT_BRIDGE, type EdgeAddresses } from '../dataplane/linux/edge.js';
import { hostCpu } from '../dataplane/linux/fabric.js';
import { FABRIC_BRIDGE, UPLINK, fabricNs, hostNs } from '../dataplane/linux/names.js';
import { gatewayNodeAddress } from '../core/region.js';
import { ANNOUNCE_TABLE } from '../dataplane/linux/nat-gateway.js';
import { gatewayConfig, routerConfig, startBird, type Session } from './bird.js';
import { conntrackdConfig, startConntrackd } from './conntrackd.js';
import { EDGE, paths, UNDERLAY_PREFIX, type GatewayPlan, type RegionLayout } from './layout.js';

export const EDGE_ADDRESSES: EdgeAddresses = {
  fabricRouter: EDGE.fabricRouter,
  underlayPrefix: UNDERLAY_PREFIX,
  gatewayAnycast: EDGE.gatewayAnycast,
  gatewayBlock: EDGE.gatewayBlock,
  lbBlock: EDGE.lbBlock,
  internetRouter: EDGE.internetRouter,
  transitPrefix: EDGE.transitPrefix,
  client: EDGE.client,
  clientRouter: EDGE.clientRouter,
  clientPrefix: EDGE.clientPrefix,
};

/** The network `ip` is in, as a CIDR (a router's range of BGP peers). */
const networkOf = (ip: string, prefix: number) => formatCidr({ base: (parseIp(ip)! & maskOf(prefix)) >>> 0, prefix });

/** The first usable address of each pool: every gateway answers on it (a pool's health check, and never an EIP). */
export const poolGatewayAddresses = (pools: readonly string[]) => pools.map((p) => formatIp(parseCidr(p)!.base + 1));

/** Builds the edge and starts its routers; resolves once every gateway carries traffic (or after `timeoutMs`, saying which do not). */
export async function upEdge(dataDir: string, layout: RegionLayout, pools: readonly string[], timeoutMs = 20_000): Promise<void> {
  const gateways = layout.gateways ?? [];
  const lbNodes = layout.lbNodes ?? [];
  if (!gateways.length && !lbNodes.length) return;
  const { prefix } = layout;
  const dir = paths(dataDir).bird;
  const log = (name: string) => join(paths(dataDir).logs, `${name}.log`);
  // Every gateway holds every node's tunnel address: whichever the routers send it to answers (rank order, below).
  const nodeAddresses = gateways.map((_, i) => gatewayNodeAddress(EDGE.gatewayAnycast, i + 1));
  await ensureInternet(prefix, EDGE_ADDRESSES);
  for (const [i, gw] of gateways.entries())
    await ensureGateway(prefix, gw, EDGE_ADDRESSES, [...poolGatewayAddresses(pools), ...nodeAddresses], hostCpu(layout.hosts.length + i));
  // An LB node is wired as a gateway is, the LB cluster's tunnel address on its lo.
  for (const [i, lb] of lbNodes.entries()) await ensureGateway(prefix, lb, { ...EDGE_ADDRESSES, gatewayAnycast: EDGE.lbAnycast }, [], hostCpu(layout.hosts.length + gateways.length + i));
  for (const h of layout.hosts) await routeHostToGateways(prefix, h.id, EDGE_ADDRESSES);
  for (const gw of gateways) {
    const ns = hostNs(prefix, gw.id);
    const sync = paths(dataDir).conntrackd;
    await startConntrackd(sync, gw.id, ns, conntrackdConfig({ address: gw.underlay, ifname: UPLINK, dir: sync, name: gw.id, log: log(`conntrackd-${gw.id}`) }), log(`conntrackd-${gw.id}-out`));
  }

  // Gateways (100.64.1.x) and LB nodes (100.64.2.x) share the cluster AS; the routers accept both.
  const gatewayRange = networkOf(EDGE.gatewayUnderlayBase, 22);
  const transitRange = networkOf(EDGE.internetRouter, EDGE.transitPrefix);
  await startBird(dir, 'fabric', fabricNs(prefix), routerConfig({ routerId: EDGE.fabricRouter, asn: EDGE.routerAs, peers: gatewayRange, peerAs: EDGE.gatewayAs, ifname: FABRIC_BRIDGE, log: log('bird-fabric') }));
  await startBird(dir, 'inet', internetRouterNs(prefix), routerConfig({ routerId: EDGE.internetRouter, asn: EDGE.routerAs, peers: transitRange, peerAs: EDGE.gatewayAs, ifname: TRANSIT_BRIDGE, log: log('bird-inet') }));
  // A node's BIRD: one session to each router; what it announces on them, and the kernel table it learns public routes from.
  const nodeBird = (node: GatewayPlan, fabric: Pick<Session, 'announce' | 'prepend'>, internet: Pick<Session, 'announce'>, maxRank?: number) =>
    startBird(
      dir,
      node.id,
      hostNs(prefix, node.id),
      gatewayConfig({
        routerId: node.underlay,
        asn: EDGE.gatewayAs,
        peerAs: EDGE.routerAs,
        log: log(`bird-${node.id}`),
        ...(maxRank !== undefined ? { maxRank } : {}),
        sessions: [
          { name: 'fabric', local: node.underlay, neighbor: EDGE.fabricRouter, ifname: UPLINK, ...fabric },
          { name: 'internet', local: node.internet, neighbor: EDGE.internetRouter, ifname: GATEWAY_INTERNET_LINK, kernelTable: ANNOUNCE_TABLE, ...internet },
        ],
      }),
    );
  for (const [j, gw] of gateways.entries()) {
    // Node k's tunnel address: node k first, then k+1 … (this node's rank for it in extra AS hops), as for NAT EIPs.
    const prepend = Object.fromEntries(nodeAddresses.map((a, k) => [`${a}/32`, (j - k + gateways.length) % gateways.length]));
    await nodeBird(gw, { announce: [`${EDGE.gatewayAnycast}/32`, ...nodeAddresses.map((a) => `${a}/32`)], prepend }, { announce: pools }, gateways.length - 1);
  }
  // LB nodes: the cluster's tunnel address to the fabric; public VIPs to the internet from the kernel table the agent fills (metric 0: no rank).
  for (const lb of lbNodes) await nodeBird(lb, { announce: [`${EDGE.lbAnycast}/32`] }, { announce: [] });
  const end = Date.now() + timeoutMs;
  for (;;) {
    const carried = await Promise.all([
      ...(gateways.length ? [nextHops(fabricNs(prefix), `${EDGE.gatewayAnycast}/32`), ...pools.map((p) => nextHops(internetRouterNs(prefix), p))] : []),
    ]);
    const lbCarried = lbNodes.length ? await nextHops(fabricNs(prefix), `${EDGE.lbAnycast}/32`) : [];
    if (carried.every((n) => n.length === gateways.length) && lbCarried.length === lbNodes.length) return;
    if (Date.now() > end) {
      console.error(
        `weft up: after ${timeoutMs / 1000} s the routers reach the gateways over ${carried.map((n) => n.length).join('/')} of ${gateways.length} gateways, the LB cluster over ${lbCarried.length} of ${lbNodes.length} LB nodes; see ${dir} and the bird-*.log files`,
      );
      return;
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** The gateways (by next-hop address) a router's route to `prefix` goes through; [] when it has none. */
export async function nextHops(ns: string, prefix: string): Promise<string[]> {
  const routes = await ipJson<{ gateway?: string; nexthops?: { gateway?: string }[] }>(ns, ['route', 'show', prefix]).catch(() => []);
  return routes.flatMap((r) => (r.nexthops ? r.nexthops.flatMap((n) => (n.gateway ? [n.gateway] : [])) : r.gateway ? [r.gateway] : [])).sort();
}
