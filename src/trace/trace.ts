/**
 * The packet tracer: what happens to one packet, hop by hop, over the host
 * documents the Linux driver applies (the "sim" data plane). Pure: documents
 * and a question in, a TraceResult out.
 *
 * The packet starts at the source instance's port on its host, in its VPC's
 * router (so overlapping VPC CIDRs never meet: the VPC is the source's). At
 * each router it crosses, ROUTER_STAGES run in the kernel's order: prerouting
 * anti-spoofing, the routing decision, the forward hook's egress and ingress
 * security-group chains, then out by the tunnel (to the next host's router)
 * or into the destination port. Replies of an accepted request are traced
 * with conntrack: on every router the request was forwarded by, the reply is
 * `ct state established` and passes before any security group.
 *
 * Outside the VPC the packet goes to the gateways (a port's EIP, a route to a
 * NAT gateway): on a gateway node's router GATEWAY_STAGES run instead, which
 * translate it and send it out to the internet (verdict forwarded). A trace
 * may also start on the internet (`from` an address, `to` a public one):
 * internet.ts finds the node that takes it. NAT sessions the request makes
 * are what its reply meets.
 *
 * A VIP of a load balancer (an internal one from an instance of its VPC, a
 * public one from the internet) leads to an LB node, whose router runs
 * LB_STAGES: the listener's Maglev table picks the backend, and the flow goes
 * on to it over the tunnel. Its reply comes back to the same node (the
 * backend's host marks the flow by the node's MAC) and is translated back
 * there (stages/load-balancer.ts).
 */
import type { HostDocument, Port } from '../contract/host-document.js';
import { parseIp } from '../core/cidr.js';
import { L4_PROTOCOLS, TraceError, type Ending, type Endpoint, type Hop, type Packet, type TraceQuery, type TraceResult } from './model.js';
import type { NatSession } from './gateways.js';
import { fromInternet } from './internet.js';
import { eipTranslation, gatewayRouting, internetExit, nodeNat } from './stages/gateway.js';
import { gatewayTunnel } from './stages/gateway-tunnel.js';
import type { LbSession } from './load-balancers.js';
import { lbBalance, lbRouting, lbTunnel, type LbDetail } from './stages/load-balancer.js';
import { aclEgress, aclIngress } from './stages/network-acl.js';
import { peeringLink } from './stages/peering.js';
import { antiSpoofing, delivery } from './stages/port.js';
import { routing } from './stages/route.js';
import { egressSecurityGroups, ingressSecurityGroups } from './stages/security-group.js';
import { describePacket, type Chooser, type Ingress, type Stage, type Transit } from './stages/stage.js';
import { tunnel } from './stages/tunnel.js';
import { buildWorld, routerKey, type Router, type World } from './world.js';

/** The stages a packet meets in each router, in the kernel's order. */
export const ROUTER_STAGES: readonly Stage[] = [
  antiSpoofing,
  routing,
  aclEgress,
  aclIngress,
  egressSecurityGroups,
  ingressSecurityGroups,
  tunnel,
  gatewayTunnel,
  lbTunnel,
  peeringLink,
  delivery,
];

/** The stages of a VPC's router on a gateway node (no ports: tunnel on one side, the node's namespace on the other). */
export const GATEWAY_STAGES: readonly Stage[] = [eipTranslation, gatewayRouting, nodeNat, tunnel, internetExit];

/** The stages of a VPC's router on an LB node (no ports: the tunnel, and for public VIPs the node's namespace). */
export const LB_STAGES: readonly Stage[] = [lbBalance, lbRouting, tunnel, internetExit];

const stagesOf = (router: Router, stages: readonly Stage[]) =>
  router.host.role === 'gateway' ? GATEWAY_STAGES : router.host.role === 'lb' ? LB_STAGES : stages;

/** A trace takes the ECMP member the tracer's hash picks. */
const byHash: Chooser = (_members, hashed) => hashed;

/** At most this many ECMP paths are walked for one flow (each decision point multiplies them). */
export const MAX_PATHS = 64;

export const DEFAULT_SOURCE_PORT = 49152;
const INITIAL_TTL = 64;

const INSTANCE_ID = /^ins-[0-9a-z]+$/;

interface Walk {
  hops: Hop[];
  end: Ending;
  /** The router where it ended (none: it ended on the internet, before any router). */
  endedAt?: Router;
  /** Routers that forwarded the packet: they hold its conntrack entry. */
  forwardedBy: Set<string>;
  /** The packet as it last was (translated by the gateways it crossed). */
  packet: Packet;
}

