/**
 * Reads hosts' spans from the store, in one consistent snapshot (the revision
 * and the rows agree). The effectful half of the compiler.
 *
 * A host's span: the VPCs of the instances placed on it, plus the VPCs
 * actively peered with those (their routers sit on the host too, without
 * ports: peered traffic enters the peer's router on the source host);
 * every instance, subnet and route table of those VPCs; the groups bound on
 * the host and their policies; the network ACLs of the host's subnets; the
 * elastic IPs bound in those VPCs and their NAT gateways. A gateway's span:
 * the VPCs with an elastic IP bound to an instance or with a NAT gateway (no
 * peers), the same way, with the NAT gateways' EIPs and rules.
 */
import type { Store, Tx } from '../store/store.js';
import type { HostSpan } from './compile.js';
import { parseIp } from '../core/cidr.js';
import { loadNatFlows, type NatFlowRows } from './nat-flows.js';
import { enabledFlowLogs } from '../store/flow-logs.js';

/** One host's span (what loadSpans reads, for a single host). */
export async function loadSpan(store: Store, hostId: string): Promise<HostSpan | undefined> {
  return (await loadSpans(store, [hostId])).get(hostId);
}

/**
 * The spans of many hosts in one snapshot and a handful of queries: what a
 * change that spans thousands of hosts needs. Hosts that do not exist are
 * left out of the map.
 */
export async function loadSpans(store: Store, hostIds: readonly string[]): Promise<Map<string, HostSpan>> {
  const run = store.db.transaction();
  return (store.engine === 'postgres' ? run.setIsolationLevel('repeatable read') : run).execute((tx) => readSpans(tx, hostIds));
}

const empty = (host: HostSpan['host'], revision: number): HostSpan => ({
  host,
  revision,
  underlays: {},
  vpcs: [],
  instances: [],
  subnets: [],
  bindings: [],
  policies: [],
  routeTables: [],
  routes: [],
  aclEntries: [],
  peerings: [],
  addresses: [],
  natGateways: [],
});

