/**
 * The edge of a region in a box: the internet, the gateway nodes and the
 * routers between them, made of namespaces next to the fabric (fabric.ts).
 *
 *   <prefix>-fab       br0 also carries the fabric router 100.64.0.1: hosts
 *                      send to the gateway cluster's tunnel address through it
 *   <prefix>-gwN       a gateway: u0 on the fabric (its underlay address), i0 on
 *                      the transit network (198.19.255.1N), lo with the cluster's
 *                      tunnel address and the pools' gateway addresses
 *   <prefix>-inet      the internet router: br1 (transit, 198.19.255.1, one port
 *                      per gateway, named after it) and c0 towards the client
 *   <prefix>-internet  the internet client, 198.18.0.10 (`weft exec … internet`)
 *
 * Which gateways carry traffic is decided by BGP (region/bird.ts), not here:
 * this module only wires links and addresses. `setNodeLinks` takes a node off
 * the fabric (its ports on the fabric and transit bridges down) and back, for
 * failure drills; the node's own state stays as it was.
 */
import { ipBatch, ipJson, sysctlWrite } from './exec.js';
import { ensureHost, ensureNamespace } from './fabric.js';
import { FABRIC_BRIDGE, UPLINK, checkPrefix, fabricNs, fabricPortName, hostNs } from './names.js';
import { parseLinks } from './state.js';

export const TRANSIT_BRIDGE = 'br1';
/** The gateway's link to the transit network, inside its namespace. */
export const GATEWAY_INTERNET_LINK = 'i0';
export const internetRouterNs = (prefix: string) => `${checkPrefix(prefix)}-inet`;
export const internetClientNs = (prefix: string) => `${checkPrefix(prefix)}-internet`;

export interface EdgeAddresses {
  fabricRouter: string;
  underlayPrefix: number;
  gatewayAnycast: string;
  /** The block of the cluster's and the nodes' tunnel addresses. */
  gatewayBlock: string;
  /** The LB cluster's block (its tunnel address): hosts reach it through the fabric router too. */
  lbBlock?: string;
  internetRouter: string;
  transitPrefix: number;
  client: string;
  clientRouter: string;
  clientPrefix: number;
}

export interface GatewayNode {
  id: string;
  underlay: string;
  internet: string;
}

/** Routers forward and hash flows over ECMP next hops by their ports (one flow, one path). */
const ROUTER_SYSCTLS = ['net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv4.conf.all.send_redirects=0'];

const linksOf = async (ns: string) => parseLinks(await ipJson(ns, ['-d', 'link', 'show']));

/**
 * A veth from `aNs` (named `aName`, optionally a port of bridge `master`) to
 * `bNs` (named `bName`), both up; recreated when either end is missing.
 */
async function ensureVeth(aNs: string, aName: string, bNs: string, bName: string, master?: string): Promise<void> {
  const a = (await linksOf(aNs)).find((l) => l.name === aName);
  const b = (await linksOf(bNs)).find((l) => l.name === bName);
  if (!a || !b || a.kind !== 'veth' || b.kind !== 'veth') {
    if (a) await ipBatch(aNs, [`link del ${aName}`]);
    if (b) await ipBatch(bNs, [`link del ${bName}`]);
    await ipBatch(aNs, [`link add ${aName} type veth peer name ${bName} netns ${bNs}`]);
  }
  await ipBatch(aNs, [...(master ? [`link set ${aName} master ${master}`] : []), `link set ${aName} up`]);
  await ipBatch(bNs, ['link set lo up', `link set ${bName} up`]);
}