/** Runs the packet through routers until a stage ends it. `sessions`: the flow's NAT sessions, which translations add to. */
function walk(
  world: World,
  packet: Packet,
  start: Router,
  ingress: Ingress,
  established: ReadonlySet<string>,
  stages: readonly Stage[],
  choose: Chooser,
  sessions: NatSession[],
  lbSessions: LbSession[],
): Walk {
  const hops: Hop[] = [];
  const forwardedBy = new Set<string>();
  let at = { router: start, ingress, packet };
  // Each router that forwards decrements the TTL, which ends any loop; the bound is a safety net.
  for (let visits = 0; visits <= INITIAL_TTL; visits++) {
    const t: Transit = { world, packet: at.packet, router: at.router, ingress: at.ingress, established: established.has(routerKey(at.router)), choose, sessions, lbSessions };
    let moved = false;
    for (const stage of stagesOf(at.router, stages)) {
      const out = stage.run(t);
      if (out.hop) hops.push(out.hop);
      if ('rewrite' in out) {
        t.packet = out.rewrite;
        continue;
      }
      if ('end' in out) {
        if (out.end.verdict === 'delivered' || out.end.verdict === 'forwarded') forwardedBy.add(routerKey(at.router));
        return { hops, end: out.end, endedAt: at.router, forwardedBy, packet: t.packet };
      }
      if ('to' in out) {
        forwardedBy.add(routerKey(at.router));
        at = { router: out.to.router, ingress: out.to.ingress, packet: { ...t.packet, ttl: t.packet.ttl - 1 } };
        moved = true;
        break;
      }
    }
    if (!moved) throw new Error(`no stage decided the fate of ${describePacket(at.packet)} on ${routerKey(at.router)}`);
  }
  throw new Error(`${describePacket(packet)} did not end after ${INITIAL_TTL} routers`);
}

/** A packet from the internet: the gateway node that takes it (internet.ts), then the routers from there. */
function walkFromInternet(world: World, packet: Packet, established: ReadonlySet<string>, choose: Chooser, sessions: NatSession[], lbSessions: LbSession[]): Walk & { vpcId?: string } {
  const entry = fromInternet(world, packet, choose, sessions);
  if (!entry.to) return { hops: entry.hops, end: entry.end!, forwardedBy: new Set(), packet, vpcId: entry.vpcId };
  const w = walk(world, entry.to.packet, entry.to.router, entry.to.ingress, established, ROUTER_STAGES, choose, sessions, lbSessions);
  return { ...w, hops: [...entry.hops, ...w.hops], vpcId: entry.vpcId };
}

function checkQuery(q: TraceQuery) {
  if (!L4_PROTOCOLS.includes(q.protocol)) throw new TraceError('bad-query', `protocol \`${String(q.protocol)}\` is not one of ${L4_PROTOCOLS.join(', ')}`);
  const portOk = (p: number | undefined) => p === undefined || (Number.isInteger(p) && p >= 1 && p <= 65535);
  if (q.protocol === 'icmp') {
    if (q.port !== undefined) throw new TraceError('bad-query', 'icmp has no port; leave the port out');
  } else if (q.port === undefined) throw new TraceError('bad-query', `${q.protocol} needs a destination port (1-65535)`);
  if (!portOk(q.port)) throw new TraceError('bad-query', `port ${q.port} is outside 1-65535`);
  if (!portOk(q.sourcePort)) throw new TraceError('bad-query', `source port ${q.sourcePort} is outside 1-65535`);
  if (q.sourceIp !== undefined && parseIp(q.sourceIp) === undefined) throw new TraceError('bad-address', `source address \`${q.sourceIp}\` is not an IPv4 address`);
}

const endpointOf = (router: Router, port: { instanceId: string; ip: string; subnetId: string }): Endpoint => ({
  instanceId: port.instanceId,
  hostId: router.hostId,
  vpcId: router.vpc.vpcId,
  ip: port.ip,
  subnetId: port.subnetId,
});

const worldOf = (region: World | readonly HostDocument[]): World => (Array.isArray(region) ? buildWorld(region as readonly HostDocument[]) : (region as World));

/** Traces one packet (and, with `reply`, its reply). Accepts the documents or a world built from them. */
export function trace(region: World | readonly HostDocument[], q: TraceQuery): TraceResult {
  return traceWith(worldOf(region), q, byHash);
}

/**
 * The request traced once per ECMP path: every combination of members at the
 * ECMP routes it meets (in member order, at most MAX_PATHS), the reply left
 * out. A flow without ECMP has one path, equal to `trace` without reply.
 */
