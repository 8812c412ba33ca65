/**
 * What the topology of one VPC is made of, loaded through the public API
 * only: the VPC, its subnets, instances, route tables, NAT gateways, peering
 * connections and load balancers. A resource whose action fails (a service
 * this region does not run, say) is left out and the failure kept beside the
 * picture, so the rest still draws.
 */
import type { Api } from '../api';

export interface Vpc {
  VpcId: string;
  VpcName: string;
  CidrBlock: string;
  CreatedTime?: string;
}
export interface Subnet {
  SubnetId: string;
  SubnetName: string;
  CidrBlock: string;
  Zone: string;
  RouteTableId: string;
  NetworkAclId?: string;
  AvailableIpAddressCount?: number;
}
export interface Instance {
  InstanceId: string;
  InstanceName: string;
  InstanceState: string;
  PrivateIpAddresses: string[];
  PublicIpAddresses?: string[];
  VirtualPrivateCloud: { VpcId: string; SubnetId: string };
  SecurityGroupIds?: string[];
  InstanceType?: string;
  Placement?: { Zone: string };
}
export interface Route {
  DestinationCidrBlock: string;
  GatewayType: string;
  GatewayId: string;
  RouteId: number;
  Enabled?: boolean;
}
export interface RouteTable {
  RouteTableId: string;
  RouteTableName: string;
  Main: boolean;
  AssociationSet: { SubnetId: string }[];
  RouteSet: Route[];
}
export interface NatGateway {
  NatGatewayId: string;
  NatGatewayName: string;
  State: string;
  SubnetId?: string | null;
  PublicIpAddressSet?: { AddressId: string; PublicIpAddress: string }[];
}
export interface Peering {
  PeeringConnectionId: string;
  PeeringConnectionName: string;
  SourceVpcId: string;
  PeerVpcId: string;
  State: string;
}
export interface LoadBalancer {
  LoadBalancerId: string;
  LoadBalancerName: string;
  LoadBalancerType: string;
  LoadBalancerVips: string[];
  SubnetId?: string;
  Status?: number;
}

/** A part of the picture the API would not give, and why. */
export interface Skipped {
  what: string;
  error: unknown;
}

export interface Topology {
  vpc: Vpc;
  subnets: Subnet[];
  instances: Instance[];
  /** Instances of the VPC beyond those drawn (the drawing stops at MAX_INSTANCES). */
  instancesTotal: number;
  routeTables: RouteTable[];
  natGateways: NatGateway[];
  peerings: Peering[];
  loadBalancers: LoadBalancer[];
  /** Names of the VPCs at the other end of peerings, where the caller may see them. */
  peerVpcs: Map<string, Vpc>;
  skipped: Skipped[];
}

/** At most this many instances are drawn: the reachability matrix's own limit, and well past a readable picture. */
export const MAX_INSTANCES = 500;
const PAGE = 100;

/** Every page of a Describe action (Offset/Limit), up to `max` rows. */
async function allPages<R>(fetch: (offset: number, limit: number) => Promise<{ rows: R[]; total: number }>, max = 1000): Promise<{ rows: R[]; total: number }> {
  const rows: R[] = [];
  let total = 0;
  for (let offset = 0; offset < max; offset += PAGE) {
    const page = await fetch(offset, Math.min(PAGE, max - offset));
    rows.push(...page.rows);
    total = page.total;
    if (rows.length >= total || !page.rows.length) break;
  }
  return { rows, total };
}

const vpcFilter = (vpcId: string) => [{ Name: 'vpc-id', Values: [vpcId] }];

/** Runs `load`; on an API error notes it in `skipped` and gives `fallback`. */
async function orSkip<T>(what: string, skipped: Skipped[], fallback: T, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    skipped.push({ what, error });
    return fallback;
  }
}