async function readSpans(tx: Tx, hostIds: readonly string[]): Promise<Map<string, HostSpan>> {
  const spans = new Map<string, HostSpan>();
  if (!hostIds.length) return spans;
  const hosts = await tx.selectFrom('hosts').select(['id', 'underlay', 'role']).where('id', 'in', [...hostIds]).execute();
  const { revision } = await tx.selectFrom('meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
  const placed = await tx.selectFrom('instances').select(['host_id', 'vpc_id']).distinct().where('host_id', 'in', [...hostIds]).execute();
  const homeVpcs = groupBy(placed, (p) => p.host_id!, (p) => p.vpc_id);
  // A gateway's VPCs: those with an elastic IP bound to an instance or with a NAT gateway (it carries their public traffic).
  // An LB node's VPCs: those with a load balancer.
  const lbHosts = hosts.filter((h) => h.role === 'lb').map((h) => h.id);
  if (lbHosts.length) {
    const lbVpcs = (await tx.selectFrom('load_balancers').select('vpc_id').distinct().execute()).map((v) => v.vpc_id);
    for (const h of lbHosts) homeVpcs.set(h, lbVpcs);
  }
  const gateways = hosts.filter((h) => h.role === 'gateway').map((h) => h.id);
  if (gateways.length) {
    const [eipVpcs, natVpcs] = await Promise.all([
      tx.selectFrom('addresses').innerJoin('instances', 'instances.id', 'addresses.instance_id').select('instances.vpc_id').distinct().execute(),
      tx.selectFrom('nat_gateways').select('vpc_id').distinct().execute(),
    ]);
    const vpcs = [...new Set([...eipVpcs, ...natVpcs].map((v) => v.vpc_id))];
    for (const g of gateways) homeVpcs.set(g, vpcs);
  }
  const homeIds = [...new Set([...homeVpcs.values()].flat())];
  // Peered VPCs' routers sit on hosts with instances, not on gateways.
  const hostHomeIds = [...new Set(placed.map((p) => p.vpc_id))];
  const peerings = hostHomeIds.length
    ? await tx
        .selectFrom('peerings')
        .select(['id', 'vpc_id', 'peer_vpc_id'])
        .where('state', '=', 'ACTIVE')
        .where((eb) => eb.or([eb('vpc_id', 'in', hostHomeIds), eb('peer_vpc_id', 'in', hostHomeIds)]))
        .execute()
    : [];
  const vpcIds = [...new Set([...homeIds, ...peerings.flatMap((p) => [p.vpc_id, p.peer_vpc_id])])];
  if (!vpcIds.length) {
    for (const h of hosts) spans.set(h.id, empty(h, revision));
    return spans;
  }
  const [vpcs, instances, subnets, routeTables, bindings] = await Promise.all([
    tx.selectFrom('vpcs').select(['id', 'vni', 'cidr']).where('id', 'in', vpcIds).execute(),
    tx.selectFrom('instances').select(['id', 'vpc_id', 'subnet_id', 'private_ip', 'mac', 'host_id', 'state', 'eni_id']).where('vpc_id', 'in', vpcIds).execute(),
    tx.selectFrom('subnets').select(['id', 'vpc_id', 'cidr', 'route_table_id', 'network_acl_id']).where('vpc_id', 'in', vpcIds).execute(),
    tx.selectFrom('route_tables').select(['id', 'vpc_id', 'is_main']).where('vpc_id', 'in', vpcIds).execute(),
    tx
      .selectFrom('instance_sgs')
      .innerJoin('instances', 'instances.id', 'instance_sgs.instance_id')
      .select(['instance_sgs.instance_id', 'instance_sgs.sg_id', 'instance_sgs.position', 'instances.vpc_id'])
      .where('instances.vpc_id', 'in', vpcIds)
      .execute(),
  ]);
  const underlayIds = [...new Set(instances.flatMap((i) => (i.host_id ? [i.host_id] : [])))];
  const groupsOfInstance = groupBy(bindings, (b) => b.instance_id, (b) => b.sg_id);
  const wanted = new Set(hostIds);
  const local = instances.filter((i) => i.host_id && wanted.has(i.host_id));
  const localGroups = [...new Set(local.flatMap((i) => groupsOfInstance.get(i.id) ?? []))];
  const subnetById = new Map(subnets.map((s) => [s.id, s]));
  const localAcls = [...new Set(local.flatMap((i) => subnetById.get(i.subnet_id)?.network_acl_id || []))];
  const tableIds = routeTables.map((t) => t.id);
  const [underlayRows, policies, routes, aclEntries, addresses, natGateways, gatewayNodes, loadBalancers, lbNodeRows] = await Promise.all([
    underlayIds.length ? tx.selectFrom('hosts').select(['id', 'underlay']).where('id', 'in', underlayIds).execute() : [],
    localGroups.length
      ? tx
          .selectFrom('sg_policies')
          .select(['sg_id', 'direction', 'position', 'protocol', 'port', 'cidr', 'ipv6_cidr', 'ref_sg_id', 'action'])
          .where('sg_id', 'in', localGroups)
          .execute()
      : [],
    tableIds.length
      ? tx
          .selectFrom('routes')
          .select(['id', 'route_table_id', 'destination', 'gateway_type', 'gateway_id'])
          .where('route_table_id', 'in', tableIds)
          .where('enabled', '=', 1)
          .where('gateway_type', '!=', 'LOCAL')
          .execute()
      : [],
    localAcls.length
      ? tx
          .selectFrom('acl_entries')
          .select(['acl_id', 'direction', 'position', 'protocol', 'port', 'cidr', 'ipv6_cidr', 'action'])
          .where('acl_id', 'in', localAcls)
          .execute()
      : [],
    tx
      .selectFrom('addresses')
      .innerJoin('instances', 'instances.id', 'addresses.instance_id')
      .select(['addresses.ip', 'addresses.private_ip', 'addresses.instance_id', 'addresses.bandwidth', 'instances.vpc_id'])
      .where('instances.vpc_id', 'in', vpcIds)
      .execute(),
    tx.selectFrom('nat_gateways').select(['id', 'vpc_id']).where('vpc_id', 'in', vpcIds).execute(),
    tx.selectFrom('hosts').select('id').where('role', '=', 'gateway').execute(),
    tx.selectFrom('load_balancers').select(['id', 'vpc_id', 'vip', 'type']).where('vpc_id', 'in', vpcIds).execute(),
    tx.selectFrom('hosts').select(['id', 'underlay']).where('role', '=', 'lb').execute(),
  ]);
  // What an LB node balances: the listeners, their targets and what the health checks say of them.
  const lbIds = lbHosts.length ? loadBalancers.map((l) => l.id) : [];
  const [lbListeners, lbTargets, lbHealth] = lbIds.length
    ? await Promise.all([
        tx.selectFrom('lb_listeners').select(['id', 'load_balancer_id', 'protocol', 'port', 'health_check']).where('load_balancer_id', 'in', lbIds).execute(),
        tx.selectFrom('lb_targets').select(['listener_id', 'load_balancer_id', 'instance_id', 'private_ip', 'port', 'weight']).where('load_balancer_id', 'in', lbIds).execute(),
        tx
          .selectFrom('lb_target_health')
          .innerJoin('lb_listeners', 'lb_listeners.id', 'lb_target_health.listener_id')
          .select(['lb_target_health.listener_id', 'lb_target_health.private_ip', 'lb_target_health.port', 'lb_target_health.status'])
          .where('lb_listeners.load_balancer_id', 'in', lbIds)
          .execute(),
      ])
    : [[], [], []];
  const lbNodeOrder = [...lbNodeRows].sort((a, b) => byNumber(a.id, b.id));
  // What a gateway translates for the NAT gateways: their EIPs and rules (hosts only need to know the gateways exist).
  const natIds = gateways.length ? natGateways.map((n) => n.id) : [];
  const [natAddresses, snatRules, dnatRules] = natIds.length
    ? await Promise.all([
        tx.selectFrom('addresses').select(['ip', 'nat_gateway_id', 'bandwidth']).where('nat_gateway_id', 'in', natIds).execute(),
        tx.selectFrom('nat_snat_rules').select(['id', 'nat_gateway_id', 'private_ip', 'public_ips']).where('nat_gateway_id', 'in', natIds).execute(),
        tx
          .selectFrom('nat_dnat_rules')
          .select(['nat_gateway_id', 'protocol', 'public_ip', 'public_port', 'private_ip', 'private_port'])
          .where('nat_gateway_id', 'in', natIds)
          .execute(),
      ])
    : [[], [], []];
  const natFlows = natIds.length ? await loadNatFlows(tx, natIds) : new Map<string, NatFlowRows>();
  const gatewayOrder = gatewayNodes.map((h) => h.id).sort(byNumber);
  const flowLogsByVpc = groupBy(await enabledFlowLogs(tx, vpcIds), (r) => r.vpc_id, (r) => r);

  const vpcById = new Map(vpcs.map((v) => [v.id, v]));
  const underlayOf = new Map(underlayRows.map((h) => [h.id, h.underlay]));
  const peersOf = new Map<string, string[]>();
  for (const p of peerings)
    for (const [a, b] of [
      [p.vpc_id, p.peer_vpc_id],
      [p.peer_vpc_id, p.vpc_id],
    ] as const)
      peersOf.set(a, [...(peersOf.get(a) ?? []), b]);
  const byVpc = <T extends { vpc_id: string }>(rows: readonly T[]) => groupBy(rows, (r) => r.vpc_id, (r) => r);
  const instancesByVpc = byVpc(instances);
  const subnetsByVpc = byVpc(subnets);
  const tablesByVpc = byVpc(routeTables);
  const bindingsByVpc = groupBy(bindings, (b) => b.vpc_id, ({ instance_id, sg_id, position }) => ({ instance_id, sg_id, position }));
  const vpcOfTable = new Map(routeTables.map((t) => [t.id, t.vpc_id]));
  const routesByVpc = groupBy(routes, (r) => vpcOfTable.get(r.route_table_id)!, (r) => r);
  // Most hosts span one VPC: their spans share its row lists (a VPC may hold thousands of routes and subnets).
  const across = <T>(vpcs: readonly string[], of: Map<string, T[]>): T[] => (vpcs.length === 1 ? (of.get(vpcs[0]!) ?? []) : vpcs.flatMap((v) => of.get(v) ?? []));
  const policiesOf = groupBy(policies, (p) => p.sg_id, (p) => p);
  const entriesOf = groupBy(aclEntries, (e) => e.acl_id, (e) => e);
  const natByVpc = byVpc(natGateways);
  const lbByVpc = byVpc(loadBalancers);
  const [detections, detectionSources] = await Promise.all([
    tx.selectFrom('net_detects').select(['id', 'vpc_id', 'subnet_id', 'destinations', 'next_hop_type', 'next_hop_destination']).where('vpc_id', 'in', vpcIds).execute(),
    tx.selectFrom('private_ips').select(['owner_id', 'ip']).where('owner_kind', '=', 'net_detect').where('vpc_id', 'in', vpcIds).execute(),
  ]);
  const sourcesOf = groupBy(detectionSources, (s) => s.owner_id, (s) => s.ip);
  const netDetectsByVpc = byVpc(detections.map((d) => ({ ...d, sources: (sourcesOf.get(d.id) ?? []).sort((a, b) => parseIp(a)! - parseIp(b)!) })));
  const addressesByVpc = groupBy(addresses, (a) => a.vpc_id, (a) => ({ ip: a.ip, private_ip: a.private_ip ?? '', instance_id: a.instance_id!, bandwidth: a.bandwidth }));

  for (const host of hosts) {
    const span = empty(host, revision);
    spans.set(host.id, span);
    const home = homeVpcs.get(host.id) ?? [];
    if (!home.length) continue;
    const peered = host.role === 'gateway' || host.role === 'lb' ? [] : home.flatMap((v) => peersOf.get(v) ?? []);
    const present = [...new Set([...home, ...peered])].filter((v) => vpcById.has(v));
    const presentSet = new Set(present);
    span.vpcs = present.map((v) => vpcById.get(v)!);
    span.instances = across(present, instancesByVpc);
    span.subnets = across(present, subnetsByVpc);
    span.routeTables = across(present, tablesByVpc);
    span.routes = across(present, routesByVpc);
    span.bindings = across(present, bindingsByVpc);
    span.peerings = peerings.filter((p) => presentSet.has(p.vpc_id) && presentSet.has(p.peer_vpc_id));
    for (const i of span.instances) if (i.host_id && underlayOf.has(i.host_id)) span.underlays[i.host_id] = underlayOf.get(i.host_id)!;
    const mine = span.instances.filter((i) => i.host_id === host.id);
    const groups = [...new Set(mine.flatMap((i) => groupsOfInstance.get(i.id) ?? []))];
    span.policies = groups.flatMap((g) => policiesOf.get(g) ?? []);
    const acls = [...new Set(mine.flatMap((i) => subnetById.get(i.subnet_id)?.network_acl_id || []))];
    span.aclEntries = acls.flatMap((a) => entriesOf.get(a) ?? []);
    span.addresses = across(present, addressesByVpc);
    span.natGateways = across(present, natByVpc);
    span.gatewayNodes = gatewayOrder;
    span.loadBalancers = across(present, lbByVpc);
    span.lbNodes = lbNodeOrder;
    span.netDetects = across(present, netDetectsByVpc);
    span.flowLogs = across(present, flowLogsByVpc);
    if (host.role === 'lb') {
      const mineLb = new Set(span.loadBalancers.map((l) => l.id));
      span.lbListeners = lbListeners.filter((l) => mineLb.has(l.load_balancer_id));
      span.lbTargets = lbTargets.filter((t) => mineLb.has(t.load_balancer_id));
      const mineListeners = new Set(span.lbListeners.map((l) => l.id));
      span.lbHealth = lbHealth.filter((h) => mineListeners.has(h.listener_id));
    }
    if (host.role === 'gateway') {
      const mineNat = new Set(span.natGateways.map((n) => n.id));
      span.natAddresses = natAddresses.filter((a) => mineNat.has(a.nat_gateway_id!)).map((a) => ({ ip: a.ip, nat_gateway_id: a.nat_gateway_id!, bandwidth: a.bandwidth }));
      span.snatRules = snatRules.filter((r) => mineNat.has(r.nat_gateway_id));
      span.dnatRules = dnatRules.filter((r) => mineNat.has(r.nat_gateway_id));
      span.natFlows = new Map([...natFlows].filter(([id]) => mineNat.has(id)));
    }
  }
  return spans;
}

/** Gateway names in their natural order (gw2 before gw10): node n of the cluster is the n-th. */
const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function groupBy<T, V>(rows: readonly T[], key: (r: T) => string, value: (r: T) => V): Map<string, V[]> {
  const m = new Map<string, V[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(value(r));
    else m.set(k, [value(r)]);
  }
  return m;
}