export function traceEveryPath(region: World | readonly HostDocument[], q: TraceQuery): TraceResult[] {
  const world = worldOf(region);
  const query = { ...q, reply: false };
  const out: TraceResult[] = [];
  let forced: number[] = [];
  for (;;) {
    const counts: number[] = [];
    const taken: number[] = [];
    const choose: Chooser = (members) => {
      const i = counts.length;
      counts.push(members);
      taken.push(Math.min(forced[i] ?? 0, members - 1));
      return taken[i]!;
    };
    out.push(traceWith(world, query, choose));
    // The next combination: advance the last decision point that has a member left, forget those after it.
    let i = counts.length - 1;
    while (i >= 0 && taken[i]! + 1 >= counts[i]!) i--;
    if (i < 0 || out.length >= MAX_PATHS) return out;
    forced = [...taken.slice(0, i), taken[i]! + 1];
  }
}

function traceWith(world: World, q: TraceQuery, choose: Chooser): TraceResult {
  checkQuery(q);
  if (!INSTANCE_ID.test(q.from) && parseIp(q.from) !== undefined) return traceFromInternet(world, q, choose);
  const src = world.instances.get(q.from);
  if (!src) throw new TraceError('not-placed', `${q.from} has no port on any host: unknown, or not placed yet`);
  const source = endpointOf(src.router, src.port);

  let destination: TraceResult['destination'];
  if (INSTANCE_ID.test(q.to)) {
    const dst = world.instances.get(q.to);
    if (!dst) throw new TraceError('unknown-instance', `${q.to} has no port on any host: unknown, or not placed yet`);
    destination = { ip: dst.port.ip, instanceId: q.to };
    if (dst.router.vpc.vpcId !== source.vpcId)
      destination.note = `${q.to} is in ${dst.router.vpc.vpcId}, not in ${source.vpcId}: VPCs are isolated, so its address ${dst.port.ip} is looked up in ${source.vpcId} (only a peering route of ${source.vpcId} leads into another VPC)`;
  } else {
    if (parseIp(q.to) === undefined) throw new TraceError('bad-address', `\`${q.to}\` is neither an instance ID (ins-…) nor an IPv4 address`);
    destination = { ip: q.to };
  }

  const packet = packetOf(q, q.sourceIp ?? src.port.ip, destination.ip);
  const base = { query: q, direction: 'request' as const, source, destination, packet };

  if (packet.dst === src.port.ip && packet.src === src.port.ip) {
    const reason = `${packet.dst} is ${q.from}'s own address: the packet goes over its loopback and never reaches the router`;
    const hop: Hop = { stage: 'instance', hostId: source.hostId, vpcId: source.vpcId, result: 'deliver', summary: reason, detail: { instanceId: q.from } };
    return { ...base, hops: [hop], verdict: 'delivered', code: 'loopback', reason, deliveredTo: { instanceId: q.from, hostId: source.hostId } };
  }

  const sessions: NatSession[] = [];
  const lbSessions: LbSession[] = [];
  const request = walk(world, packet, src.router, { kind: 'port', port: src.port }, new Set(), ROUTER_STAGES, choose, sessions, lbSessions);
  const result = resultOf(base, request);
  if (q.reply) traceReply(world, result, request, src, choose, sessions, lbSessions);
  return result;
}

function packetOf(q: TraceQuery, src: string, dst: string): Packet {
  return {
    protocol: q.protocol,
    src,
    dst,
    ttl: INITIAL_TTL,
    ...(q.protocol === 'icmp' ? {} : { srcPort: q.sourcePort ?? DEFAULT_SOURCE_PORT, dstPort: q.port }),
  };
}

function resultOf(base: Pick<TraceResult, 'query' | 'direction' | 'source' | 'destination' | 'packet'>, w: Walk): TraceResult {
  const result: TraceResult = { ...base, hops: w.hops, verdict: w.end.verdict, code: w.end.code, reason: w.end.reason };
  if (w.end.instanceId) result.deliveredTo = { instanceId: w.end.instanceId, hostId: w.end.hostId! };
  const lb = loadBalancerOf(w.hops);
  if (lb) result.loadBalancer = lb;
  return result;
}

/** What a load balancer the path crossed decided, from its hop (the first). */
function loadBalancerOf(hops: readonly Hop[]): TraceResult['loadBalancer'] {
  const h = hops.find((x) => x.stage === 'lb');
  if (!h) return undefined;
  const d = h.detail as LbDetail;
  const { action, lbNode, node, loadBalancerId, vip, listenerId, slot, tableSize, backends, backend } = d;
  return { action, lbNode, node, loadBalancerId, vip, ...(listenerId ? { listenerId } : {}), ...(slot !== undefined ? { slot, tableSize: tableSize!, backends: backends! } : {}), ...(backend ? { backend } : {}) };
}

