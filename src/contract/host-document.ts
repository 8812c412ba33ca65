/**
 * The host document: the contract between control and data plane. The
 * compiler produces one per host from the store; the host's agent makes the
 * kernel match it (linux driver) or interprets it (sim driver). It is
 * complete and self-contained — an agent that reads only its latest document
 * converges, whatever it missed before — and it holds only what the host's
 * instances need (the VPCs they are in, their peers' locations, the security
 * groups bound to them and the members of groups those reference).
 *
 * Plain data, JSON-serialisable, deterministic (sorted) so equal state gives
 * byte-equal documents.
 */

import type { FlowLogCapture } from './flow-logs.js';

export interface HostDocument {
  hostId: string;
  /** Region revision this document was compiled at. */
  revision: number;
  /** This host's address on the underlay (VXLAN endpoint). */
  underlay: string;
  /**
   * A gateway carries the region's public traffic (docs/public-network.md):
   * its VPCs are those with a bound EIP or a NAT gateway, without ports, each
   * with `eips` and `nat`. Absent on a host.
   */
  role?: 'gateway' | 'lb';
  /** On a gateway: how many gateway nodes the cluster has (an EIP's limit is split over them until measured shares say otherwise). */
  gatewayNodes?: number;
  /** On an LB node: its number among the LB nodes (1-based, in name order: lb1 is 1); its per-VPC MAC and health-check source follow from it (core/region.ts). */
  lbNode?: number;
  vpcs: VpcContext[];
}

/** One VPC as present on one host: its router context. */
export interface VpcContext {
  vpcId: string;
  /** VXLAN network identifier of the VPC (24 bits), the same on every host. */
  vni: number;
  /** MAC of this host's end of the VPC tunnel (derived from host and VNI; peers address frames to it). On a gateway, the cluster's (publicGateway.routerMac). */
  routerMac: string;
  /** Subnets with a local port; their gateway address answers on the router. */
  subnets: SubnetContext[];
  /** Instance ports on this host. */
  ports: Port[];
  /** Instances of the VPC on other hosts, and where their host is. */
  remotes: RemoteEndpoint[];
  /** Security groups bound to local ports, by ID. */
  securityGroups: Record<string, SecurityGroupRules>;
  /** Private addresses of the members (in this VPC) of every group referenced by a policy here. */
  groupMembers: Record<string, string[]>;
  /** The VPC's CIDR block: the implicit LOCAL route of every route table. */
  cidr?: string;
  /**
   * The route tables this host routes by, sorted by ID: those of its ports'
   * subnets, and those with a route whose next hop is one of its ports (a
   * table no subnet is associated with is never here). Routing is distributed: the host the packet enters on decides, by the
   * table of the subnet it comes from (a port's subnet; over the tunnel, the
   * subnet whose CIDR holds the source address). Instance /32 routes (ports,
   * remotes) always win; then every table's LOCAL route (`cidr`): a user
   * route never lies inside the VPC's CIDR, and one that contains it
   * (0.0.0.0/0) does not reach the VPC's own addresses, which without an
   * instance are unreachable.
   */
  routeTables?: RouteTable[];
  /** Network ACLs associated with the subnets in `subnets`, by ID. */
  networkAcls?: Record<string, NetworkAcl>;
  /**
   * Active peering connections of this VPC. Each is a link between this
   * VPC's router and the peer VPC's router on this host: a host that has
   * either VPC holds both routers (the peer's with no local ports), so peered
   * traffic crosses to the peer's router on the source host and reaches the
   * destination through the peer VPC's own tunnel — host to host, no gateway.
   * A packet arriving from a peering link is routed by instance routes only
   * (never by route tables): peering is not transitive.
   */
  peerings?: PeeringLink[];
  /**
   * On a gateway: the VPC's elastic IPs bound to running instances, each a
   * 1:1 translation between the public and the private address, sorted by
   * public address: the gateway translates them statelessly (nft-ruleset.ts eipTable).
   */
  eips?: ElasticIp[];
  /**
   * On a host with a port that has an elastic IP: where that port's traffic
   * for outside the VPC goes — over this VPC's tunnel to the gateway
   * cluster's address, to the cluster's router MAC (the same on every
   * gateway): route-tables.ts PUBLIC_TABLE.
   */
  publicGateway?: { underlay: string; routerMac: string };
  /**
   * On a host whose route tables send traffic to a NAT gateway of this VPC
   * (a route of kind `nat`) or with a port whose EIP is pinned: where that
   * traffic goes — over this VPC's tunnel to the tunnel address of the VPC's
   * owner node, the gateway node that carries its NAT sessions and its EIPs
   * with small limits (announced by that node, and by the others in rank
   * order should it fail), to the VPC's owner MAC. One node carries a VPC's
   * NAT sessions so that both directions of a flow meet the same conntrack
   * table, and a small limit is enforced precisely in one place.
   */
  ownerGateway?: { underlay: string; routerMac: string };
  /** On a gateway: the MAC its router for this VPC answers to for traffic sent to the owner node (host side: `ownerGateway.routerMac`). */
  ownerMac?: string;
  /** On a gateway: this node's place in the order in which nodes carry the VPC's owner traffic (0: the owner; `nat.rank` is the same). */
  ownerRank?: number;
  /** On a gateway: the VPC's NAT gateways, translated statefully in the gateway node's own namespace. */
  nat?: NatContext;
  /**
   * On an LB node: the VPC's load balancers, sorted by ID (docs/load-balancers.md).
   * The node's router for the VPC answers the cluster MAC (`routerMac`, the same
   * on every LB node) on its tunnel and sends to the VPC's hosts from its own
   * MAC (`lbNodeMac`), so the replies of each flow come back to it.
   */
  loadBalancers?: LoadBalancer[];
  /**
   * On a host of a VPC with an internal load balancer: where its VIPs are
   * (sorted): over the tunnel to the LB cluster's address, to the cluster MAC.
   */
  lbVips?: { vips: string[]; underlay: string; routerMac: string };
  /**
   * On a host of a VPC with a load balancer: the LB nodes, by number. A flow
   * that arrives from node n's MAC is marked n in conntrack, and its replies
   * go back to that node (the last one that sent a packet of it), which
   * translates them back.
   */
  lbNodes?: { node: number; mac: string; underlay: string }[];
  /**
   * Network detections (NetDetect) this router runs, sorted by ID: those
   * whose sources are placed on this host (the agent probes each destination
   * from the first, through the next hop) and those whose NORMAL_CVM next
   * hop is a port here (forwarded to it) — compile/net-detects.ts,
   * docs/operations.md.
   */
  netDetects?: NetDetectProbe[];
  /**
   * Enabled flow logs covering ports of this VPC on this host, sorted by ID
   * (docs/operations.md "Flow logs"): the agent captures in this router while
   * any is here, and the router logs its security-group and ACL drops to
   * NFLOG when one wants REJECT or ALL. Absent: none.
   */
  flowLogs?: FlowLogCapture[];
}