/** The internet router and client, and the fabric router on br0. Idempotent. */
export async function ensureInternet(prefix: string, a: EdgeAddresses): Promise<void> {
  const router = internetRouterNs(prefix);
  const client = internetClientNs(prefix);
  await ensureNamespace(router);
  await ensureNamespace(client);
  const br = (await linksOf(router)).find((l) => l.name === TRANSIT_BRIDGE);
  await ipBatch(router, [
    ...(br ? [] : [`link add ${TRANSIT_BRIDGE} type bridge`]),
    `link set ${TRANSIT_BRIDGE} up`,
    'link set lo up',
    `addr replace ${a.internetRouter}/${a.transitPrefix} dev ${TRANSIT_BRIDGE}`,
  ]);
  await ensureVeth(router, 'c0', client, 'e0');
  await ipBatch(router, [`addr replace ${a.clientRouter}/${a.clientPrefix} dev c0`]);
  await ipBatch(client, [`addr replace ${a.client}/${a.clientPrefix} dev e0`, `route replace default via ${a.clientRouter} dev e0`]);
  await sysctlWrite(router, ROUTER_SYSCTLS);
  const fab = fabricNs(prefix);
  await ipBatch(fab, [`addr replace ${a.fabricRouter}/${a.underlayPrefix} dev ${FABRIC_BRIDGE}`]);
  await sysctlWrite(fab, [...ROUTER_SYSCTLS, `net.ipv4.conf.${FABRIC_BRIDGE}.send_redirects=0`]);
}

/**
 * A gateway node: plugged into the fabric like a host (its underlay address
 * on u0) and into the transit network; the cluster's tunnel address and the
 * pools' gateway addresses on lo; the internet as its default route. Idempotent.
 */
export async function ensureGateway(prefix: string, gw: GatewayNode, a: EdgeAddresses, localAddresses: readonly string[], cpu = 0): Promise<void> {
  await ensureHost(prefix, gw.id, `${gw.underlay}/${a.underlayPrefix}`, cpu);
  const ns = hostNs(prefix, gw.id);
  await ensureVeth(internetRouterNs(prefix), fabricPortName(gw.id), ns, GATEWAY_INTERNET_LINK, TRANSIT_BRIDGE);
  await ipBatch(ns, [
    `addr replace ${gw.internet}/${a.transitPrefix} dev ${GATEWAY_INTERNET_LINK}`,
    ...[a.gatewayAnycast, ...localAddresses].map((ip) => `addr replace ${ip}/32 dev lo`),
    `route replace default via ${a.internetRouter} dev ${GATEWAY_INTERNET_LINK}`,
  ]);
  // Packets for the cluster's address arrive on u0 though it sits on lo: loose reverse-path checks there. Not on
  // the links to the VPC routers (no address: the kernel's check fails any source on them), hence not on `all`.
  await sysctlWrite(ns, ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', `net.ipv4.conf.${UPLINK}.rp_filter=2`]);
  // NAT sessions that move between nodes (conntrackd copies them) go on mid-window: no TCP window checks.
  await sysctlWrite(ns, ['net.netfilter.nf_conntrack_tcp_be_liberal=1']).catch(() => undefined);
}

/** A host sends to the gateway cluster's tunnel addresses (the cluster's, each node's) and the LB cluster's through the fabric router. Idempotent. */
export async function routeHostToGateways(prefix: string, hostId: string, a: EdgeAddresses): Promise<void> {
  await ipBatch(
    hostNs(prefix, hostId),
    [a.gatewayBlock, ...(a.lbBlock ? [a.lbBlock] : [])].map((block) => `route replace ${block} via ${a.fabricRouter} dev ${UPLINK}`),
  );
}

/** The bridge ports that plug a node in: its fabric port, and for a gateway its transit port too. */
function portsOf(prefix: string, node: string, gateway: boolean): { ns: string; link: string }[] {
  const ports = [{ ns: fabricNs(prefix), link: fabricPortName(node) }];
  if (gateway) ports.push({ ns: internetRouterNs(prefix), link: fabricPortName(node) });
  return ports;
}

/** Takes a node off the fabric (`up` false: its ports down, as when a switch port or its power fails) or back. */
export async function setNodeLinks(prefix: string, node: string, gateway: boolean, up: boolean): Promise<void> {
  for (const p of portsOf(prefix, node, gateway)) await ipBatch(p.ns, [`link set ${p.link} ${up ? 'up' : 'down'}`]);
}

/** Whether every port of the node is up (false: missing or down). */
export async function nodeLinksUp(prefix: string, node: string, gateway: boolean): Promise<boolean> {
  for (const p of portsOf(prefix, node, gateway)) {
    const link = (await linksOf(p.ns).catch(() => [])).find((l) => l.name === p.link);
    if (!link?.up) return false;
  }
  return true;
}