const internetEndpoint = (ip: string, vpcId = ''): Endpoint => ({ internet: true, hostId: 'internet', vpcId, ip, subnetId: '' });

/** A trace that starts on the internet, to a public address (or an instance by its EIP). */
function traceFromInternet(world: World, q: TraceQuery, choose: Chooser): TraceResult {
  if (q.sourceIp !== undefined && q.sourceIp !== q.from) throw new TraceError('bad-query', 'a trace from the internet sends from its own address: leave the source address out');
  let destination: TraceResult['destination'];
  if (INSTANCE_ID.test(q.to)) {
    const dst = world.instances.get(q.to);
    if (!dst) throw new TraceError('unknown-instance', `${q.to} has no port on any host: unknown, or not placed yet`);
    if (!dst.port.publicIp)
      throw new TraceError('bad-query', `${q.to} has no EIP: from the internet only public addresses are reached (an instance's EIP, or a NAT gateway's EIP with a port forwarding)`);
    destination = { ip: dst.port.publicIp, instanceId: q.to };
  } else {
    if (parseIp(q.to) === undefined) throw new TraceError('bad-address', `\`${q.to}\` is neither an instance ID (ins-…) nor an IPv4 address`);
    destination = { ip: q.to };
  }
  const packet = packetOf(q, q.from, destination.ip);
  const sessions: NatSession[] = [];
  const lbSessions: LbSession[] = [];
  const request = walkFromInternet(world, packet, new Set(), choose, sessions, lbSessions);
  const result = resultOf({ query: q, direction: 'request', source: internetEndpoint(q.from, request.vpcId), destination, packet }, request);
  if (q.reply) {
    const to = result.deliveredTo && world.instances.get(result.deliveredTo.instanceId);
    const lbAnswered = result.verdict === 'answered' && request.endedAt?.host.role === 'lb';
    if ((result.verdict !== 'delivered' || !to) && !lbAnswered) result.replySkipped = `no reply: the request does not arrive (${result.code})`;
    else traceReply(world, result, request, undefined, choose, sessions, lbSessions);
  }
  return result;
}

