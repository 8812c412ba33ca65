/**
 * The routing decision of a VPC's router (distributed routing: the host the
 * packet enters on routes it). Linux, in the router namespace:
 *   local table  each local subnet's gateway on `lo` → the router answers itself
 *                (input path: no forward hook, so no security group or ACL is consulted);
 *   main table   `ip/32 dev <port>` per local instance,
 *                `ip/32 via ip dev vx<vni> onlink` per instance on another host —
 *                these always win (user routes never overlap the VPC's CIDR);
 *   route table  otherwise, the table chosen by where the packet entered
 *                (tables.ts: a port's subnet's table; from the tunnel, the in
 *                view of the source's subnet's table; from a peering link, none),
 *                longest prefix first:
 *                  instance route, one next hop → that instance: a local port
 *                    (delivered to it as the next hop) or a remote (the tunnel);
 *                  several next hops (ECMP) → one member by 5-tuple hash;
 *                  no next hop up → blackhole (no fallback to a shorter route);
 *                  peering route → the peer VPC's router on this host, over the link;
 *                  NAT route → over the tunnel to the node carrying the VPC's NAT
 *                    (VpcContext.ownerGateway; without it the kernel holds a blackhole);
 *   public table  (rule 40010, after the route tables': a table's route wins) a
 *                 port with an EIP: default over the tunnel to the gateway cluster
 *                 (VpcContext.publicGateway), for what no table routed;
 *   nothing else: no default route, so any other address is unreachable (and
 *   within the instance's own subnet proxy ARP does not answer for it).
 * Forwarding decrements the TTL; a packet that arrives with TTL 1 is dropped.
 */
import type { NextHop, TableRoute } from '../../contract/host-document.js';
import { containsIp, parseCidr, parseIp } from '../../core/cidr.js';
import { OWNER_GATEWAY, PUBLIC_GATEWAY, PUBLIC_RULE_PRIORITY } from '../../dataplane/linux/route-tables.js';
import { ecmpHash, longestMatch, tableFor, type TableChoice } from '../tables.js';
import { returnRoute, vipRoute } from './load-balancer.js';
import type { Router } from '../world.js';
import { hop, next, type Outcome, type Route, type Stage, type Transit } from './stage.js';

export interface RouteDetail {
  destination: string;
  /**
   * local: an address of the router itself; port: a local instance (the
   * destination, or a next hop); tunnel: an instance on another host; peering:
   * the peer VPC's router; gateway: over the tunnel to the gateways (an EIP's
   * public table, or a NAT route); lb: over the tunnel to the LB nodes (an
   * internal VIP, or the reply of a balanced flow back to its node);
   * blackhole: a route whose next hops are all down; none: no route.
   */
  kind: 'local' | 'port' | 'tunnel' | 'peering' | 'gateway' | 'lb' | 'blackhole' | 'none';
  /** The route as `ip route` would show it. */
  route?: string;
  /** The instance the packet goes to (the destination, or the next hop). */
  instanceId?: string;
  /** For a tunnel route: the host the instance is on. */
  hostId?: string;
  /** Set when the main table had no /32 for the destination and a route table was (or could not be) consulted. */
  table?: TableDetail;
}

export interface TableDetail {
  /** subnet: the table of the source port's subnet; tunnel: the tunnel-side view of the source's subnet's table; none: no table applies. */
  view: TableChoice['view'];
  routeTableId?: string;
  /** The subnet whose table it is. */
  subnetId?: string;
  /** The route that matched (longest prefix). */
  matched?: { destination: string; kind: TableRoute['kind']; routeIds: string[] };
  /** Instance route: every next hop of the route in this view (sorted by address). */
  nextHops?: NextHop[];
  /** The next hop taken. */
  nextHop?: NextHop;
  /** ECMP (two next hops or more): the tracer's hash, the member index taken, and what that means on the kernel. */
  ecmp?: { hash: number; index: number; note: string };
  /** Peering route. */
  peeringId?: string;
  peerVpcId?: string;
  /** NAT route. */
  natGatewayId?: string;
}

