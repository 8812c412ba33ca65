/**
 * The packet tracer's vocabulary: the packet, the hops of its path and the
 * verdict. Plain data (JSON-serialisable), so the API can return it as is and
 * the text rendering is a function of it.
 */

export type L4 = 'tcp' | 'udp' | 'icmp';
export const L4_PROTOCOLS: readonly L4[] = ['tcp', 'udp', 'icmp'];

/** One IPv4 packet as the router sees it. ICMP is an echo request (or, in a reply, an echo reply). */
export interface Packet {
  protocol: L4;
  src: string;
  dst: string;
  /** tcp/udp only. */
  srcPort?: number;
  dstPort?: number;
  ttl: number;
}

/** What a trace is asked. */
export interface TraceQuery {
  /**
   * Source instance ID: its port, host and VPC are where the packet starts.
   * Or an IPv4 address on the internet: the packet reaches the region's
   * gateways from the internet router (`to` is then a public address: an EIP
   * or a NAT gateway's EIP).
   */
  from: string;
  /** Destination: an instance ID or an IPv4 address, looked up in the source's VPC (outside it: the internet, through the gateways). */
  to: string;
  protocol: L4;
  /** Destination port (tcp/udp; required for them). */
  port?: number;
  /** Source port (tcp/udp); default 49152, the first ephemeral port. */
  sourcePort?: number;
  /** Source address the instance puts on the packet (default its own): another one tests anti-spoofing. */
  sourceIp?: string;
  /** Also trace the reply of the flow (conntrack state established on the routers the request crossed). */
  reply?: boolean;
}

export type HopResult = 'pass' | 'drop' | 'forward' | 'deliver' | 'answer';

/**
 * One step of the path. `stage` names the module that decided (port, route,
 * security-group, tunnel, …); `summary` is the step in one line of text;
 * `detail` is the stage's own data (each stage module documents its shape).
 */
export interface Hop<D extends object = object> {
  stage: string;
  hostId: string;
  vpcId: string;
  result: HopResult;
  summary: string;
  detail: D;
}

/**
 * delivered: the packet reached an instance; answered: a router answered it
 * itself (the subnet gateway address, a VIP without listener or backend); forwarded: a gateway sent it out to
 * the internet (what happens beyond the region is not the tracer's to say);
 * dropped: it went no further.
 */
export type Verdict = 'delivered' | 'answered' | 'forwarded' | 'dropped';

/** Why a trace ended, as a stable code (data consumers switch on it; `reason` says it in words). */
export type EndCode =
  | 'delivered'
  | 'loopback'
  | 'router-address'
  | 'anti-spoofing'
  | 'no-route'
  | 'blackhole'
  | 'ttl-exceeded'
  | 'acl-egress'
  | 'acl-ingress'
  | 'egress-policy'
  | 'egress-default'
  | 'ingress-policy'
  | 'ingress-default'
  | 'tunnel-no-host'
  | 'tunnel-no-vpc'
  | 'tunnel-mac-mismatch'
  | 'peering-no-link'
  | 'no-request'
  /** A gateway sent the packet to the internet. */
  | 'internet'
  /** No gateway translates the address: no EIP bound to a running instance has it (or, outbound, the source has no EIP on the gateway). */
  | 'no-eip'
  /** A NAT gateway node has no SNAT rule for the private source: its leak chain drops it. */
  | 'snat-no-rule'
  /** To a NAT gateway's EIP with no DNAT rule and no session: dropped on the node. */
  | 'dnat-no-rule'
  /** To a load balancer's VIP with no listener for its protocol and port (or ICMP): the LB node answers for the VIP. */
  | 'lb-no-listener'
  /** To a listener whose Maglev table is empty (no target, or all at weight 0 or unhealthy): the LB node answers for the VIP. */
  | 'lb-no-backend';

export interface Ending {
  verdict: Verdict;
  code: EndCode;
  reason: string;
  /** The instance the packet reached (delivered). */
  instanceId?: string;
  hostId?: string;
}

export interface Endpoint {
  /** The instance; absent when the endpoint is a router (it answers for the subnet gateway) or the internet. */
  instanceId?: string;
  router?: true;
  /** An address on the internet (hostId 'internet'; vpcId the VPC of the public address it sends to, when one has it). */
  internet?: true;
  hostId: string;
  vpcId: string;
  ip: string;
  subnetId: string;
}

export interface TraceResult {
  query: TraceQuery;
  /** The direction traced: the request, or the reply of an accepted request. */
  direction: 'request' | 'reply';
  source: Endpoint;
  /** The destination as asked: its address and, when it names an instance, that instance. */
  destination: { ip: string; instanceId?: string; note?: string };
  packet: Packet;
  hops: Hop[];
  verdict: Verdict;
  code: EndCode;
  reason: string;
  deliveredTo?: { instanceId: string; hostId: string };
  /**
   * The load balancer the path crossed (its `lb` hop, where the detail has the
   * rest): the LB node (host ID and number), the listener, the flow's Maglev
   * slot of `tableSize`, how many backends the table holds and the backend
   * chosen — or, translating a reply back, whose reply it is.
   */
  loadBalancer?: {
    action: 'balance' | 'reply' | 'no-listener' | 'no-backend';
    lbNode: string;
    node: number;
    loadBalancerId: string;
    vip: string;
    listenerId?: string;
    slot?: number;
    tableSize?: number;
    backends?: number;
    backend?: { ip: string; port: number; instanceId: string; weight?: number };
  };
  /** The reply's trace (query.reply), or why there is none. */
  reply?: TraceResult;
  replySkipped?: string;
}

/** A question the tracer cannot answer (unknown instance, malformed address …). */
export class TraceError extends Error {
  constructor(
    readonly code: 'unknown-instance' | 'not-placed' | 'bad-address' | 'bad-query',
    message: string,
  ) {
    super(message);
    this.name = 'TraceError';
  }
}

/**
 * A host document the data plane cannot apply as it stands (a CIDR that is not
 * normalised, a subnet naming an ACL the document does not carry …): the
 * Linux driver fails its plan for it, so the tracer refuses it too rather
 * than letting a rule silently never match.
 */
export class DocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentError';
  }
}

/** A flow reaches its destination: delivered to an instance (or answered by the router, for ICMP), or out to the internet. */
export const reaches = (r: Pick<TraceResult, 'verdict' | 'packet'>) =>
  r.verdict === 'delivered' || r.verdict === 'forwarded' || (r.verdict === 'answered' && r.packet.protocol === 'icmp');