/**
 * One network detection as a router runs it: on a host that probes it (holds
 * one of its sources), or that forwards its probes to a NORMAL_CVM next hop
 * on one of its ports.
 */
export interface NetDetectProbe {
  netDetectId: string;
  subnetId: string;
  /** Its source addresses (DetectSourceIp) that are placed on some host: probes from any of them take the forced path here. */
  sources: string[];
  /** Those on this router's lo (this host probes from the first); empty where the host only forwards. */
  local: string[];
  /** Up to two destination addresses, sorted. */
  destinations: string[];
  /** NORMAL_CVM: an instance of the VPC by its private address; PEERCONNECTION: a link in `peerings`; NAT: the VPC's `ownerGateway`; NONEXTHOP: the subnet's route table. */
  nextHop: { type: 'NORMAL_CVM'; ip: string } | { type: 'PEERCONNECTION'; peeringId: string } | { type: 'NAT'; natGatewayId: string } | { type: 'NONEXTHOP' };
}

/**
 * A load balancer as an LB node runs it: its VIP and listeners. A new flow to
 * a listener is sent to the backend the listener's Maglev table (core/maglev.ts,
 * computed from `backends` and `tableSize`, the same on every node) holds at
 * the slot of the flow's hash; conntrack keeps it there.
 */
export interface LoadBalancer {
  loadBalancerId: string;
  vip: string;
  /** OPEN: the VIP is public, announced to the internet by the LB nodes. */
  public: boolean;
  /** Sorted by protocol, then port. */
  listeners: Listener[];
}

export interface Listener {
  listenerId: string;
  protocol: 'tcp' | 'udp';
  port: number;
  /** Maglev table size: a prime (65537 by default). */
  tableSize: number;
  /**
   * Every registered target, sorted by address then port, with what the
   * cluster's health checks say (`healthy` false: out of the table; absent
   * when health checks are off). The table holds those with weight > 0 that
   * are not unhealthy.
   */
  targets: LbTarget[];
  /** What the LB nodes probe; absent: health checks off (every target counts as healthy). */
  healthCheck?: HealthCheckSpec;
}

