/**
 * The compiler: a host's span of the region state → its HostDocument. Pure
 * and deterministic (everything sorted), so equal state gives byte-equal
 * documents and a changed document means a changed host.
 */
import { netDetectProbes, placeNetDetects, sourceEndpoints, type NetDetectPlacement, type NetDetectRow } from './net-detects.js';
import { createHash } from 'node:crypto';
import { collapseCidrs, formatCidr, formatIp, normaliseCidr, parseCidr, parseIp, parsePeer, type Cidr } from '../core/cidr.js';
import { gatewayOf } from '../core/ipam.js';
import { DEFAULT_LB_ADDRESS, gatewayNodeAddress } from '../core/region.js';
import { hostLbContext, loadBalancersOf } from './load-balancers.js';
import { natFlowRules, type NatFlowRows } from './nat-flows.js';
import { flowLogCaptures, type FlowLogSpanRow } from './flow-logs.js';
import { portSpec } from '../core/sg-policy.js';
import type {
  AclRule,
  ElasticIp,
  HostDocument,
  NatContext,
  NatGatewayRules,
  NetworkAcl,
  PeeringLink,
  Port,
  RemoteEndpoint,
  RouteTable,
  Rule,
  SecurityGroupRules,
  TableRoute,
  VpcContext,
} from '../contract/host-document.js';

/** What the compiler reads for one host (loaded by load.ts). */
export interface HostSpan {
  host: { id: string; underlay: string; role?: string };
  revision: number;
  /** Underlay address of every host that has an instance in a spanned VPC. */
  underlays: Record<string, string>;
  /** The VPCs of the host's instances, and the VPCs actively peered with them. */
  vpcs: { id: string; vni: number; cidr?: string }[];
  /** Every instance of the spanned VPCs. A STOPPED one has no port anywhere (and is no next hop). */
  instances: { id: string; vpc_id: string; subnet_id: string; private_ip: string; mac: string; host_id: string | null; state?: string; eni_id?: string }[];
  /** Subnets of the spanned VPCs (at least those of the host's instances), with their route table and ACL. */
  subnets: { id: string; cidr: string; vpc_id?: string; route_table_id?: string; network_acl_id?: string }[];
  /** Group bindings of every instance in `instances`. */
  bindings: { instance_id: string; sg_id: string; position: number }[];
  /** Policies of the groups bound to this host's instances. */
  policies: { sg_id: string; direction: 'ingress' | 'egress'; position: number; protocol: string; port: string; cidr: string; ipv6_cidr: string; ref_sg_id: string; action: string }[];
  /** Route tables of the spanned VPCs. */
  routeTables?: { id: string; vpc_id: string; is_main: number }[];
  /** Their enabled user routes (not the LOCAL ones). */
  routes?: { id: string; route_table_id: string; destination: string; gateway_type: string; gateway_id: string }[];
  /** Entries of the network ACLs of the host's subnets. */
  aclEntries?: { acl_id: string; direction: 'ingress' | 'egress'; position: number; protocol: string; port: string; cidr: string; ipv6_cidr: string; action: string }[];
  /** ACTIVE peering connections between spanned VPCs. */
  peerings?: { id: string; vpc_id: string; peer_vpc_id: string }[];
  /** Elastic IPs bound to instances of the spanned VPCs, with their outbound limit (Mbit/s). */
  addresses?: { ip: string; private_ip: string; instance_id: string; bandwidth?: number }[];
  /** The region's gateway cluster on the underlay (core/region.ts); without it no host sends public traffic. */
  gatewayAddress?: string;
  /** The LB cluster's tunnel address (core/region.ts DEFAULT_LB_ADDRESS unless set). */
  lbAddress?: string;
  /** NAT gateways of the spanned VPCs. */
  natGateways?: { id: string; vpc_id: string }[];
  /** The region's gateway nodes (hosts with role gateway), in order: node n is the n-th (core/region.ts gatewayNodeAddress). */
  gatewayNodes?: string[];
  /** On a gateway: the EIPs its NAT gateways hold, and their SNAT and DNAT rules. */
  natAddresses?: { ip: string; nat_gateway_id: string; bandwidth?: number }[];
  snatRules?: { id: string; nat_gateway_id: string; private_ip: string; public_ips: string }[];
  dnatRules?: { nat_gateway_id: string; protocol: string; public_ip: string; public_port: number; private_ip: string; private_port: number }[];
  /** On a gateway: the NAT gateways' flow monitor and per-address caps (nat-flows.ts). */
  natFlows?: Map<string, NatFlowRows>;
  /** Load balancers of the spanned VPCs. */
  loadBalancers?: { id: string; vpc_id: string; vip: string; type: string }[];
  /** The region's LB nodes in their natural order (lb2 before lb10): node n is the n-th. */
  lbNodes?: { id: string; underlay: string }[];
  /** On an LB node: the listeners, targets and per-node health-check statuses of its load balancers. */
  lbListeners?: { id: string; load_balancer_id: string; protocol: string; port: number; health_check: string }[];
  lbTargets?: { listener_id: string; load_balancer_id: string; instance_id: string; private_ip: string; port: number; weight: number }[];
  lbHealth?: { listener_id: string; private_ip: string; port: number; status: string }[];
  /** Network detections of the spanned VPCs (net-detects.ts). */
  netDetects?: NetDetectRow[];
  /** Enabled flow logs of the spanned VPCs (flow-logs.ts). */
  flowLogs?: FlowLogSpanRow[];
}