/** The reply of a traced request: from where it arrived, back to where it came from, with the request's conntrack state and NAT sessions. */
function traceReply(
  world: World,
  result: TraceResult,
  request: Walk,
  src: { router: Router; port: Port } | undefined,
  choose: Chooser,
  sessions: NatSession[],
  lbSessions: LbSession[],
) {
  const p = result.packet;
  // The reply answers the packet as it arrived (after any translation on the way).
  const last = request.packet;
  const packet: Packet = {
    protocol: last.protocol,
    src: last.dst,
    dst: last.src,
    ttl: INITIAL_TTL,
    ...(last.protocol === 'icmp' ? {} : { srcPort: last.dstPort, dstPort: last.srcPort }),
  };
  const q = { ...result.query, reply: false };
  const replyTo = { ip: packet.dst, ...(src ? { instanceId: src.port.instanceId } : {}) };
  if (result.verdict === 'forwarded') {
    // Sent to the internet: the answer comes back from there, to the address the request left with.
    const reply = walkFromInternet(world, packet, request.forwardedBy, choose, sessions, lbSessions);
    result.reply = resultOf({ query: q, direction: 'reply', source: internetEndpoint(packet.src, reply.vpcId), destination: replyTo, packet }, reply);
    return;
  }
  if (result.verdict === 'answered' && request.endedAt?.host.role === 'lb') {
    // An LB node answering for a VIP: locally generated from the VIP, routed back to the client by the node's router.
    const r = request.endedAt;
    const kind = p.protocol === 'icmp' ? 'echo reply' : p.protocol === 'tcp' ? 'TCP reset' : 'ICMP port unreachable';
    const said: Hop = {
      stage: 'lb',
      hostId: r.hostId,
      vpcId: r.vpc.vpcId,
      result: 'pass',
      summary: `${r.vpc.vpcId}'s router on ${r.hostId} answers from the VIP ${p.dst} (${kind}): locally generated, it takes the output path`,
      detail: request.hops.at(-1)!.detail,
    };
    const reply = walk(world, packet, r, { kind: 'local' }, request.forwardedBy, ROUTER_STAGES, choose, sessions, lbSessions);
    const source: Endpoint = { router: true, hostId: r.hostId, vpcId: r.vpc.vpcId, ip: p.dst, subnetId: '' };
    result.reply = resultOf({ query: q, direction: 'reply', source, destination: replyTo, packet }, { ...reply, hops: [said, ...reply.hops] });
    return;
  }
  if (result.verdict === 'answered' && src && request.endedAt !== src.router) {
    // A router answering a packet that came over a peering link: its answer is locally generated, and such
    // traffic is routed by the main table alone (instance routes of its own VPC; route tables apply to packets
    // from ports and the tunnel), which has no route to the peer VPC.
    const r = request.endedAt!;
    const reason = `${r.vpc.vpcId}'s router on ${r.hostId} answers from ${p.dst}, but its answer has no route to ${packet.dst}: locally generated traffic is routed by the router's instance routes alone, and route tables (with their peering routes) apply only to packets from ports and the tunnel — dropped`;
    result.reply = {
      query: q,
      direction: 'reply',
      source: { router: true, hostId: r.hostId, vpcId: r.vpc.vpcId, ip: p.dst, subnetId: r.gateways.get(p.dst)?.subnetId ?? '' },
      destination: replyTo,
      packet,
      hops: [{ stage: 'route', hostId: r.hostId, vpcId: r.vpc.vpcId, result: 'drop', summary: reason, detail: { destination: packet.dst, kind: 'none' } }],
      verdict: 'dropped',
      code: 'no-route',
      reason,
    };
    return;
  }
  if (result.verdict === 'answered' && src) {
    // The router itself replies: locally generated, it takes the output path, which has no security-group chain.
    const kind = p.protocol === 'icmp' ? 'echo reply' : p.protocol === 'tcp' ? 'TCP reset' : 'ICMP port unreachable';
    const r = src.router;
    const hops: Hop[] = [
      {
        stage: 'route',
        hostId: r.hostId,
        vpcId: r.vpc.vpcId,
        result: 'deliver',
        summary: `the router on ${r.hostId} answers from ${p.dst} (${kind}): locally generated, it takes the output path, which has no security group chain, to port ${src.port.ifname}`,
        detail: { destination: packet.dst, kind: 'port', route: `${packet.dst}/32 dev ${src.port.ifname}`, instanceId: src.port.instanceId },
      },
    ];
    result.reply = {
      query: q,
      direction: 'reply',
      source: { router: true, hostId: r.hostId, vpcId: r.vpc.vpcId, ip: p.dst, subnetId: r.gateways.get(p.dst)?.subnetId ?? '' },
      destination: replyTo,
      packet,
      hops,
      verdict: 'delivered',
      code: 'delivered',
      reason: `the ${kind} is delivered to ${src.port.instanceId} (${src.port.ip})`,
      deliveredTo: { instanceId: src.port.instanceId, hostId: r.hostId },
    };
    return;
  }
  const to = result.deliveredTo && world.instances.get(result.deliveredTo.instanceId);
  if (result.verdict !== 'delivered' || !to || result.code === 'loopback') {
    result.replySkipped =
      result.code === 'loopback' ? 'the reply stays on the loopback too' : `no reply: the request does not arrive (${result.code})`;
    return;
  }
  // Delivered to a next hop, the packet was for another address, which the instance may send from (its port's
  // routed CIDRs): the reply is traced as the instance answering for it itself. Whether it forwards the packet
  // instead happens inside the instance, which the tracer does not see.
  const asNextHop = to.port.ip !== last.dst;
  const reply = walk(world, packet, to.router, { kind: 'port', port: to.port }, request.forwardedBy, ROUTER_STAGES, choose, sessions, lbSessions);
  result.reply = resultOf({ query: q, direction: 'reply', source: { ...endpointOf(to.router, to.port), ip: last.dst }, destination: replyTo, packet }, reply);
  if (asNextHop)
    result.reply.reason = `${reply.end.reason} (traced as ${to.port.instanceId} answering from ${last.dst} itself, as the next hop routed that address to it; if it forwards the request instead, the reply comes from beyond it)`;
  // Out to the internet from another address than the request was sent to (an EIP's flow answered by a NAT
  // route, say): the sender does not take it for the reply.
  const sent = { ip: p.dst, port: p.dstPort };
  if (reply.end.verdict === 'forwarded' && (reply.packet.src !== sent.ip || reply.packet.srcPort !== sent.port))
    result.reply.reason += ` — but the request was sent to ${sent.port === undefined ? sent.ip : `${sent.ip}:${sent.port}`} and the reply leaves from ${reply.packet.srcPort === undefined ? reply.packet.src : `${reply.packet.src}:${reply.packet.srcPort}`}: the sender will not take it for the reply (the flow's two directions take different paths)`;
}