const vxName = (r: Router) => `vx${r.vpc.vni}`;

function sameSubnet(t: Transit): boolean {
  if (t.ingress.kind !== 'port') return false;
  const c = t.router.subnets.get(t.ingress.port.subnetId)?.cidr;
  const d = parseIp(t.packet.dst);
  return !!c && d !== undefined && containsIp(c, d);
}

const drop = (t: Transit, code: 'no-route' | 'blackhole' | 'ttl-exceeded' | 'peering-no-link', reason: string, detail: RouteDetail): Outcome => ({
  hop: hop(t, 'route', 'drop', reason, detail),
  end: { verdict: 'dropped', code, reason },
});

const ECMP_NOTE =
  'the tracer picks by its own 5-tuple hash (FNV-1a); the kernel hashes with its own function, so on Linux this flow may take another member — reachability counts a flow only when every member delivers it';

export const routing: Stage = {
  name: 'route',
  run(t) {
    const r = t.router;
    const dst = t.packet.dst;
    const at = `${r.hostId} (${r.vpc.vpcId})`;
    const gw = r.gateways.get(dst);
    if (gw) {
      t.route = { kind: 'local', subnet: gw };
      const detail: RouteDetail = { destination: dst, kind: 'local', route: `local ${dst} dev lo` };
      const what =
        t.packet.protocol === 'icmp'
          ? 'answers the echo itself'
          : `has no ${t.packet.protocol} service there (${t.packet.protocol === 'tcp' ? 'TCP reset' : 'ICMP port unreachable'})`;
      const reason = `${dst} is the gateway of ${gw.subnetId} (${gw.cidr}), an address of the router on ${at}: the router ${what}; local traffic takes the input path, where no security group or network ACL applies`;
      return { hop: hop(t, 'route', 'answer', reason, detail), end: { verdict: 'answered', code: 'router-address', reason, hostId: r.hostId } };
    }
    // A reply of a flow an LB node sent here goes back to that node, before the main table.
    const back = returnRoute(t, (t, reason, detail) => drop(t, 'no-route', reason, detail));
    if (back) return back;
    const port = r.ports.get(dst);
    const remote = port ? undefined : r.remotes.get(dst);
    if (!port && !remote) return vipRoute(t, ttlExceeded) ?? byTable(t);
    if (t.packet.ttl <= 1) return ttlExceeded(t, { destination: dst, kind: port ? 'port' : 'tunnel' });
    if (port) {
      t.route = { kind: 'port', port };
      const detail: RouteDetail = { destination: dst, kind: 'port', route: `${dst}/32 dev ${port.ifname}`, instanceId: port.instanceId };
      return next(hop(t, 'route', 'forward', `route ${dst}/32 dev ${port.ifname}: ${port.instanceId}, a local instance on ${r.hostId}`, detail));
    }
    t.route = { kind: 'tunnel', remote: remote! };
    const detail: RouteDetail = {
      destination: dst,
      kind: 'tunnel',
      route: `${dst}/32 via ${dst} dev ${vxName(r)} onlink`,
      instanceId: remote!.instanceId,
      hostId: remote!.hostId,
    };
    return next(hop(t, 'route', 'forward', `route ${dst}/32 via ${vxName(r)}: ${remote!.instanceId} is on host ${remote!.hostId}`, detail));
  },
};

function ttlExceeded(t: Transit, detail: RouteDetail): Outcome {
  const reason = `TTL exceeded on ${t.router.hostId} (${t.router.vpc.vpcId}): the packet arrived with TTL ${t.packet.ttl} and cannot be forwarded`;
  return drop(t, 'ttl-exceeded', reason, detail);
}

