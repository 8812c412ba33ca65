/**
 * The topology as a graph: which boxes and lines a VPC is drawn with, and
 * where they go. Pure (no React), so the tracer's highlighting can reason
 * about the same node and edge IDs the picture uses.
 *
 * The shape, left to right: what lies outside the VPC (peer VPCs, peering
 * connections, NAT gateways) → the VPC router (with route tables and load
 * balancers beside it) → the subnets, each a box holding its instances in a
 * grid. Instances are not separate layers: fifty of them in one column would
 * shrink the picture to unreadable, while a grid inside their subnet keeps
 * the whole VPC about as wide as it is tall.
 */
import type { Topology } from './model';
import { otherEnd } from './model';

export type NodeKind = 'router' | 'subnet' | 'instance' | 'routeTable' | 'nat' | 'peering' | 'peerVpc' | 'lb';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  title: string;
  /** Short lines under the title (CIDR, IP, state …). */
  lines: string[];
  /** Every field the details panel lists. */
  fields: [string, string][];
  /** The subnet box an instance sits in. */
  parent?: string;
  width: number;
  height: number;
  /** For an instance: its state (styled `state-<STATE>`); for others, unused. */
  state?: string;
  /** A link the details panel offers (a peer VPC's own topology). */
  href?: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const routerId = (vpcId: string) => `router:${vpcId}`;
export const peerVpcNodeId = (vpcId: string) => `peer:${vpcId}`;

export const INSTANCE_W = 168;
export const INSTANCE_H = 62;
const GAP = 10;
const SUBNET_HEAD = 46;
const SUBNET_PAD = 12;
const BOX_W = 190;

/** Columns of a subnet's instance grid: close to square, never wider than five. */
export const gridColumns = (n: number) => Math.max(1, Math.min(5, Math.ceil(Math.sqrt(n))));

/** Where the i-th instance of a subnet sits, relative to its subnet box. */
export function instanceSlot(i: number, n: number): { x: number; y: number } {
  const cols = gridColumns(n);
  return { x: SUBNET_PAD + (i % cols) * (INSTANCE_W + GAP), y: SUBNET_HEAD + Math.floor(i / cols) * (INSTANCE_H + GAP) };
}

function subnetSize(n: number): { width: number; height: number } {
  const cols = gridColumns(n);
  const rows = Math.max(1, Math.ceil(n / cols));
  return {
    width: Math.max(BOX_W + 20, 2 * SUBNET_PAD + cols * INSTANCE_W + (cols - 1) * GAP),
    height: SUBNET_HEAD + SUBNET_PAD + (n ? rows * INSTANCE_H + (rows - 1) * GAP : 20),
  };
}