/** MAC of a host's tunnel end for one VPC: locally administered, the same wherever it is computed. */
export function routerMac(hostId: string, vni: number): string {
  const h = createHash('sha256').update(`${hostId}/${vni}`).digest();
  return ['0a', ...Array.from(h.subarray(0, 5), (b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** MAC of the gateway cluster's tunnel end for one VPC: the same on every gateway, which any of them may carry. */
export const gatewayMac = (vni: number) => routerMac('gateway-cluster', vni);

/** MAC a VPC's routers on the gateway nodes answer to for traffic sent to the VPC's owner node (VpcContext.ownerGateway). */
export const ownerMac = (vni: number) => routerMac('nat-gateway', vni);

/** MAC of the LB cluster's tunnel end for one VPC: the same on every LB node, which any of them may answer. */
export const lbMac = (vni: number) => routerMac('lb-cluster', vni);

/** MAC LB node `n` sends from in one VPC: a flow's replies come back to the node whose MAC its last packet carried. */
export const lbNodeMac = (vni: number, n: number) => routerMac(`lb-node-${n}`, vni);

/** Conntrack zone of a VPC's NAT sessions on every gateway node: 1–65535 (zone 0 is everything else's). */
export const natZone = (vni: number) => 1 + (vni % 65535);

/**
 * The gateway node (index into the ordered nodes) that carries a VPC's NAT
 * traffic: a hash of the VPC, so VPCs spread over the nodes and every
 * compiler agrees. The others follow it in order (rank 1 is the next node).
 */
export function natOwner(vpcId: string, nodes: number): number {
  return createHash('sha256').update(vpcId).digest().readUInt32BE(0) % nodes;
}

/**
 * Below this limit (Mbit/s) an EIP is pinned to its VPC's owner node, which
 * enforces all of it: split over several nodes, a share of 1 Mbit/s is less
 * than a few packets per scheduling interval, and the split is not precise
 * (source document 001 does the same for small outbound limits).
 */
export const PIN_BELOW_MBPS = 10;

/** Router-side interface name of an instance's port (IFNAMSIZ allows 15 bytes). */
export const portName = (instanceId: string) => `p${instanceId.replace(/^ins-/, '')}`;

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** A stored Port (`ALL`, `80`, `80,443`, `8000-8010`) as inclusive ranges; [] means every port. */
export function portRanges(port: string): [number, number][] {
  const spec = portSpec(port);
  return spec === 'ALL' ? [] : spec.map(([lo, hi]) => [lo, hi]);
}

export function toRule(p: HostSpan['policies'][number]): Rule {
  const protocol = p.protocol.toLowerCase() as Rule['protocol'];
  const rule: Rule = {
    protocol,
    ports: protocol === 'tcp' || protocol === 'udp' ? portRanges(p.port) : [],
    action: p.action.toUpperCase() === 'ACCEPT' ? 'accept' : 'drop',
  };
  if (p.ref_sg_id) rule.group = p.ref_sg_id;
  else if (p.ipv6_cidr) rule.ipv6Cidr = p.ipv6_cidr.includes('/') ? p.ipv6_cidr : `${p.ipv6_cidr}/128`;
  // Normalised here, once: a bare address (Tencent accepts one) is a /32 for every driver.
  else rule.cidr = normaliseCidr(p.cidr || '0.0.0.0/0') ?? p.cidr;
  return rule;
}

/** An ACL entry as the data plane evaluates it; undefined for one that can match no IPv4 packet (IPv6 only). */
export function toAclRule(e: NonNullable<HostSpan['aclEntries']>[number]): AclRule | undefined {
  if (!e.cidr && e.ipv6_cidr) return undefined;
  const protocol = e.protocol.toLowerCase() as AclRule['protocol'];
  return {
    protocol,
    ports: protocol === 'tcp' || protocol === 'udp' ? portRanges(e.port) : [],
    cidr: normaliseCidr(e.cidr || '0.0.0.0/0') ?? e.cidr,
    action: e.action.toUpperCase() === 'ACCEPT' ? 'accept' : 'drop',
  };
}

/** MAC of a peering link's end in one VPC's router: locally administered, the same wherever computed. */
export function linkMac(peeringId: string, vpcId: string): string {
  return routerMac(`${peeringId}/${vpcId}`, 0);
}

/** A running instance has a port on its host; a stopped or unplaced one has none. */
const live = (i: HostSpan['instances'][number]) => !!i.host_id && i.state !== 'STOPPED';

/**
 * A host's document, selected from the compiled forms of the VPCs it spans
 * (vpcForms): its ports, the remotes not on it, the groups, subnets and tables
 * its ports need. What is the same on every host of a VPC is computed once per
 * VPC for every host compiled with the same `shared` (one store revision).
 */
export function compileHost(span: HostSpan, shared: SharedCompile = sharedCompile()): HostDocument {
  const snap = snapshot(shared, span.revision);
  const hostId = span.host.id;
  const forms = vpcForms(span, shared);
  const form = (vpcId: string) => forms.get(vpcId)!;
  // Routers on this host: VPCs with a running instance here, and the VPCs actively peered with those;
  // on a gateway, the VPCs whose instances have elastic IPs (and no peers: a gateway carries public traffic only).
  // On an LB node, the VPCs with load balancers (no peers either).
  const gateway = span.host.role === 'gateway';
  const lb = span.host.role === 'lb';
  const natVpcs = new Set((span.natGateways ?? []).map((n) => n.vpc_id));
  const home = gateway
    ? new Set([...span.vpcs.filter((v) => form(v.id).eipOf.size).map((v) => v.id), ...natVpcs])
    : lb
      ? new Set((span.loadBalancers ?? []).map((l) => l.vpc_id))
      : new Set(span.vpcs.filter((v) => form(v.id).localOf.has(hostId)).map((v) => v.id));
  const peerings = gateway || lb ? [] : (span.peerings ?? []).filter((p) => home.has(p.vpc_id) || home.has(p.peer_vpc_id));
  const present = new Set([...home, ...peerings.flatMap((p) => [p.vpc_id, p.peer_vpc_id])]);

  const vpcs: VpcContext[] = [];
  for (const vpc of [...span.vpcs].sort(byKey((v) => v.id))) {
    if (!present.has(vpc.id)) continue;
    const f = form(vpc.id);
    const { members, eipOf } = f;
    const local = f.localOf.get(hostId) ?? [];
    const links = peeringLinks(vpc.id, peerings);
    const common = (f.shared ??= vpcShared(span, vpc, f.running));
    const tables = hostTables(common, local, links);
    const ports: Port[] = local.map((i) => {
      const cidr = parseCidr(subnetOf(span, snap, i.subnet_id)!.cidr)!;
      const port: Port = {
        instanceId: i.id,
        ifname: portName(i.id),
        ip: i.private_ip,
        mac: i.mac,
        subnetId: i.subnet_id,
        prefix: cidr.prefix,
        gateway: formatIp(gatewayOf(cidr)),
        securityGroups: f.bound.get(i.id) ?? [],
      };
      const routed = common.routedTo.get(i.private_ip);
      if (routed?.length) port.routedCidrs = routed;
      const eip = eipOf.get(i.id);
      if (eip) port.publicIp = eip.ip;
      if (eip && pinned(eip) && (span.gatewayNodes ?? []).length) port.publicPinned = true;
      return port;
    });
    const remotes = common.endpoints.filter((r) => r.hostId !== hostId);
    const groups = [...new Set(ports.flatMap((p) => p.securityGroups))].sort();
    const securityGroups: Record<string, SecurityGroupRules> = {};
    for (const g of groups) securityGroups[g] = groupRules(span, snap, g);
    const referenced = referencedGroups(securityGroups);
    const groupMembers: Record<string, string[]> = {};
    for (const g of referenced) {
      let ips = f.groupMembers.get(g);
      if (!ips)
        f.groupMembers.set(
          g,
          (ips = members
            .filter((i) => f.bound.get(i.id)?.includes(g))
            .map((i) => i.private_ip)
            .sort()),
        );
      groupMembers[g] = ips;
    }
    const subnetIds = [...new Set(ports.map((p) => p.subnetId))].sort();
    const mainTable = f.mainTable;
    const acls: Record<string, NetworkAcl> = {};
    const context: VpcContext = {
      vpcId: vpc.id,
      vni: vpc.vni,
      routerMac: gateway ? gatewayMac(vpc.vni) : lb ? lbMac(vpc.vni) : routerMac(hostId, vpc.vni),
      subnets: subnetIds.map((id) => {
        const row = subnetOf(span, snap, id)!;
        const c = parseCidr(row.cidr)!;
        const subnet: VpcContext['subnets'][number] = { subnetId: id, cidr: row.cidr, gateway: formatIp(gatewayOf(c)) };
        const table = row.route_table_id || mainTable;
        if (table && tables.some((t) => t.routeTableId === table)) subnet.routeTableId = table;
        if (row.network_acl_id) {
          subnet.networkAclId = row.network_acl_id;
          acls[row.network_acl_id] ??= networkAcl(span, snap, row.network_acl_id);
        }
        return subnet;
      }),
      ports,
      remotes,
      securityGroups,
      groupMembers,
    };
    if (vpc.cidr) context.cidr = vpc.cidr;
    if (tables.length) context.routeTables = tables;
    if (Object.keys(acls).length) context.networkAcls = acls;
    if (links.length) context.peerings = links;
    if (gateway) {
      context.eips = f.eips ??= elasticIps(members, eipOf);
      context.ownerMac = ownerMac(vpc.vni);
      const nodes = span.gatewayNodes ?? [];
      if (nodes.includes(hostId)) context.ownerRank = (nodes.indexOf(hostId) - natOwner(vpc.id, nodes.length) + nodes.length) % nodes.length;
    }
    if (span.gatewayAddress && (ports.some((p) => p.publicIp) || tables.some((t) => t.routes.some((r) => r.kind === 'eip')))) context.publicGateway = { underlay: span.gatewayAddress, routerMac: gatewayMac(vpc.vni) };
    const nodes = span.gatewayNodes ?? [];
    if (gateway && natVpcs.has(vpc.id) && nodes.includes(hostId)) context.nat = natContext(span, vpc, nodes.indexOf(hostId), nodes.length);
    const toOwner = tables.some((t) => t.routes.some((r) => r.kind === 'nat')) || ports.some((p) => p.publicPinned);
    if (!gateway && span.gatewayAddress && nodes.length && toOwner) {
      const owner = gatewayNodeAddress(span.gatewayAddress, natOwner(vpc.id, nodes.length) + 1);
      context.ownerGateway = { underlay: owner, routerMac: ownerMac(vpc.vni) };
    }
    const probes = gateway || lb ? [] : netDetectProbes(common.netDetects, hostId, new Set(ports.map((p) => p.ip)));
    if (probes.length) context.netDetects = probes;
    if (lb) context.loadBalancers = loadBalancersOf(span, vpc.id);
    else if (!gateway) Object.assign(context, hostLbContext(span, vpc, span.lbAddress ?? DEFAULT_LB_ADDRESS));
    const captures = span.flowLogs?.length ? flowLogCaptures(span.flowLogs, vpc.id, ports, new Map(local.map((i) => [i.id, i.eni_id ?? '']))) : [];
    if (captures.length) context.flowLogs = captures;
    vpcs.push(context);
  }
  const lbNode = (span.lbNodes ?? []).findIndex((n) => n.id === hostId) + 1;
  const cluster = gateway
    ? { role: 'gateway' as const, gatewayNodes: Math.max(1, (span.gatewayNodes ?? []).length) }
    : lb
      ? { role: 'lb' as const, ...(lbNode ? { lbNode } : {}) }
      : {};
  return { hostId, revision: span.revision, underlay: span.host.underlay, ...cluster, vpcs };
}

/**
 * What compiling hosts computes once for all of them, as OVN's northd
 * compiles a logical datapath once for every chassis: per VPC its compiled
 * form (VpcForm, by VPC ID), and beside it (snapshotOf) per security group its
 * rules and per network ACL its entries. All of it depends only on the store's
 * state, so it holds for every span read at one revision (the revision names
 * the state: every write takes the next one, store.ts), whichever batch of
 * hosts read it: the document cache keeps one for the latest revision across
 * the batches a wide change wakes, and a fresh one for a new revision.
 * compileHost refuses a span of another revision than the first one compiled
 * with it. A fresh one per compile is always right (and what a single
 * compileHost gets by default).
 */
export type SharedCompile = Map<string, VpcForm>;

export const sharedCompile = (): SharedCompile => new Map();

/** The rest of what a SharedCompile holds, for the revision it was made at. */
interface Snapshot {
  revision: number;
  groups: Map<string, SecurityGroupRules>;
  acls: Map<string, NetworkAcl>;
  subnets: Map<string, HostSpan['subnets'][number]>;
}

const snapshotOf = new WeakMap<SharedCompile, Snapshot>();

function snapshot(shared: SharedCompile, revision: number): Snapshot {
  let s = snapshotOf.get(shared);
  if (!s) snapshotOf.set(shared, (s = { revision, groups: new Map(), acls: new Map(), subnets: new Map() }));
  else if (s.revision !== revision) throw new Error(`compileHost: a span of revision ${revision} with forms of revision ${s.revision}`);
  return s;
}

type Instance = HostSpan['instances'][number];
type Address = NonNullable<HostSpan['addresses']>[number];

/** A VPC as every host sees it alike; hosts select from it. */
interface VpcForm {
  /** Every instance of the VPC, sorted by ID (stopped and unplaced ones too: they are still group members). */
  members: Instance[];
  /** The running ones, sorted by ID. */
  running: Instance[];
  /** The running ones by host, sorted by ID: each host's ports. */
  localOf: Map<string, Instance[]>;
  /** Groups bound to each instance, in bound order. */
  bound: Map<string, string[]>;
  /** Elastic IPs bound to running instances, by instance. */
  eipOf: Map<string, Address>;
  /** Its main route table. */
  mainTable?: string;
  /** Sorted member addresses of each group some host references (filled as hosts ask). */
  groupMembers: Map<string, string[]>;
  /** Its elastic IPs as a gateway translates them (on the first gateway that asks). */
  eips?: ElasticIp[];
  /** Remote endpoints and route tables (on the first host that holds the VPC's router). */
  shared?: VpcShared;
}

/**
 * The forms of the VPCs a span holds: those not yet in `shared` are built
 * from this span, whose rows of a VPC are all of the VPC's rows (load.ts), in
 * one pass over the span for all of them.
 */
function vpcForms(span: HostSpan, shared: SharedCompile): Map<string, VpcForm> {
  const missing = new Set(span.vpcs.filter((v) => !shared.has(v.id)).map((v) => v.id));
  if (missing.size) {
    const instancesOf = new Map<string, Instance[]>();
    const vpcOf = new Map<string, string>();
    for (const i of span.instances)
      if (missing.has(i.vpc_id)) {
        append(instancesOf, i.vpc_id, i);
        vpcOf.set(i.id, i.vpc_id);
      }
    const bindingsOf = new Map<string, HostSpan['bindings']>();
    for (const b of span.bindings) {
      const v = vpcOf.get(b.instance_id);
      if (v) append(bindingsOf, v, b);
    }
    const addressesOf = new Map<string, Address[]>();
    for (const a of span.addresses ?? []) {
      const v = vpcOf.get(a.instance_id);
      if (v) append(addressesOf, v, a);
    }
    const mainOf = new Map<string, string>();
    for (const t of span.routeTables ?? []) if (t.is_main === 1 && missing.has(t.vpc_id) && !mainOf.has(t.vpc_id)) mainOf.set(t.vpc_id, t.id);
    for (const v of missing) {
      const members = [...(instancesOf.get(v) ?? [])].sort(byKey((i) => i.id));
      const running = members.filter(live);
      const localOf = new Map<string, Instance[]>();
      for (const i of running) append(localOf, i.host_id!, i);
      const bound = new Map<string, string[]>();
      for (const b of [...(bindingsOf.get(v) ?? [])].sort((a, b) => a.position - b.position)) append(bound, b.instance_id, b.sg_id);
      const runningIds = new Set(running.map((i) => i.id));
      const eipOf = new Map((addressesOf.get(v) ?? []).filter((a) => runningIds.has(a.instance_id)).map((a) => [a.instance_id, a]));
      const form: VpcForm = { members, running, localOf, bound, eipOf, groupMembers: new Map() };
      const main = mainOf.get(v);
      if (main) form.mainTable = main;
      shared.set(v, form);
    }
  }
  return shared;
}

/** A subnet row by ID (every span holding one of a VPC's instances holds the subnet, load.ts). */
function subnetOf(span: HostSpan, shared: Snapshot, id: string): HostSpan['subnets'][number] | undefined {
  let row = shared.subnets.get(id);
  if (!row) {
    for (const s of span.subnets) shared.subnets.set(s.id, s);
    row = shared.subnets.get(id);
  }
  return row;
}

/** A group's rules, compiled once: a span holds every policy of the groups bound on its host (load.ts). */
function groupRules(span: HostSpan, shared: Snapshot, sgId: string): SecurityGroupRules {
  const known = shared.groups.get(sgId);
  if (known) return known;
  const rulesOf = new Map<string, SecurityGroupRules>();
  for (const p of [...span.policies].sort((a, b) => a.position - b.position)) {
    if (shared.groups.has(p.sg_id)) continue;
    const g = rulesOf.get(p.sg_id) ?? { ingress: [], egress: [] };
    g[p.direction].push(toRule(p));
    rulesOf.set(p.sg_id, g);
  }
  for (const [g, rules] of rulesOf) shared.groups.set(g, rules);
  const rules = shared.groups.get(sgId) ?? { ingress: [], egress: [] };
  shared.groups.set(sgId, rules);
  return rules;
}

/** What one VPC's hosts share of it: endpoints and route tables (vpcShared). */
interface VpcShared {
  /** Every running instance with a known host, and every placed network detection source, as a remote endpoint (each host leaves out its own). */
  endpoints: RemoteEndpoint[];
  /** The VPC's network detections with the hosts of their sources (net-detects.ts). */
  netDetects: NetDetectPlacement[];
  /** The VPC's route tables that some subnet uses, by ID, sorted, compiled for every host alike. */
  tables: RouteTable[];
  /** Per table: whether it holds a peering route (which hosts filter by the links they have). */
  peered: Set<string>;
  /** Per NORMAL_CVM next-hop address: the tables routing through it. */
  tablesOfHop: Map<string, Set<string>>;
  /** Per next-hop address: the destinations routed to it in those tables, collapsed. */
  routedTo: Map<string, string[]>;
}

/**
 * What a VPC looks like from every host alike. Its route tables, compiled:
 * enabled routes grouped by destination (NORMAL_CVM routes to one
 * destination are one ECMP route over the next hops that are running),
 * tables no subnet uses left out (they route nothing).
 */
function vpcShared(span: HostSpan, vpc: HostSpan['vpcs'][number], running: HostSpan['instances']): VpcShared {
  const vpcId = vpc.id;
  const rows = (span.routeTables ?? []).filter((t) => t.vpc_id === vpcId).sort(byKey((t) => t.id));
  const mainId = rows.find((t) => t.is_main === 1)?.id;
  const byIp = new Map(running.map((i) => [i.private_ip, i]));
  const subnetsOf = new Map<string, { subnetId: string; cidr: string }[]>();
  for (const s of span.subnets.filter((s) => s.vpc_id === vpcId).sort(byKey((s) => s.id))) {
    const table = s.route_table_id || mainId;
    if (table) append(subnetsOf, table, { subnetId: s.id, cidr: s.cidr });
  }
  const natIds = new Set((span.natGateways ?? []).filter((n) => n.vpc_id === vpcId).map((n) => n.id));
  const routesOf = new Map<string, NonNullable<HostSpan['routes']>>();
  for (const r of span.routes ?? []) if (subnetsOf.has(r.route_table_id)) append(routesOf, r.route_table_id, r);

  const placed = running.filter((i) => span.underlays[i.host_id!]);
  const at = (hostId: string) => (span.underlays[hostId] ? { hostId, underlay: span.underlays[hostId]!, routerMac: routerMac(hostId, vpc.vni) } : undefined);
  // Only a VPC with detections needs its hosts per subnet (a Set: a subnet may span thousands of instances).
  const subnetHosts = new Map<string, string[]>();
  if (span.netDetects?.some((d) => d.vpc_id === vpcId)) {
    const sets = new Map<string, Set<string>>();
    for (const i of placed) sets.set(i.subnet_id, (sets.get(i.subnet_id) ?? new Set()).add(i.host_id!));
    for (const [subnet, hosts] of sets) subnetHosts.set(subnet, [...hosts]);
  }
  const netDetects = placeNetDetects(span.netDetects ?? [], vpcId, subnetHosts);
  const endpoints = [...placed.map((i) => ({ ip: i.private_ip, instanceId: i.id, ...at(i.host_id!)! })), ...sourceEndpoints(netDetects, at)];
  const out: VpcShared = { endpoints, netDetects, tables: [], peered: new Set(), tablesOfHop: new Map(), routedTo: new Map() };
  const hopCidrs = new Map<string, Cidr[]>();
  for (const t of rows) {
    const subnets = subnetsOf.get(t.id);
    if (!subnets) continue;
    const byDestination = new Map<string, NonNullable<HostSpan['routes']>>();
    for (const r of routesOf.get(t.id) ?? []) {
      const c = parsePeer(r.destination);
      if (!c) continue;
      append(byDestination, formatCidr(c), r);
      if (r.gateway_type !== 'NORMAL_CVM') continue;
      append(hopCidrs, r.gateway_id, c);
      const s = out.tablesOfHop.get(r.gateway_id);
      if (s) s.add(t.id);
      else out.tablesOfHop.set(r.gateway_id, new Set([t.id]));
    }
    const routes: TableRoute[] = [];
    for (const [destination, rs] of [...byDestination].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const sorted = rs.length > 1 ? [...rs].sort(byKey((r) => r.id)) : rs;
      const peering = sorted.find((r) => r.gateway_type === 'PEERCONNECTION');
      if (peering) {
        // The peer VPC is filled in per host, from the links it has (hostTables).
        routes.push({ destination, kind: 'peering', peeringId: peering.gateway_id, peerVpcId: '', routeIds: [peering.id] });
        out.peered.add(t.id);
        continue;
      }
      const eip = sorted.find((r) => r.gateway_type === 'EIP');
      if (eip) {
        routes.push({ destination, kind: 'eip', routeIds: [eip.id] });
        continue;
      }
      const nat = sorted.find((r) => r.gateway_type === 'NAT' && natIds.has(r.gateway_id));
      if (nat) {
        routes.push({ destination, kind: 'nat', natGatewayId: nat.gateway_id, routeIds: [nat.id] });
        continue;
      }
      const cvm = sorted.filter((r) => r.gateway_type === 'NORMAL_CVM');
      if (!cvm.length) continue; // a next-hop type the data plane does not know yet
      const nextHops = [...new Set(cvm.map((r) => r.gateway_id))]
        .flatMap((ip) => (byIp.has(ip) ? [{ ip, instanceId: byIp.get(ip)!.id }] : []))
        .sort((a, b) => ipNumber(a.ip) - ipNumber(b.ip));
      routes.push({ destination, kind: 'instance', nextHops, routeIds: cvm.map((r) => r.id) });
    }
    out.tables.push({ routeTableId: t.id, main: t.is_main === 1, subnets, routes });
  }
  for (const [ip, cs] of hopCidrs) out.routedTo.set(ip, collapseCidrs(cs).map(formatCidr));
  return out;
}

/**
 * The route tables a host routes by: those of its ports' subnets, and (for
 * packets arriving over the tunnel) those whose next hops it holds. Other
 * tables stay out of its document, which keeps documents small in a VPC of
 * thousands of routes. Peering routes stay only over a link present here.
 */
function hostTables(vpc: VpcShared, local: HostSpan['instances'], links: readonly PeeringLink[]): RouteTable[] {
  const localSubnets = new Set(local.map((i) => i.subnet_id));
  const routingHere = new Set(local.flatMap((i) => [...(vpc.tablesOfHop.get(i.private_ip) ?? [])]));
  const peerOf = new Map(links.map((l) => [l.peeringId, l.peerVpcId]));
  return vpc.tables
    .filter((t) => routingHere.has(t.routeTableId) || t.subnets.some((s) => localSubnets.has(s.subnetId)))
    .map((t) => {
      if (!vpc.peered.has(t.routeTableId)) return t;
      const routes = t.routes.flatMap((r): TableRoute[] => {
        if (r.kind !== 'peering') return [r];
        const peerVpcId = peerOf.get(r.peeringId);
        return peerVpcId ? [{ ...r, peerVpcId }] : [];
      });
      return { ...t, routes };
    });
}

/** A VPC's elastic IPs as a gateway translates them, sorted by public address. */
function elasticIps(members: HostSpan['instances'], eipOf: ReadonlyMap<string, NonNullable<HostSpan['addresses']>[number]>): ElasticIp[] {
  return members
    .flatMap((i) => {
      const a = eipOf.get(i.id);
      if (!a) return [];
      const eip: ElasticIp = { publicIp: a.ip, privateIp: i.private_ip, instanceId: i.id, bandwidthMbps: a.bandwidth ?? 0 };
      if (pinned(a)) eip.pinned = true;
      return [eip];
    })
    .sort((a, b) => ipNumber(a.publicIp) - ipNumber(b.publicIp));
}

/**
 * A VPC's NAT gateways as gateway node `node` of `nodes` runs them: EIPs,
 * SNAT rules (an interface's /32 before a subnet's CIDR, so the most specific
 * source decides) and DNAT rules, and this node's rank for the VPC.
 */
function natContext(span: HostSpan, vpc: HostSpan['vpcs'][number], node: number, nodes: number): NatContext {
  const owner = natOwner(vpc.id, nodes);
  const gateways: NatGatewayRules[] = (span.natGateways ?? [])
    .filter((n) => n.vpc_id === vpc.id)
    .sort(byKey((n) => n.id))
    .map((n) => {
      const held = new Set((span.natAddresses ?? []).filter((a) => a.nat_gateway_id === n.id).map((a) => a.ip));
      const snat = (span.snatRules ?? [])
        .filter((r) => r.nat_gateway_id === n.id)
        .flatMap((r) => {
          const source = normaliseCidr(r.private_ip);
          const publicIps = (JSON.parse(r.public_ips) as string[]).filter((ip) => held.has(ip)).sort((a, b) => ipNumber(a) - ipNumber(b));
          return source && publicIps.length ? [{ natGatewaySnatId: r.id, source, publicIps }] : [];
        })
        .sort((a, b) => parseCidr(b.source)!.prefix - parseCidr(a.source)!.prefix || (a.natGatewaySnatId < b.natGatewaySnatId ? -1 : 1));
      const dnat = (span.dnatRules ?? [])
        .filter((r) => r.nat_gateway_id === n.id && held.has(r.public_ip))
        .map((r) => ({
          protocol: r.protocol.toLowerCase() as 'tcp' | 'udp',
          publicIp: r.public_ip,
          publicPort: r.public_port,
          privateIp: r.private_ip,
          privatePort: r.private_port,
        }))
        .sort((a, b) => ipNumber(a.publicIp) - ipNumber(b.publicIp) || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) || a.publicPort - b.publicPort);
      const publicIps = [...held].sort((a, b) => ipNumber(a) - ipNumber(b));
      const bandwidth = new Map((span.natAddresses ?? []).map((a) => [a.ip, a.bandwidth ?? 0]));
      const limited = publicIps.filter((ip) => bandwidth.get(ip)! > 0);
      const eipBandwidthMbps = limited.length ? { eipBandwidthMbps: Object.fromEntries(limited.map((ip) => [ip, bandwidth.get(ip)!])) } : {};
      return { natGatewayId: n.id, publicIps, ...eipBandwidthMbps, snat, dnat, ...natFlowRules(span.natFlows?.get(n.id)) };
    });
  return { zone: natZone(vpc.vni), rank: (node - owner + nodes) % nodes, gateways };
}

const pinned = (a: { bandwidth?: number }) => (a.bandwidth ?? 0) > 0 && a.bandwidth! < PIN_BELOW_MBPS;

/** A network ACL, compiled once: a span holds every entry of the ACLs of its host's subnets (load.ts). */
function networkAcl(span: HostSpan, shared: Snapshot, aclId: string): NetworkAcl {
  const known = shared.acls.get(aclId);
  if (known) return known;
  const acl: NetworkAcl = { ingress: [], egress: [] };
  shared.acls.set(aclId, acl);
  for (const e of (span.aclEntries ?? []).filter((e) => e.acl_id === aclId).sort((a, b) => a.position - b.position)) {
    const rule = toAclRule(e);
    if (rule) acl[e.direction].push(rule);
  }
  return acl;
}

function peeringLinks(vpcId: string, peerings: NonNullable<HostSpan['peerings']>): PeeringLink[] {
  return peerings
    .filter((p) => p.vpc_id === vpcId || p.peer_vpc_id === vpcId)
    .map((p) => {
      const peerVpcId = p.vpc_id === vpcId ? p.peer_vpc_id : p.vpc_id;
      return { peeringId: p.id, peerVpcId, ifname: p.id, mac: linkMac(p.id, vpcId), peerMac: linkMac(p.id, peerVpcId) };
    })
    .sort(byKey((l) => l.peeringId));
}

const ipNumber = (ip: string) => parseIp(ip) ?? 0;

/** Adds to a map of lists in place (copying the list on every add is quadratic in a VPC of thousands). */
function append<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Groups that the policies of `securityGroups` reference, sorted: their members must be known. */
export function referencedGroups(securityGroups: Record<string, SecurityGroupRules>): string[] {
  const refs = Object.values(securityGroups).flatMap((g) => [...g.ingress, ...g.egress].flatMap((r) => (r.group ? [r.group] : [])));
  return [...new Set(refs)].sort();
}

/** A digest of a document's content, ignoring the revision it was compiled at. */
export const documentDigest = (doc: HostDocument): string => serialiseDocument(doc).digest;

/**
 * A document as UTF-8 JSON, in parts that joined are the document, and the
 * digest of its content: documents of a VPC with thousands of routes run to
 * megabytes, mostly route tables that the documents of a batch share
 * (SharedCompile), so each table is serialised and encoded once and sent as
 * the same bytes to every host. The revision goes first; the digest covers
 * the rest.
 */
export function serialiseDocument(doc: HostDocument): { json: Buffer[]; digest: string } {
  const { revision, vpcs, ...rest } = doc;
  const head = JSON.stringify(rest).slice(1, -1);
  const parts = [Buffer.from(`${head ? `,${head}` : ''},"vpcs":[`)];
  vpcs.forEach((v, i) => {
    if (i) parts.push(COMMA);
    vpcParts(v, parts);
  });
  parts.push(Buffer.from(']}'));
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return { json: [Buffer.from(`{"revision":${revision}`), ...parts], digest: hash.digest('hex').slice(0, 16) };
}

const COMMA = Buffer.from(',');

/** Route tables as JSON bytes, by table. Documents are not changed once compiled. */
const tableBytes = new WeakMap<RouteTable, Buffer>();

function vpcParts(v: VpcContext, parts: Buffer[]): void {
  const { routeTables, ...rest } = v;
  if (!routeTables) {
    parts.push(Buffer.from(JSON.stringify(v)));
    return;
  }
  parts.push(Buffer.from(`${JSON.stringify(rest).slice(0, -1)},"routeTables":[`));
  routeTables.forEach((t, i) => {
    if (i) parts.push(COMMA);
    let bytes = tableBytes.get(t);
    if (!bytes) tableBytes.set(t, (bytes = Buffer.from(JSON.stringify(t))));
    parts.push(bytes);
  });
  parts.push(Buffer.from(']}'));
}