/** No /32 in the main table: the route table chosen by where the packet entered decides. */
function byTable(t: Transit): Outcome {
  const r = t.router;
  const dst = t.packet.dst;
  const at = `${r.hostId} (${r.vpc.vpcId})`;
  const choice = tableFor(r, t.ingress, parseIp(t.packet.src) ?? 0);
  const table: TableDetail = { view: choice.view, ...(choice.routeTableId ? { routeTableId: choice.routeTableId } : {}), ...(choice.subnetId ? { subnetId: choice.subnetId } : {}) };
  const vpcCidr = r.vpc.cidr === undefined ? undefined : parseCidr(r.vpc.cidr);
  // Every table's LOCAL route (the VPC's CIDR) is longer than any user route that contains it (0.0.0.0/0):
  // an address of the VPC that no instance has goes nowhere, whatever else the table says.
  const local = !!vpcCidr && containsIp(vpcCidr, parseIp(dst)!);
  const hit = !local && choice.routes && longestMatch(choice.routes, parseIp(dst)!);
  if (local && choice.routes) {
    const reason = `no route to ${dst} on ${at}: it is in ${r.vpc.vpcId}'s CIDR ${r.vpc.cidr}, which the LOCAL route of ${choice.text} keeps inside the VPC, and no instance has it — host unreachable`;
    return drop(t, 'no-route', reason, { destination: dst, kind: 'none', table });
  }
  if (!hit) {
    const pub = !local && publicRoute(t, table, choice.routes ? `${choice.text} has no route for ${dst}` : choice.text);
    if (pub) return pub;
    const arp = sameSubnet(t) ? ` (in ${t.ingress.kind === 'port' ? t.ingress.port.subnetId : 'the subnet'}: proxy ARP does not answer for it)` : '';
    const consulted = choice.routes ? `nor does ${choice.text} have a route for it` : `and ${choice.text}`;
    // Outside the VPC, say what would have led out: an EIP (the public table) or a route to a NAT gateway.
    const out =
      !local && t.ingress.kind === 'port' && !arp
        ? ` (to reach the internet ${t.ingress.port.instanceId} needs an EIP${t.ingress.port.publicIp ? ` — it has ${t.ingress.port.publicIp}, but ${r.hostId}'s document names no gateway cluster` : ''} or a route of its table to a NAT gateway)`
        : '';
    const reason = `no route to ${dst} on ${at}${arp}: no instance of ${r.vpc.vpcId} has this address here or on another host, ${consulted}; the router has no default route — host unreachable${out}`;
    return drop(t, 'no-route', reason, { destination: dst, kind: 'none', table });
  }
  const route = hit.route;
  table.matched = { destination: route.destination, kind: route.kind, routeIds: [...route.routeIds] };
  const which = `route ${route.destination} (${route.routeIds.join(', ') || 'no ID'}) of ${choice.text}`;

  if (route.kind === 'peering') {
    table.peeringId = route.peeringId;
    table.peerVpcId = route.peerVpcId;
    const link = r.peerings.get(route.peeringId);
    const peer = t.world.routers.get(r.hostId)?.get(route.peerVpcId);
    const peerLink = peer?.peerings.get(route.peeringId);
    const detail: RouteDetail = { destination: dst, kind: 'peering', table };
    if (!link || !peer || !peerLink) {
      const missing = !link
        ? `${r.vpc.vpcId}'s router has no link for ${route.peeringId}`
        : !peer
          ? `${r.hostId} has no router for ${route.peerVpcId}`
          : `${route.peerVpcId}'s router on ${r.hostId} has no end of ${route.peeringId}`;
      return drop(t, 'peering-no-link', `${which} sends ${dst} to peer ${route.peerVpcId} over ${route.peeringId}, but ${missing} (documents out of step); dropped`, detail);
    }
    if (t.packet.ttl <= 1) return ttlExceeded(t, detail);
    detail.route = `${route.destination} dev ${link.ifname}`;
    t.route = { kind: 'peering', link, peer, peerLink };
    return next(hop(t, 'route', 'forward', `${which}: to ${route.peerVpcId}'s router on ${r.hostId} over peering ${route.peeringId} (link ${link.ifname})`, detail));
  }

  if (route.kind === 'nat') return natRoute(t, route, which, table);
  if (route.kind === 'eip') return eipRoute(t, route, which, table);
  const hops = route.nextHops;
  table.nextHops = hops.map((h) => ({ ...h }));
  if (!hops.length) {
    const reason = `${which} is a blackhole on ${at}: none of its next hops is up (stopped, deleted or not placed), and a route whose next hops are down does not fall back to a shorter one; dropped`;
    return drop(t, 'blackhole', reason, { destination: dst, kind: 'blackhole', table });
  }
  let index = 0;
  let ecmp = '';
  if (hops.length > 1) {
    const hash = ecmpHash(t.packet);
    index = t.choose(hops.length, hash % hops.length);
    table.ecmp = { hash, index, note: ECMP_NOTE };
    const members = hops.map((h) => `${h.ip} (${h.instanceId})`).join(', ');
    ecmp = ` — ECMP over ${members}: takes member ${index + 1} of ${hops.length} by the tracer's hash (the kernel's own hash may take another)`;
  }
  const nh = hops[index]!;
  table.nextHop = { ...nh };
  const nhPort = r.ports.get(nh.ip);
  const nhRemote = nhPort ? undefined : r.remotes.get(nh.ip);
  const gateways = hops.map((h) => `via ${h.ip}`).join(' ');
  if (!nhPort && !nhRemote) {
    const reason = `${which} has next hop ${nh.ip} (${nh.instanceId}), which is neither a local port nor a known instance on another host here (documents out of step); no route`;
    return drop(t, 'no-route', reason, { destination: dst, kind: 'none', table });
  }
  if (t.packet.ttl <= 1) return ttlExceeded(t, { destination: dst, kind: nhPort ? 'port' : 'tunnel', table });
  let chosen: Route;
  let detail: RouteDetail;
  let where: string;
  if (nhPort) {
    chosen = { kind: 'port', port: nhPort, nextHopFor: route.destination };
    detail = { destination: dst, kind: 'port', route: `${route.destination} ${gateways} dev ${nhPort.ifname}`, instanceId: nhPort.instanceId, table };
    where = `next hop ${nh.ip} (${nh.instanceId}), a local instance on ${r.hostId}`;
  } else {
    chosen = { kind: 'tunnel', remote: nhRemote! };
    detail = { destination: dst, kind: 'tunnel', route: `${route.destination} ${gateways} dev ${vxName(r)} onlink`, instanceId: nhRemote!.instanceId, hostId: nhRemote!.hostId, table };
    where = `next hop ${nh.ip} (${nh.instanceId}) is on host ${nhRemote!.hostId}, through ${vxName(r)}`;
  }
  t.route = chosen;
  return next(hop(t, 'route', 'forward', `${which}: ${where}${ecmp}`, detail));
}

