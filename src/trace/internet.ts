/**
 * A packet from the internet to a public address: which gateway node the
 * internet router sends it to, and what the node's namespace does before the
 * VPC's router on that node takes it (docs/public-network.md).
 *   - an EIP of an instance: every node announces the pools, the router's
 *     ECMP picks one (the tracer takes a member by its hash); the VPC's
 *     router there translates it (stages/gateway.ts eipTranslation);
 *   - a NAT gateway's EIP: the node of rank 0 for the VPC announces it with
 *     the fewest AS hops; its namespace translates the reply of a session
 *     back, or a new flow by a DNAT rule (protocol, EIP, port), and routes it
 *     into the VPC's router; no rule and no session: dropped there;
 *   - a public load balancer's VIP: every LB node announces it, the router's
 *     ECMP picks one (the tracer takes a member by its hash); the VPC's
 *     router there balances it (stages/load-balancer.ts lbBalance);
 *   - anything else: no gateway translates it, dropped.
 * Pure.
 */
import { dnatRuleFor, natCarriers, publicHolder, sessionFromInternet, type NatSession } from './gateways.js';
import { publicVip } from './load-balancers.js';
import type { Ending, Hop, Packet } from './model.js';
import type { Ingress, Chooser } from './stages/stage.js';
import { pickNode } from './tables.js';
import type { Router, World } from './world.js';

export interface InternetDetail {
  /** The gateway nodes the view knows, and the one the packet reaches. */
  gatewayNodes: string[];
  toHostId?: string;
  /** What holds the address. */
  holder?: 'eip' | 'nat' | 'lb';
  /** A public VIP: the LB nodes that announce it, and its load balancer. */
  lbNodes?: string[];
  loadBalancerId?: string;
  instanceId?: string;
  natGatewayId?: string;
  ecmp?: { hash: number; index: number; note: string };
  rank?: number;
  /** NAT: the translation in the node's namespace. */
  from?: string;
  to?: string;
  decision?: 'session' | 'dnat-rule' | 'none';
}

export interface InternetEntry {
  hops: Hop[];
  /** The VPC the address leads into, when one holds it. */
  vpcId?: string;
  end?: Ending;
  to?: { router: Router; ingress: Ingress; packet: Packet };
}

const INTERNET = 'internet';
const endpoint = (ip: string, port?: number) => (port === undefined ? ip : `${ip}:${port}`);

const GATEWAY_WORDS = {
  router: 'internet router',
  what: 'gateway nodes',
  one: 'gateway node',
  alike: 'any node translates alike',
  note: 'every gateway node announces the EIP pools; the internet router hashes the flow with its own function, so on Linux another node may take it — any translates it alike (the same EIP maps on every node)',
};

const LB_WORDS = {
  router: 'internet router',
  what: 'LB nodes',
  one: 'LB node',
  alike: 'every node chooses the same backend',
  note: 'every LB node announces the public VIPs; the internet router hashes the flow with its own function, so on Linux another node may take it — every node computes the same Maglev table, so the backend is the same',
};

/** To a public VIP: the internet router's ECMP over the LB nodes. */
function toLoadBalancer(world: World, packet: Packet, choose: Chooser, vip: NonNullable<ReturnType<typeof publicVip>>): InternetEntry {
  const nodes = world.lbNodes;
  const { node, why, ecmp } = pickNode(nodes, packet, choose, LB_WORDS);
  const detail: InternetDetail = { gatewayNodes: [...world.gatewayNodes], holder: 'lb', lbNodes: [...nodes], loadBalancerId: vip.lb.loadBalancerId, toHostId: node, ...(ecmp ? { ecmp } : {}) };
  const step = (result: Hop['result'], summary: string): Hop => ({ stage: 'internet', hostId: INTERNET, vpcId: vip.vpcId, result, summary, detail });
  const router = world.routers.get(node)?.get(vip.vpcId);
  if (!router) {
    const reason = `${packet.dst} is the VIP of ${vip.lb.loadBalancerId} in ${vip.vpcId}, but ${why}, and ${node} has no router for ${vip.vpcId} (documents out of step); dropped`;
    return { hops: [step('drop', reason)], vpcId: vip.vpcId, end: { verdict: 'dropped', code: 'no-route', reason } };
  }
  const summary = `the internet router: ${packet.dst} is the public VIP of load balancer ${vip.lb.loadBalancerId} (${vip.vpcId}); ${why}; to ${node}'s namespace, then ${vip.vpcId}'s router`;
  return { hops: [step('forward', summary)], vpcId: vip.vpcId, to: { router, ingress: { kind: 'internet', via: 'lb' }, packet } };
}

