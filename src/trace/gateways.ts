/**
 * The region's gateway nodes as the tracer sees them (docs/public-network.md):
 * which node a packet for the gateways reaches, who holds a public address,
 * and which NAT rule or session translates a packet. Pure lookups over the
 * world; the stages (stages/gateway*.ts, internet.ts) say what they decide.
 *
 * What the documents do not say, the tracer does not invent: the cluster's
 * address and the EIP pools are announced by every gateway node, and the
 * routers' ECMP (their own hash) picks one — the tracer takes a member by its
 * hash and says any would do (EIP translation is stateless, the same maps on
 * every node). A VPC's NAT traffic is carried by the node of rank 0 in its
 * NAT context (BGP prefers it: the others announce with extra AS hops).
 */
import type { ElasticIp, NatContext, NatGatewayRules } from '../contract/host-document.js';
import { containsIp, parseIp } from '../core/cidr.js';
import type { L4, Packet } from './model.js';
import { documentCidr, type Router, type World } from './world.js';

/** One conntrack entry of a NAT node (zone of the VPC): the ends of a translated flow. */
export interface NatSession {
  vpcId: string;
  /** The gateway node that holds it. */
  hostId: string;
  natGatewayId: string;
  /** snat: an instance's packet out made it; dnat: a packet in, by a port forwarding. */
  kind: 'snat' | 'dnat';
  protocol: L4;
  /** The instance's end, the NAT EIP's end, and the internet's end (ports: tcp/udp only). */
  private: { ip: string; port?: number };
  public: { ip: string; port?: number };
  remote: { ip: string; port?: number };
}

/** A VPC's routers on gateway nodes, by its VNI (the VXLAN device a frame reaches there), in node order. */
export function gatewayRouters(world: World, vni: number): Router[] {
  return world.gatewayNodes.flatMap((h) => {
    const r = world.byVni.get(h)?.get(vni);
    return r ? [r] : [];
  });
}

/** The nodes carrying a VPC's owner traffic (NAT, pinned EIPs), lowest rank first: the first carries it (BGP), the next should it fail. */
export function natCarriers(world: World, vni: number): Router[] {
  const rank = (r: Router) => r.vpc.ownerRank ?? r.vpc.nat?.rank;
  return gatewayRouters(world, vni)
    .filter((r) => rank(r) !== undefined)
    .sort((a, b) => rank(a)! - rank(b)! || (a.hostId < b.hostId ? -1 : 1));
}

/** Who translates a public address: an EIP of an instance (every node), a NAT gateway's EIP (the VPC's carrier), or nobody. */
export type PublicHolder =
  | { kind: 'eip'; vpcId: string; vni: number; eip: ElasticIp }
  | { kind: 'nat'; vpcId: string; vni: number; gateway: NatGatewayRules }
  | undefined;

export function publicHolder(world: World, ip: string): PublicHolder {
  let nat: PublicHolder;
  for (const h of world.gatewayNodes)
    for (const r of world.routers.get(h)?.values() ?? []) {
      const eip = r.vpc.eips?.find((e) => e.publicIp === ip);
      if (eip) return { kind: 'eip', vpcId: r.vpc.vpcId, vni: r.vpc.vni, eip };
      const g = r.vpc.nat?.gateways.find((x) => x.publicIps.includes(ip));
      if (g && !nat) nat = { kind: 'nat', vpcId: r.vpc.vpcId, vni: r.vpc.vni, gateway: g };
    }
  return nat;
}

/**
 * The SNAT rule that translates a new flow from `src`: every NAT gateway's
 * rules of the VPC (the node's srcnat chain holds them all, whichever
 * gateway the route named), most specific source first, the first that
 * contains the address.
 */
export function snatRuleFor(nat: NatContext, src: string): { gateway: NatGatewayRules; rule: NatGatewayRules['snat'][number] } | undefined {
  const ip = parseIp(src);
  if (ip === undefined) return undefined;
  const all = nat.gateways.flatMap((gateway) => gateway.snat.map((rule) => ({ gateway, rule, cidr: documentCidr(rule.source, `SNAT rule ${rule.natGatewaySnatId}`) })));
  // Stable: equal prefixes keep the compiler's order, as nat-gateway.ts sorts the chain.
  all.sort((a, b) => b.cidr.prefix - a.cidr.prefix);
  const hit = all.find((x) => containsIp(x.cidr, ip));
  return hit && { gateway: hit.gateway, rule: hit.rule };
}

/** The DNAT rule (port forwarding) for a packet in: its protocol, the EIP and the port it is sent to. */
export function dnatRuleFor(nat: NatContext, p: Packet): { gateway: NatGatewayRules; rule: NatGatewayRules['dnat'][number] } | undefined {
  for (const gateway of nat.gateways) {
    const rule = gateway.dnat.find((d) => d.protocol === p.protocol && d.publicIp === p.dst && d.publicPort === p.dstPort);
    if (rule) return { gateway, rule };
  }
  return undefined;
}

/** The session a packet from the internet belongs to (the reply of a translated flow): to its public end, from its remote end. */
export const sessionFromInternet = (sessions: readonly NatSession[], p: Packet): NatSession | undefined =>
  sessions.find((s) => s.protocol === p.protocol && s.public.ip === p.dst && s.public.port === p.dstPort && s.remote.ip === p.src && s.remote.port === p.srcPort);

/** The session a packet from the VPC belongs to (the reply of a port forwarding): from its private end, to its remote end. */
export const sessionFromVpc = (sessions: readonly NatSession[], vpcId: string, p: Packet): NatSession | undefined =>
  sessions.find((s) => s.vpcId === vpcId && s.protocol === p.protocol && s.private.ip === p.src && s.private.port === p.srcPort && s.remote.ip === p.dst && s.remote.port === p.dstPort);