/** Turns a loaded topology into nodes and edges; `hosts` says where each instance runs, where known. */
export function buildGraph(t: Topology, hosts: Map<string, string>): Graph {
  const vpcId = t.vpc.VpcId;
  const router = routerId(vpcId);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const edge = (source: string, target: string, label?: string) => edges.push({ id: `${source}->${target}`, source, target, label });

  nodes.push({
    id: router,
    kind: 'router',
    title: t.vpc.VpcName || vpcId,
    lines: [vpcId, t.vpc.CidrBlock],
    fields: [
      ['VpcId', vpcId],
      ['VpcName', t.vpc.VpcName],
      ['CidrBlock', t.vpc.CidrBlock],
      ['CreatedTime', t.vpc.CreatedTime ?? ''],
      ['Subnets', String(t.subnets.length)],
      ['Instances', String(t.instancesTotal)],
    ],
    width: BOX_W,
    height: 70,
  });

  const bySubnet = new Map<string, typeof t.instances>();
  for (const i of t.instances) {
    const list = bySubnet.get(i.VirtualPrivateCloud.SubnetId) ?? [];
    list.push(i);
    bySubnet.set(i.VirtualPrivateCloud.SubnetId, list);
  }
  for (const s of t.subnets) {
    const members = bySubnet.get(s.SubnetId) ?? [];
    nodes.push({
      id: s.SubnetId,
      kind: 'subnet',
      title: `${s.SubnetName || s.SubnetId} · ${s.CidrBlock}`,
      lines: [`${s.SubnetId} · ${s.Zone}${s.NetworkAclId ? ` · ${s.NetworkAclId}` : ''}`],
      fields: [
        ['SubnetId', s.SubnetId],
        ['SubnetName', s.SubnetName],
        ['CidrBlock', s.CidrBlock],
        ['Zone', s.Zone],
        ['RouteTableId', s.RouteTableId],
        ['NetworkAclId', s.NetworkAclId || '—'],
        ['AvailableIpAddressCount', String(s.AvailableIpAddressCount ?? '')],
        ['Instances', String(members.length)],
      ],
      ...subnetSize(members.length),
    });
    edge(router, s.SubnetId);
    members.forEach((i) => {
      const host = hosts.get(i.InstanceId);
      nodes.push({
        id: i.InstanceId,
        kind: 'instance',
        parent: s.SubnetId,
        title: i.InstanceName || i.InstanceId,
        lines: [`${i.PrivateIpAddresses[0] ?? ''}${host ? ` · ${host}` : ''}`],
        state: i.InstanceState,
        fields: [
          ['InstanceId', i.InstanceId],
          ['InstanceName', i.InstanceName],
          ['InstanceState', i.InstanceState],
          ['PrivateIpAddresses', i.PrivateIpAddresses.join(', ')],
          ['PublicIpAddresses', (i.PublicIpAddresses ?? []).join(', ') || '—'],
          ['Host', host ?? '—'],
          ['SubnetId', s.SubnetId],
          ['SecurityGroupIds', (i.SecurityGroupIds ?? []).join(', ') || '—'],
          ['InstanceType', i.InstanceType ?? ''],
          ['Zone', i.Placement?.Zone ?? ''],
        ],
        width: INSTANCE_W,
        height: INSTANCE_H,
      });
    });
  }

  const subnetIds = new Set(t.subnets.map((s) => s.SubnetId));
  for (const rt of t.routeTables) {
    const routes = rt.RouteSet.filter((r) => r.GatewayType !== 'LOCAL');
    nodes.push({
      id: rt.RouteTableId,
      kind: 'routeTable',
      title: `${rt.RouteTableName || rt.RouteTableId}${rt.Main ? ' (main)' : ''}`,
      lines: [rt.RouteTableId, `${routes.length} route${routes.length === 1 ? '' : 's'}`],
      fields: [
        ['RouteTableId', rt.RouteTableId],
        ['RouteTableName', rt.RouteTableName],
        ['Main', String(rt.Main)],
        ['Subnets', rt.AssociationSet.map((a) => a.SubnetId).join(', ') || '—'],
        ...rt.RouteSet.map((r): [string, string] => [`Route ${r.RouteId}`, `${r.DestinationCidrBlock} → ${r.GatewayType} ${r.GatewayId}${r.Enabled === false ? ' (disabled)' : ''}`]),
      ],
      width: BOX_W,
      height: 58,
    });
    for (const a of rt.AssociationSet) if (subnetIds.has(a.SubnetId)) edge(rt.RouteTableId, a.SubnetId);
  }

  for (const n of t.natGateways) {
    const eips = (n.PublicIpAddressSet ?? []).map((e) => e.PublicIpAddress);
    nodes.push({
      id: n.NatGatewayId,
      kind: 'nat',
      title: n.NatGatewayName || n.NatGatewayId,
      lines: [n.NatGatewayId, eips.join(', ') || n.State],
      fields: [
        ['NatGatewayId', n.NatGatewayId],
        ['NatGatewayName', n.NatGatewayName],
        ['State', n.State],
        ['SubnetId', n.SubnetId || '—'],
        ['PublicIpAddresses', eips.join(', ') || '—'],
      ],
      width: BOX_W,
      height: 58,
    });
    edge(n.NatGatewayId, router);
  }

  const peers = new Set<string>();
  for (const p of t.peerings) {
    const other = otherEnd(p, vpcId);
    nodes.push({
      id: p.PeeringConnectionId,
      kind: 'peering',
      title: p.PeeringConnectionName || p.PeeringConnectionId,
      lines: [p.PeeringConnectionId, p.State],
      fields: [
        ['PeeringConnectionId', p.PeeringConnectionId],
        ['PeeringConnectionName', p.PeeringConnectionName],
        ['State', p.State],
        ['SourceVpcId', p.SourceVpcId],
        ['PeerVpcId', p.PeerVpcId],
      ],
      width: BOX_W,
      height: 58,
    });
    if (!peers.has(other)) {
      peers.add(other);
      const v = t.peerVpcs.get(other);
      nodes.push({
        id: peerVpcNodeId(other),
        kind: 'peerVpc',
        title: v?.VpcName || other,
        lines: [other, v?.CidrBlock ?? 'another account'],
        fields: [
          ['VpcId', other],
          ['VpcName', v?.VpcName ?? '—'],
          ['CidrBlock', v?.CidrBlock ?? '—'],
        ],
        href: v ? `#/topology/${other}` : undefined,
        width: BOX_W,
        height: 58,
      });
    }
    edge(peerVpcNodeId(other), p.PeeringConnectionId);
    edge(p.PeeringConnectionId, router);
  }

  for (const lb of t.loadBalancers) {
    nodes.push({
      id: lb.LoadBalancerId,
      kind: 'lb',
      title: lb.LoadBalancerName || lb.LoadBalancerId,
      lines: [lb.LoadBalancerId, `${lb.LoadBalancerType} ${lb.LoadBalancerVips.join(', ')}`],
      fields: [
        ['LoadBalancerId', lb.LoadBalancerId],
        ['LoadBalancerName', lb.LoadBalancerName],
        ['LoadBalancerType', lb.LoadBalancerType],
        ['LoadBalancerVips', lb.LoadBalancerVips.join(', ')],
        ['SubnetId', lb.SubnetId || '—'],
      ],
      width: BOX_W,
      height: 58,
    });
    // Its VIP lives in a subnet when it has one; a public one hangs off the router.
    if (lb.SubnetId && subnetIds.has(lb.SubnetId)) edge(lb.LoadBalancerId, lb.SubnetId);
    else edge(lb.LoadBalancerId, router);
  }
  return { nodes, edges };
}