export function fromInternet(world: World, packet: Packet, choose: Chooser, sessions: NatSession[]): InternetEntry {
  const vip = publicVip(world, packet.dst);
  if (vip) return toLoadBalancer(world, packet, choose, vip);
  const nodes = world.gatewayNodes;
  const holder = publicHolder(world, packet.dst);
  const detail: InternetDetail = { gatewayNodes: [...nodes] };
  const step = (hostId: string, vpcId: string, stage: string, result: Hop['result'], summary: string, d: object = detail): Hop => ({ stage, hostId, vpcId, result, summary, detail: d });

  if (!holder) {
    const reason = nodes.length
      ? `no gateway node (${nodes.join(', ')}) translates ${packet.dst}: it is not an EIP bound to a running instance (unbound, its instance stopped or terminated) nor an EIP of a NAT gateway; the packet goes nowhere — dropped`
      : `no gateway node is in the view, so nothing translates ${packet.dst}; dropped`;
    return { hops: [step(INTERNET, '', 'internet', 'drop', reason)], end: { verdict: 'dropped', code: 'no-eip', reason } };
  }
  detail.holder = holder.kind;

  if (holder.kind === 'eip') {
    detail.instanceId = holder.eip.instanceId;
    const { node, why, ecmp } = pickNode(nodes, packet, choose, GATEWAY_WORDS);
    detail.toHostId = node;
    if (ecmp) detail.ecmp = ecmp;
    const router = world.routers.get(node)?.get(holder.vpcId);
    if (!router) {
      const reason = `${packet.dst} is the EIP of ${holder.eip.instanceId} in ${holder.vpcId}, but ${why}, and ${node} has no router for ${holder.vpcId} (documents out of step); dropped`;
      return { hops: [step(INTERNET, holder.vpcId, 'internet', 'drop', reason)], vpcId: holder.vpcId, end: { verdict: 'dropped', code: 'no-eip', reason } };
    }
    const summary = `the internet router: ${packet.dst} is the EIP of ${holder.eip.instanceId} (${holder.vpcId}); ${why}; to ${node}'s namespace, then ${holder.vpcId}'s router over pub0`;
    return { hops: [step(INTERNET, holder.vpcId, 'internet', 'forward', summary)], vpcId: holder.vpcId, to: { router, ingress: { kind: 'internet', via: 'eip' }, packet } };
  }

  detail.natGatewayId = holder.gateway.natGatewayId;
  const carriers = natCarriers(world, holder.vni);
  const node = carriers[0];
  if (!node) {
    const reason = `${packet.dst} is an EIP of NAT gateway ${holder.gateway.natGatewayId} (${holder.vpcId}), but no gateway node in the view carries the VPC's NAT; dropped`;
    return { hops: [step(INTERNET, holder.vpcId, 'internet', 'drop', reason)], vpcId: holder.vpcId, end: { verdict: 'dropped', code: 'no-eip', reason } };
  }
  const nat = node.vpc.nat!;
  detail.toHostId = node.hostId;
  detail.rank = nat.rank;
  const after = carriers.slice(1).map((x) => x.hostId);
  const why =
    nat.rank === 0
      ? `${node.hostId}, the node of rank 0 for ${holder.vpcId}'s NAT, announces it with the fewest AS hops${after.length ? ` (${after.join(', ')} after it, should it fail)` : ''}`
      : `no node of rank 0 for ${holder.vpcId}'s NAT is in the view: ${node.hostId} (rank ${nat.rank}) takes it, as when the nodes before it are down`;
  const hops = [step(INTERNET, holder.vpcId, 'internet', 'forward', `the internet router: ${packet.dst} is an EIP of NAT gateway ${holder.gateway.natGatewayId} (${holder.vpcId}); ${why}`)];

  const natHop = (result: Hop['result'], summary: string, d: InternetDetail) => step(node.hostId, holder.vpcId, 'nat', result, summary, d);
  const session = sessionFromInternet(sessions, packet);
  if (session) {
    const d: InternetDetail = { ...detail, decision: 'session', natGatewayId: session.natGatewayId, from: endpoint(packet.dst, packet.dstPort), to: endpoint(session.private.ip, session.private.port) };
    hops.push(natHop('pass', `NAT on ${node.hostId} (conntrack zone ${nat.zone}): the reply of a session of ${session.natGatewayId} (${session.kind === 'snat' ? 'SNAT' : 'DNAT'}), translated back: destination ${d.from} → ${d.to}; routed into ${holder.vpcId}'s router`, d));
    const translated: Packet = { ...packet, dst: session.private.ip, ...(session.private.port !== undefined ? { dstPort: session.private.port } : {}) };
    return { hops, vpcId: holder.vpcId, to: { router: node, ingress: { kind: 'internet', via: 'nat' }, packet: translated } };
  }
  const hit = dnatRuleFor(nat, packet);
  if (!hit) {
    const forwards = nat.gateways.flatMap((g) => g.dnat.filter((x) => x.publicIp === packet.dst).map((x) => `${x.protocol} ${x.publicPort}`));
    const what = packet.protocol === 'icmp' ? 'icmp' : `${packet.protocol} port ${packet.dstPort}`;
    const reason = `NAT on ${node.hostId} (conntrack zone ${nat.zone}): no DNAT rule forwards ${what} of ${packet.dst} (${forwards.length ? `it forwards ${forwards.join(', ')}` : 'it forwards no port'}) and no session holds the flow; dropped (no session)`;
    hops.push(natHop('drop', reason, { ...detail, decision: 'none' }));
    return { hops, vpcId: holder.vpcId, end: { verdict: 'dropped', code: 'dnat-no-rule', reason } };
  }
  const d: InternetDetail = { ...detail, decision: 'dnat-rule', natGatewayId: hit.gateway.natGatewayId, from: endpoint(packet.dst, packet.dstPort), to: endpoint(hit.rule.privateIp, hit.rule.privatePort) };
  sessions.push({
    vpcId: holder.vpcId,
    hostId: node.hostId,
    natGatewayId: hit.gateway.natGatewayId,
    kind: 'dnat',
    protocol: packet.protocol,
    private: { ip: hit.rule.privateIp, port: hit.rule.privatePort },
    public: { ip: packet.dst, port: hit.rule.publicPort },
    remote: { ip: packet.src, ...(packet.srcPort !== undefined ? { port: packet.srcPort } : {}) },
  });
  hops.push(natHop('pass', `DNAT on ${node.hostId} (conntrack zone ${nat.zone}): ${hit.gateway.natGatewayId} forwards ${hit.rule.protocol} ${d.from} → ${d.to}; the session is kept; routed into ${holder.vpcId}'s router`, d));
  const translated: Packet = { ...packet, dst: hit.rule.privateIp, dstPort: hit.rule.privatePort };
  return { hops, vpcId: holder.vpcId, to: { router: node, ingress: { kind: 'internet', via: 'nat' }, packet: translated } };
}
