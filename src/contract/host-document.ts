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

export interface HostDocument {
  hostId: string;
  /** Region revision this document was compiled at. */
  revision: number;
  /** This host's address on the underlay (VXLAN endpoint). */
  underlay: string;
  vpcs: VpcContext[];
}

/** One VPC as present on one host: its router context. */
export interface VpcContext {
  vpcId: string;
  /** VXLAN network identifier of the VPC (24 bits), the same on every host. */
  vni: number;
  /** MAC of this host's end of the VPC tunnel (derived from host and VNI; peers address frames to it). */
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
}

export interface SubnetContext {
  subnetId: string;
  cidr: string; // 10.0.1.0/24
  gateway: string; // 10.0.1.1
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
  /** Peer as a CIDR, or a security group whose members' addresses match. Exactly one. */
  cidr?: string;
  ipv6Cidr?: string;
  group?: string;
  action: 'accept' | 'drop';
}
