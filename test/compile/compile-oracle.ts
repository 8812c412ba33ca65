/**
 * The compiler as it was before VPCs were compiled once for all their hosts
 * (commit d64d5c2's compileHost, each host compiling every VPC it spans
 * itself): the oracle the per-VPC compiler (src/compile/compile.ts) is held
 * to, byte for byte, in compile-once.test.ts. Not used by Weft itself.
 */
import { netDetectProbes, placeNetDetects, sourceEndpoints, type NetDetectPlacement } from '../../src/compile/net-detects.js';
import { collapseCidrs, formatCidr, formatIp, normaliseCidr, parseCidr, parseIp, parsePeer, type Cidr } from '../../src/core/cidr.js';
import { gatewayOf } from '../../src/core/ipam.js';
import { DEFAULT_LB_ADDRESS, gatewayNodeAddress } from '../../src/core/region.js';
import { hostLbContext, loadBalancersOf } from '../../src/compile/load-balancers.js';
import { natFlowRules } from '../../src/compile/nat-flows.js';
import { flowLogCaptures } from '../../src/compile/flow-logs.js';
import {
  gatewayMac,
  lbMac,
  linkMac,
  natOwner,
  natZone,
  ownerMac,
  portName,
  PIN_BELOW_MBPS,
  referencedGroups,
  routerMac,
  toAclRule,
  toRule,
  type HostSpan,
} from '../../src/compile/compile.js';
import type {
  ElasticIp,
  HostDocument,
  NatContext,
  NatGatewayRules,
  NetworkAcl,
  PeeringLink,
  Port,
  RemoteEndpoint,
  RouteTable,
  SecurityGroupRules,
  TableRoute,
  VpcContext,
} from '../../src/contract/host-document.js';

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const live = (i: HostSpan['instances'][number]) => !!i.host_id && i.state !== 'STOPPED';

export function compileHostOracle(span: HostSpan, shared: SharedCompile = new Map()): HostDocument {
  const hostId = span.host.id;
  const subnetRow = new Map(span.subnets.map((s) => [s.id, s]));
  const bound = new Map<string, string[]>();
  for (const b of [...span.bindings].sort((a, b) => a.position - b.position)) {
    bound.set(b.instance_id, [...(bound.get(b.instance_id) ?? []), b.sg_id]);
  }
  const rulesOf = new Map<string, SecurityGroupRules>();
  for (const p of [...span.policies].sort((a, b) => a.position - b.position)) {
    const g = rulesOf.get(p.sg_id) ?? { ingress: [], egress: [] };
    g[p.direction].push(toRule(p));
    rulesOf.set(p.sg_id, g);
  }
  const membersOf = new Map<string, HostSpan['instances']>();
  for (const i of [...span.instances].sort(byKey((i) => i.id))) append(membersOf, i.vpc_id, i);

  // The elastic IPs of running instances, by instance.
  const runningById = new Map(span.instances.filter(live).map((i) => [i.id, i]));
  const eipOf = new Map((span.addresses ?? []).filter((a) => runningById.has(a.instance_id)).map((a) => [a.instance_id, a]));
  // Routers on this host: VPCs with a running instance here, and the VPCs actively peered with those;
  // on a gateway, the VPCs whose instances have elastic IPs (and no peers: a gateway carries public traffic only).
  // On an LB node, the VPCs with load balancers (no peers either).
  const gateway = span.host.role === 'gateway';
  const lb = span.host.role === 'lb';
  const natVpcs = new Set((span.natGateways ?? []).map((n) => n.vpc_id));
  const home = gateway
    ? new Set([...[...eipOf.keys()].map((id) => runningById.get(id)!.vpc_id), ...natVpcs])
    : lb
      ? new Set((span.loadBalancers ?? []).map((l) => l.vpc_id))
      : new Set(span.vpcs.filter((v) => (membersOf.get(v.id) ?? []).some((i) => i.host_id === hostId && live(i))).map((v) => v.id));
  const peerings = gateway || lb ? [] : (span.peerings ?? []).filter((p) => home.has(p.vpc_id) || home.has(p.peer_vpc_id));
  const present = new Set([...home, ...peerings.flatMap((p) => [p.vpc_id, p.peer_vpc_id])]);

  const vpcs: VpcContext[] = [];
  for (const vpc of [...span.vpcs].sort(byKey((v) => v.id))) {
    if (!present.has(vpc.id)) continue;
    const members = membersOf.get(vpc.id) ?? [];
    const running = members.filter(live);
    const local = running.filter((i) => i.host_id === hostId);
    const links = peeringLinks(vpc.id, peerings);
    const common = vpcShared(span, vpc, running, shared);
    const tables = hostTables(common, local, links);
    const ports: Port[] = local.map((i) => {
      const cidr = parseCidr(subnetRow.get(i.subnet_id)!.cidr)!;
      const port: Port = {
        instanceId: i.id,
        ifname: portName(i.id),
        ip: i.private_ip,
        mac: i.mac,
        subnetId: i.subnet_id,
        prefix: cidr.prefix,
        gateway: formatIp(gatewayOf(cidr)),
        securityGroups: bound.get(i.id) ?? [],
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
    for (const g of groups) securityGroups[g] = rulesOf.get(g) ?? { ingress: [], egress: [] };
    const referenced = referencedGroups(securityGroups);
    const groupMembers: Record<string, string[]> = {};
    for (const g of referenced)
      groupMembers[g] = members
        .filter((i) => bound.get(i.id)?.includes(g))
        .map((i) => i.private_ip)
        .sort();
    const subnetIds = [...new Set(ports.map((p) => p.subnetId))].sort();
    const mainTable = (span.routeTables ?? []).find((t) => t.vpc_id === vpc.id && t.is_main === 1)?.id;
    const acls: Record<string, NetworkAcl> = {};
    const context: VpcContext = {
      vpcId: vpc.id,
      vni: vpc.vni,
      routerMac: gateway ? gatewayMac(vpc.vni) : lb ? lbMac(vpc.vni) : routerMac(hostId, vpc.vni),
      subnets: subnetIds.map((id) => {
        const row = subnetRow.get(id)!;
        const c = parseCidr(row.cidr)!;
        const subnet: VpcContext['subnets'][number] = { subnetId: id, cidr: row.cidr, gateway: formatIp(gatewayOf(c)) };
        const table = row.route_table_id || mainTable;
        if (table && tables.some((t) => t.routeTableId === table)) subnet.routeTableId = table;
        if (row.network_acl_id) {
          subnet.networkAclId = row.network_acl_id;
          acls[row.network_acl_id] ??= networkAcl(span, row.network_acl_id);
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
      context.eips = elasticIps(members, eipOf);
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
 * What compiling a host computes that is the same on every host compiled from
 * one snapshot: per VPC, its remote endpoints, its route tables as the data
 * plane needs them and the destinations routed to each next hop. A VPC of
 * 10,000 routes compiles them once for the fifty hosts a route change wakes,
 * not fifty times, and its documents share the table objects (which
 * serialiseDocument then encodes once). Share one only between spans read
 * together (load.ts loadSpans): a fresh one per snapshot.
 */
type SharedCompile = Map<string, VpcShared>;

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
function vpcShared(span: HostSpan, vpc: HostSpan['vpcs'][number], running: HostSpan['instances'], shared: SharedCompile): VpcShared {
  const vpcId = vpc.id;
  const known = shared.get(vpcId);
  if (known) return known;
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
  shared.set(vpcId, out);
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

function networkAcl(span: HostSpan, aclId: string): NetworkAcl {
  const acl: NetworkAcl = { ingress: [], egress: [] };
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