export interface LbTarget {
  ip: string;
  port: number;
  instanceId: string;
  /** 0–100; 0 drains: no new flows, existing ones go on. */
  weight: number;
  healthy?: boolean;
}

/** A listener's health check, normalised from Tencent's HealthCheck. */
export interface HealthCheckSpec {
  /** TCP connect; HTTP request (TCP listeners); PING, an ICMP echo (UDP listeners, as Tencent's UDP checks). */
  type: 'tcp' | 'http' | 'ping';
  /** IntervalTime, TimeOut: milliseconds. */
  intervalMs: number;
  timeoutMs: number;
  /** HealthNum: consecutive successes that make a dead target alive; UnHealthNum: failures that make it dead. */
  rise: number;
  fall: number;
  /** CheckPort: probe this port instead of the target's. */
  port?: number;
  /** HTTP: path, Host header, method (GET or HEAD) and the accepted status classes (Tencent's HttpCode bits: 1 = 1xx … 16 = 5xx). */
  httpPath?: string;
  httpDomain?: string;
  httpMethod?: 'GET' | 'HEAD';
  httpCodes?: number;
}

/**
 * A VPC's NAT gateways as a gateway node runs them (docs/public-network.md
 * "NAT gateways (data path)"): source NAT of the subnets and interfaces of
 * the SNAT rules to their EIPs, port forwarding by the DNAT rules, sessions
 * in conntrack zone `zone` (the same on every node; conntrackd copies them
 * between nodes so that the next in rank carries on when one fails).
 */
export interface NatContext {
  /** Conntrack zone of the VPC's sessions on every gateway node (1–65535). */
  zone: number;
  /**
   * This node's place in the order in which nodes carry the VPC's NAT
   * traffic: 0 carries it; k takes over when the k nodes before it are
   * down. The node announces the gateways' EIPs with k extra AS hops.
   */
  rank: number;
  /** Sorted by ID. */
  gateways: NatGatewayRules[];
}

export interface NatGatewayRules {
  natGatewayId: string;
  /** The gateway's EIPs, sorted. */
  publicIps: string[];
  /** Outbound limits of those EIPs (Mbit/s; PublicIpAddressesBandwidthOut), by address: enforced whole on the node that carries the VPC's NAT. */
  eipBandwidthMbps?: Record<string, number>;
  /**
   * SNAT rules, most specific source first (an interface's /32 before its
   * subnet's CIDR): a new flow from `source` leaves with one of `publicIps`,
   * chosen by a hash of the private address (the same address always gets
   * the same EIP).
   */
  snat: { natGatewaySnatId: string; source: string; publicIps: string[] }[];
  /** Port forwarding, sorted by public address, protocol and port. */
  dnat: { protocol: 'tcp' | 'udp'; publicIp: string; publicPort: number; privateIp: string; privatePort: number }[];
  /**
   * EnableGatewayFlowMonitor: count traffic per private address of the VPC
   * (bytes and packets each way, conntrack entries, new connections) and
   * report it (GatewayFlowSample). Absent when off.
   */
  flowMonitor?: boolean;
  /**
   * ModifyGatewayFlowQos: caps on the traffic a private address sends out
   * through the gateway, sorted by privateIp (numerically); 0 Mbps drops it
   * all. Absent when there are none.
   */
  qos?: { privateIp: string; bandwidthMbps: number }[];
}

export interface ElasticIp {
  publicIp: string;
  privateIp: string;
  instanceId: string;
  /** Outbound limit (InternetMaxBandwidthOut), Mbit/s: held across the nodes that carry it (eip-limits.ts). */
  bandwidthMbps: number;
  /** A small limit: the hosts send this EIP's traffic to the VPC's owner node, which enforces all of it. */
  pinned?: true;
}

/** A route table as the data plane uses it: enabled routes only, next hops resolved. */
export interface RouteTable {
  routeTableId: string;
  main: boolean;
  /** Subnets associated with it (CIDR is what a tunnel-side lookup matches the source against), sorted by ID. */
  subnets: { subnetId: string; cidr: string }[];
  /** Enabled routes, one per destination (several NORMAL_CVM routes to one destination are one ECMP route), sorted by destination. */
  routes: TableRoute[];
}