export async function loadTopology(api: Api, vpcId: string): Promise<Topology> {
  const skipped: Skipped[] = [];
  const f = vpcFilter(vpcId);
  // The VPC itself must exist: its error is the page's error. Asked alongside the rest, not before it.
  const [vpcs, subnets, instances, routeTables, natGateways, peerings, loadBalancers] = await Promise.all([
    api.call<{ VpcSet: Vpc[] }>('vpc', 'DescribeVpcs', { VpcIds: [vpcId] }),
    orSkip('DescribeSubnets', skipped, [] as Subnet[], async () =>
      (await allPages((Offset, Limit) => api.call<{ SubnetSet: Subnet[]; TotalCount: number }>('vpc', 'DescribeSubnets', { Filters: f, Offset: String(Offset), Limit: String(Limit) }).then((r) => ({ rows: r.SubnetSet, total: r.TotalCount })))).rows,
    ),
    orSkip('DescribeInstances', skipped, { rows: [] as Instance[], total: 0 }, () =>
      allPages(
        (Offset, Limit) =>
          api.call<{ InstanceSet: Instance[]; TotalCount: number }>('cvm', 'DescribeInstances', { Filters: f, Offset, Limit }).then((r) => ({ rows: r.InstanceSet, total: r.TotalCount })),
        MAX_INSTANCES,
      ),
    ),
    orSkip('DescribeRouteTables', skipped, [] as RouteTable[], async () =>
      (await allPages((Offset, Limit) => api.call<{ RouteTableSet: RouteTable[]; TotalCount: number }>('vpc', 'DescribeRouteTables', { Filters: f, Offset: String(Offset), Limit: String(Limit) }).then((r) => ({ rows: r.RouteTableSet, total: r.TotalCount })))).rows,
    ),
    orSkip('DescribeNatGateways', skipped, [] as NatGateway[], async () =>
      (await allPages((Offset, Limit) => api.call<{ NatGatewaySet: NatGateway[]; TotalCount: number }>('vpc', 'DescribeNatGateways', { Filters: f, Offset, Limit }).then((r) => ({ rows: r.NatGatewaySet, total: r.TotalCount })))).rows,
    ),
    orSkip('DescribeVpcPeeringConnections', skipped, [] as Peering[], async () =>
      (await allPages((Offset, Limit) => api.call<{ PeerConnectionSet: Peering[]; TotalCount: number }>('vpc', 'DescribeVpcPeeringConnections', { Filters: f, Offset, Limit }).then((r) => ({ rows: r.PeerConnectionSet, total: r.TotalCount })))).rows,
    ),
    orSkip('DescribeLoadBalancers', skipped, [] as LoadBalancer[], async () =>
      (await allPages((Offset, Limit) => api.call<{ LoadBalancerSet: LoadBalancer[]; TotalCount: number }>('clb', 'DescribeLoadBalancers', { VpcId: vpcId, Offset, Limit }).then((r) => ({ rows: r.LoadBalancerSet, total: r.TotalCount })))).rows,
    ),
  ]);
  const vpc = vpcs.VpcSet[0];
  if (!vpc) throw new Error(`${vpcId} not found`);
  // The other ends of peerings: named when they are the caller's, bare IDs when another account's (the API answers only for one's own).
  const peerIds = [...new Set(peerings.map((p) => otherEnd(p, vpcId)))];
  const peerVpcs = new Map<string, Vpc>();
  if (peerIds.length)
    await orSkip('DescribeVpcs (peers)', [], undefined, async () => {
      const r = await api.call<{ VpcSet: Vpc[] }>('vpc', 'DescribeVpcs', { VpcIds: peerIds.slice(0, 100) });
      for (const v of r.VpcSet) peerVpcs.set(v.VpcId, v);
    });
  return { vpc, subnets, instances: drawingOrder({ subnets, instances: instances.rows }), instancesTotal: instances.total, routeTables, natGateways, peerings, loadBalancers, peerVpcs, skipped };
}

/** Instances by name as people number them (web2 before web10), then by address. */
export const byName = (a: Instance, b: Instance) =>
  a.InstanceName.localeCompare(b.InstanceName, undefined, { numeric: true }) || ipNumber(a.PrivateIpAddresses[0]) - ipNumber(b.PrivateIpAddresses[0]);
const ipNumber = (ip = '') => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** The instances in the order the picture shows them: subnet by subnet, by name within one. */
export function drawingOrder(t: Pick<Topology, 'subnets' | 'instances'>): Instance[] {
  const rank = new Map(t.subnets.map((s, i) => [s.SubnetId, i]));
  return [...t.instances].sort((a, b) => (rank.get(a.VirtualPrivateCloud.SubnetId) ?? 1e9) - (rank.get(b.VirtualPrivateCloud.SubnetId) ?? 1e9) || byName(a, b));
}

/** The VPC at the far end of a peering, seen from `vpcId`. */
export const otherEnd = (p: Peering, vpcId: string) => (p.SourceVpcId === vpcId ? p.PeerVpcId : p.SourceVpcId);

/**
 * Which host each instance is on. DescribeInstances does not say (Tencent's
 * model has no such field); the reachability matrix does, in its InstanceSet.
 * Asked in small batches of the instances not known yet, with ICMP (the
 * cheapest flow), so a batch costs batch² traces and is asked once.
 */
export async function loadHosts(api: Api, vpcId: string, instanceIds: string[], batch = 8): Promise<Map<string, string>> {
  const hosts = new Map<string, string>();
  for (let i = 0; i < instanceIds.length; i += batch) {
    const ids = instanceIds.slice(i, i + batch);
    const r = await api.call<{ InstanceSet: { InstanceId: string; HostId: string }[] }>('vpc', 'DescribeVpcReachability', { VpcId: vpcId, Protocol: 'ICMP', InstanceIds: ids });
    for (const x of r.InstanceSet) hosts.set(x.InstanceId, x.HostId);
  }
  return hosts;
}