/**
 * A route to a NAT gateway: over the VPC's tunnel to the node that carries
 * the VPC's NAT traffic (route-tables.ts: `via OWNER_GATEWAY dev vx<vni>
 * onlink`, a permanent neighbour to the NAT MAC). A document without
 * `ownerGateway` gets a blackhole from the driver: no node to send to.
 */
/** A route of GatewayType EIP: over the tunnel to the gateway cluster, where the sender's EIP (if it has one) is its source. */
function eipRoute(t: Transit, route: Extract<TableRoute, { kind: 'eip' }>, which: string, table: TableDetail): Outcome {
  const r = t.router;
  const dst = t.packet.dst;
  const g = r.vpc.publicGateway;
  if (!g) {
    const reason = `${which} sends ${dst} to the internet by the sender's public IP (EIP), but ${r.hostId}'s document names no gateway cluster (no gateway node in the region): the route is a blackhole; dropped`;
    return drop(t, 'blackhole', reason, { destination: dst, kind: 'blackhole', table });
  }
  const detail: RouteDetail = { destination: dst, kind: 'gateway', route: `${route.destination} via ${PUBLIC_GATEWAY} dev ${vxName(r)} onlink`, table };
  if (t.packet.ttl <= 1) return ttlExceeded(t, detail);
  t.route = { kind: 'gateway', via: 'eip', underlay: g.underlay, routerMac: g.routerMac };
  return next(hop(t, 'route', 'forward', `${which}: to the internet by the sender's EIP, over ${vxName(r)} to the gateway cluster at ${g.underlay}`, detail));
}

