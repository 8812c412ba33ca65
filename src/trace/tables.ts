/**
 * Which route table a packet is routed by when the main table has no /32 for
 * its destination, and the lookup in it. Pure; used by the route stage and by
 * the reachability matrix (to know when a table could decide a cell).
 *
 * The table depends on where the packet entered the router (the kernel's
 * policy routing rules by input interface and source):
 *   - from a local port: the table of the port's subnet;
 *   - from the tunnel: the "in" view (world.ts TunnelView) of the table of the
 *     subnet whose CIDR holds the packet's SOURCE address; a source in no
 *     subnet of the VPC has no table;
 *   - from a peering link: no table at all (instance routes only), which is
 *     what makes peering non-transitive.
 */
import { containsIp } from '../core/cidr.js';
import type { Packet } from './model.js';
import type { Ingress } from './stages/stage.js';
import type { RouteEntry, Router } from './world.js';

export interface TableChoice {
  /** subnet: the table of the port's subnet; tunnel: the in view of the source's subnet's table; none: no table applies. */
  view: 'subnet' | 'tunnel' | 'none';
  routeTableId?: string;
  /** The subnet whose table it is. */
  subnetId?: string;
  /** Absent: no table. */
  routes?: RouteEntry[];
  /** The choice in words: `rtb-x (the table of subnet-a, where ins-a1's port is)`. */
  text: string;
}

export function tableFor(router: Router, ingress: Ingress, src: number): TableChoice {
  if (ingress.kind === 'port') {
    const subnetId = ingress.port.subnetId;
    const id = router.subnets.get(subnetId)?.subnet.routeTableId;
    const t = id === undefined ? undefined : router.tables.get(id);
    if (!t) return { view: 'none', subnetId, text: `no route table (${subnetId}, where ${ingress.port.instanceId}'s port is, is associated with none in the document)` };
    return { view: 'subnet', routeTableId: id, subnetId, routes: t.routes, text: `${id} (the table of ${subnetId}, where ${ingress.port.instanceId}'s port is)` };
  }
  if (ingress.kind === 'peering')
    return { view: 'none', text: `no route table: the packet came over peering link ${ingress.link.peeringId}, and such a packet is routed by instance routes only (peering is not transitive)` };
  const v = router.tunnelViews.find((x) => containsIp(x.cidr, src));
  if (!v) return { view: 'none', text: `no route table: the packet came from the tunnel and its source is in no subnet of ${router.vpc.vpcId} associated with a table` };
  return {
    view: 'tunnel',
    routeTableId: v.table.routeTableId,
    subnetId: v.subnetId,
    routes: v.routes,
    text: `the tunnel-side view of ${v.table.routeTableId} (the table of ${v.subnetId}, ${v.subnetCidr}, which holds the source; only routes with a next hop on this host)`,
  };
}

/** Longest-prefix match: the routes are longest prefix first. */
export const longestMatch = (routes: readonly RouteEntry[], ip: number): RouteEntry | undefined => routes.find((e) => containsIp(e.cidr, ip));

/** Whether any table or tunnel view of the router has a route containing the address. */
export function anyTableRoute(router: Router, ip: number): boolean {
  for (const t of router.tables.values()) if (longestMatch(t.routes, ip)) return true;
  return router.tunnelViews.some((v) => longestMatch(v.routes, ip) !== undefined);
}

/**
 * One node of a cluster that all announce an address, as a router's ECMP
 * picks it: by the tracer's hash (`choose` may take another member), with the
 * choice in words — `the <router>'s ECMP over the <what> a, b chooses; the
 * tracer takes b (member 2 of 2 by its hash; <alike>)`, or `a, the only <one>`.
 * `ecmp` only with two members or more. `nodes` must not be empty.
 */
export function pickNode(
  nodes: readonly string[],
  p: Packet,
  choose: (members: number, hashed: number) => number,
  words: { router: string; what: string; one: string; alike: string; note: string },
): { node: string; why: string; ecmp?: { hash: number; index: number; note: string } } {
  const hash = ecmpHash(p);
  const index = choose(nodes.length, hash % nodes.length);
  const node = nodes[index]!;
  if (nodes.length < 2) return { node, why: `${node}, the only ${words.one}` };
  const why = `the ${words.router}'s ECMP over the ${words.what} ${nodes.join(', ')} chooses; the tracer takes ${node} (member ${index + 1} of ${nodes.length} by its hash; ${words.alike})`;
  return { node, why, ecmp: { hash, index, note: words.note } };
}

/**
 * The tracer's ECMP hash: FNV-1a (32 bit) over the 5-tuple
 * `protocol|src|dst|srcPort|dstPort` (ports empty for ICMP). Deterministic,
 * so one query always takes one member; the kernel hashes with its own
 * function and seed, so on Linux the flow may take another member.
 */
export function ecmpHash(p: Packet): number {
  const text = `${p.protocol}|${p.src}|${p.dst}|${p.srcPort ?? ''}|${p.dstPort ?? ''}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
