/**
 * What a stage of the pipeline is. A packet crosses routers (a VPC's router
 * context on one host); at each router the tracer runs the stages in order
 * (trace.ts: ROUTER_STAGES), the way the kernel runs its hooks. A stage looks
 * at the packet in transit, may record what it decided for later stages
 * (`route`), and either lets the packet go on, ends the trace (delivered,
 * answered, dropped), or hands the packet to another router (the tunnel).
 *
 * Adding a feature (network ACLs, route tables, NAT, load balancing) is one
 * module exporting a Stage, and one line in ROUTER_STAGES.
 */
import type { PeeringLink, Port, RemoteEndpoint, SubnetContext } from '../../contract/host-document.js';
import type { NatSession } from '../gateways.js';
import type { Ending, Hop, Packet } from '../model.js';
import type { Router, World } from '../world.js';

/** Where the packet entered this router. */
export type Ingress =
  | { kind: 'port'; port: Port }
  /**
   * `via`, on a gateway: what the frame was addressed to — the cluster's
   * router MAC (EIP traffic, vx<vni>) or the VPC's NAT MAC (nat0).
   */
  | { kind: 'tunnel'; fromHostId: string; vni: number; via?: 'eip' | 'nat' }
  /** From a peering link: `link` is this router's end of it. */
  | { kind: 'peering'; link: PeeringLink; fromVpcId: string }
  /**
   * On a gateway, from the node's own namespace (pub0), where the internet
   * is: `via` eip — to an EIP, translated in this router; nat — already
   * translated to a private address by the node's NAT (DNAT or a session).
   */
  | { kind: 'internet'; via: 'eip' | 'nat' };

/** Where the routing decision sends it. */
export type Route =
  /** `nextHopFor`: a table route's destination, when the port is its next hop rather than the packet's destination. */
  | { kind: 'port'; port: Port; nextHopFor?: string }
  | { kind: 'tunnel'; remote: RemoteEndpoint }
  /** `link` is this router's end, `peer` the router at the other end, `peerLink` its end. */
  | { kind: 'peering'; link: PeeringLink; peer: Router; peerLink: PeeringLink }
  | { kind: 'local'; subnet: SubnetContext }
  /**
   * Over the tunnel to the gateways: `eip` the public table's default route
   * to the cluster (VpcContext.publicGateway), `nat` a route to a NAT gateway
   * (VpcContext.ownerGateway).
   */
  | { kind: 'gateway'; via: 'eip' | 'nat'; underlay: string; routerMac: string; natGatewayId?: string }
  /** On a gateway: out of the node's namespace to the internet router. */
  | { kind: 'internet' };

/**
 * Picks the ECMP member a packet takes: `hashed` is the tracer's 5-tuple hash
 * modulo `members`. A trace takes it; the reachability matrix walks every member.
 */
export type Chooser = (members: number, hashed: number) => number;

export interface Transit {
  readonly world: World;
  /** The packet as it is now: a gateway's translation rewrites it (the `rewrite` outcome). */
  packet: Packet;
  readonly router: Router;
  readonly ingress: Ingress;
  /** Set by the route stage. */
  route?: Route;
  /** The flow is in this router's conntrack table (a reply of an accepted request): ct state established. */
  readonly established: boolean;
  /** Set by the first stage that reported the conntrack verdict on this router, so it is said once. */
  conntrackSaid?: boolean;
  /** ECMP member choice. */
  readonly choose: Chooser;
  /**
   * NAT sessions of the flow (conntrack on the NAT node): those the request
   * made, which its reply meets; a translation that makes one adds it.
   */
  readonly sessions: NatSession[];
}

export type Outcome =
  /** Goes on to the next stage (a stage that does not apply returns this with no hop). */
  | { hop?: Hop; next: true }
  | { hop: Hop; end: Ending }
  /** Leaves this router for another one (the tunnel, a peering link). */
  | { hop: Hop; to: { router: Router; ingress: Ingress } }
  /** A translation (a gateway's EIP or NAT): the packet goes on to the next stage rewritten. */
  | { hop: Hop; rewrite: Packet };

export interface Stage {
  name: string;
  run(t: Transit): Outcome;
}

export const next = (hop?: Hop): Outcome => ({ hop, next: true });

export function hop<D extends object>(t: Transit, stage: string, result: Hop['result'], summary: string, detail: D): Hop<D> {
  return { stage, hostId: t.router.hostId, vpcId: t.router.vpc.vpcId, result, summary, detail };
}

/** `tcp 10.0.1.5:49152 → 10.0.2.6:443`, `icmp 10.0.1.5 → 10.0.2.6`. */
export function describePacket(p: Packet): string {
  return p.protocol === 'icmp' ? `icmp ${p.src} → ${p.dst}` : `${p.protocol} ${p.src}:${p.srcPort} → ${p.dst}:${p.dstPort}`;
}