export type Positions = Map<string, { x: number; y: number }>;

/** A key that changes only when the layout would: which nodes, their sizes, and the edges. */
export const layoutKey = (g: Graph) =>
  g.nodes
    .filter((n) => !n.parent)
    .map((n) => `${n.id}:${n.width}x${n.height}`)
    .join(',') +
  '|' +
  g.edges.map((e) => e.id).join(',');

type Elk = InstanceType<typeof import('elkjs/lib/elk.bundled.js').default>;
let elkLoading: Promise<Elk> | undefined;
/** elkjs, loaded once; the page starts this early so its 1.5 MB parse overlaps the API calls. */
export const loadElk = () => (elkLoading ??= import('elkjs/lib/elk.bundled.js').then(({ default: ELK }) => new ELK()));

/**
 * Positions for every node: elkjs's layered algorithm, left to right, for the
 * boxes outside subnets; the instance grid inside each subnet. elkjs is
 * its bundled build: no worker file to serve.
 */
export async function layout(g: Graph): Promise<Positions> {
  const elk = await loadElk();
  const top = g.nodes.filter((n) => !n.parent);
  const ids = new Set(top.map((n) => n.id));
  const result = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '90',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
    children: top.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: g.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const pos: Positions = new Map();
  for (const c of result.children ?? []) pos.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
  const counts = new Map<string, number>();
  const inSubnet = new Map<string, number>();
  for (const n of g.nodes) if (n.parent) counts.set(n.parent, (counts.get(n.parent) ?? 0) + 1);
  for (const n of g.nodes) {
    if (!n.parent) continue;
    const i = inSubnet.get(n.parent) ?? 0;
    inSubnet.set(n.parent, i + 1);
    pos.set(n.id, instanceSlot(i, counts.get(n.parent)!));
  }
  return pos;
}