function natRoute(t: Transit, route: Extract<TableRoute, { kind: 'nat' }>, which: string, table: TableDetail): Outcome {
  const r = t.router;
  const dst = t.packet.dst;
  table.natGatewayId = route.natGatewayId;
  const g = r.vpc.ownerGateway;
  if (!g) {
    const reason = `${which} sends ${dst} to NAT gateway ${route.natGatewayId}, but ${r.hostId}'s document names no node carrying ${r.vpc.vpcId}'s NAT traffic (no gateway node in the region): the route is a blackhole; dropped`;
    return drop(t, 'blackhole', reason, { destination: dst, kind: 'blackhole', table });
  }
  const detail: RouteDetail = { destination: dst, kind: 'gateway', route: `${route.destination} via ${OWNER_GATEWAY} dev ${vxName(r)} onlink`, table };
  if (t.packet.ttl <= 1) return ttlExceeded(t, detail);
  t.route = { kind: 'gateway', via: 'nat', underlay: g.underlay, routerMac: g.routerMac, natGatewayId: route.natGatewayId };
  return next(hop(t, 'route', 'forward', `${which}: to NAT gateway ${route.natGatewayId}, over ${vxName(r)} to the node carrying ${r.vpc.vpcId}'s NAT at ${g.underlay}`, detail));
}

/**
 * What no route table routed, from a port with an EIP: rule
 * PUBLIC_RULE_PRIORITY (after the tables' rules) sends it to the public
 * table, whose default route goes over the tunnel to the gateway cluster.
 */
function publicRoute(t: Transit, table: TableDetail, unrouted: string): Outcome | undefined {
  const r = t.router;
  const g = r.vpc.publicGateway;
  if (t.ingress.kind !== 'port' || !t.ingress.port.publicIp || !g) return undefined;
  const port = t.ingress.port;
  const owner = r.vpc.ownerGateway;
  if (port.publicPinned && owner) {
    // A small limit: the owner table sends it to the VPC's owner node, which enforces all of the limit.
    const detail: RouteDetail = { destination: t.packet.dst, kind: 'gateway', route: `default via ${OWNER_GATEWAY} dev ${vxName(r)} onlink (owner table)`, table };
    if (t.packet.ttl <= 1) return ttlExceeded(t, detail);
    t.route = { kind: 'gateway', via: 'nat', underlay: owner.underlay, routerMac: owner.routerMac };
    const summary = `${unrouted}; ${port.instanceId} has EIP ${port.publicIp} with a small limit, pinned: rule ${PUBLIC_RULE_PRIORITY} (iif ${port.ifname}) takes the owner table: default via ${OWNER_GATEWAY} dev ${vxName(r)}, to ${r.vpc.vpcId}'s owner node at ${owner.underlay}`;
    return next(hop(t, 'route', 'forward', summary, detail));
  }
  const detail: RouteDetail = { destination: t.packet.dst, kind: 'gateway', route: `default via ${PUBLIC_GATEWAY} dev ${vxName(r)} onlink (public table)`, table };
  if (t.packet.ttl <= 1) return ttlExceeded(t, detail);
  t.route = { kind: 'gateway', via: 'eip', underlay: g.underlay, routerMac: g.routerMac };
  const summary = `${unrouted}; ${port.instanceId} has EIP ${port.publicIp}, so rule ${PUBLIC_RULE_PRIORITY} (iif ${port.ifname}) takes the public table: default via ${PUBLIC_GATEWAY} dev ${vxName(r)}, to the gateway cluster at ${g.underlay}`;
  return next(hop(t, 'route', 'forward', summary, detail));
}