export type TableRoute =
  | {
      /** Normalised IPv4 CIDR (network address / prefix), never inside the VPC's CIDR (it may contain it: 0.0.0.0/0). */
      destination: string;
      kind: 'instance';
      /**
       * Next hops that are up (the instance exists, is running and is placed),
       * sorted by address; several form an ECMP group (flows spread by 5-tuple
       * hash, pinned to their member while it stays). Empty: every next hop is
       * down, and the destination is a blackhole (no fallback to a shorter route).
       */
      nextHops: NextHop[];
      /** Route IDs (Tencent RouteItemId) that make up this entry, for explanations. */
      routeIds: string[];
    }
  | {
      destination: string;
      kind: 'peering';
      peeringId: string;
      peerVpcId: string;
      routeIds: string[];
    }
  | {
      /** To the internet as the sender's EIP (GatewayType EIP): over the tunnel to the gateway cluster (`publicGateway`); a sender without an EIP is dropped there. */
      destination: string;
      kind: 'eip';
      routeIds: string[];
    }
  | {
      /** Sent to a NAT gateway: over the tunnel to the VPC's `ownerGateway`. */
      destination: string;
      kind: 'nat';
      natGatewayId: string;
      routeIds: string[];
    };

export interface NextHop {
  /** The instance's private address (Tencent's GatewayId for NORMAL_CVM). */
  ip: string;
  instanceId: string;
}

/** A stateless network ACL: entries in order, the first that matches decides; none matching drops. */
export interface NetworkAcl {
  /** Traffic entering the subnet (the peer is the source). */
  ingress: AclRule[];
  /** Traffic leaving the subnet (the peer is the destination). */
  egress: AclRule[];
}

export interface AclRule {
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  /** Destination port ranges (tcp/udp), inclusive; empty means every port. */
  ports: [number, number][];
  /** Normalised IPv4 CIDR of the peer. (IPv6 entries never match an IPv4 packet and are left out.) */
  cidr: string;
  action: 'accept' | 'drop';
}

export interface PeeringLink {
  peeringId: string;
  peerVpcId: string;
  /** Interface name of the link's end in this VPC's router (the peer's end has the same name in its router). */
  ifname: string;
  /** MAC of this end; the peer's end is `peerMac` (neighbours are static: no ARP on the link). */
  mac: string;
  peerMac: string;
}

export interface SubnetContext {
  subnetId: string;
  cidr: string; // 10.0.1.0/24
  gateway: string; // 10.0.1.1
  /** Route table the subnet is associated with (in `routeTables`). */
  routeTableId?: string;
  /** Network ACL bound to the subnet (in `networkAcls`); none: no ACL, everything passes the boundary. */
  networkAclId?: string;
}

export interface Port {
  instanceId: string;
  /** Interface name on the router side (≤ 15 bytes). */
  ifname: string;
  ip: string;
  mac: string;
  subnetId: string;
  /** Prefix length of the subnet (the instance's eth0 address is ip/prefix). */
  prefix: number;
  gateway: string;
  /** Bound security groups in evaluation order. */
  securityGroups: string[];
  /**
   * Destinations routed to this instance (it is a NORMAL_CVM next hop for
   * them, in any table of the VPC a subnet uses): it may also send from these, so it can
   * forward. Normalised, sorted, none contained in another.
   */
  routedCidrs?: string[];
  /** The elastic IP bound to this instance, if any: its traffic to the internet leaves through the gateways. */
  publicIp?: string;
  /** Its EIP has a small limit: its public traffic goes to the VPC's owner node (`ownerGateway`), not to any gateway. */
  publicPinned?: true;
}

export interface RemoteEndpoint {
  ip: string;
  instanceId: string;
  hostId: string;
  /** Underlay address of the host the instance is on. */
  underlay: string;
  /** routerMac of that host for this VPC. */
  routerMac: string;
}

export interface SecurityGroupRules {
  ingress: Rule[];
  egress: Rule[];
}

/** One policy, normalised: evaluated in order, the first that matches decides. */
export interface Rule {
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all' */
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all';
  /** Port ranges for tcp/udp; empty means all ports. */
  ports: [number, number][];
  /** Peer as a normalised CIDR (a bare address becomes /32), or a security group whose members' addresses match. Exactly one. */
  cidr?: string;
  ipv6Cidr?: string;
  group?: string;
  action: 'accept' | 'drop';
}
