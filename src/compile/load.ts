/**
 * Reads one host's span from the store, in one consistent snapshot (the
 * revision and the rows agree). The effectful half of the compiler.
 */
import type { Store } from '../store/store.js';
import type { HostSpan } from './compile.js';

export async function loadSpan(store: Store, hostId: string): Promise<HostSpan | undefined> {
  const run = store.db.transaction();
  return (store.engine === 'postgres' ? run.setIsolationLevel('repeatable read') : run).execute(async (tx) => {
    const host = await tx.selectFrom('hosts').select(['id', 'underlay']).where('id', '=', hostId).executeTakeFirst();
    if (!host) return undefined;
    const { revision } = await tx.selectFrom('meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
    const vpcIds = (await tx.selectFrom('instances').select('vpc_id').distinct().where('host_id', '=', hostId).execute()).map((r) => r.vpc_id);
    if (!vpcIds.length)
      return { host, revision, underlays: {}, vpcs: [], instances: [], subnets: [], bindings: [], policies: [] };
    const [vpcs, instances] = await Promise.all([
      tx.selectFrom('vpcs').select(['id', 'vni']).where('id', 'in', vpcIds).execute(),
      tx.selectFrom('instances').select(['id', 'vpc_id', 'subnet_id', 'private_ip', 'mac', 'host_id']).where('vpc_id', 'in', vpcIds).execute(),
    ]);
    const localSubnets = [...new Set(instances.filter((i) => i.host_id === hostId).map((i) => i.subnet_id))];
    const hostIds = [...new Set(instances.flatMap((i) => (i.host_id ? [i.host_id] : [])))];
    const [subnets, hosts, bindings] = await Promise.all([
      tx.selectFrom('subnets').select(['id', 'cidr']).where('id', 'in', localSubnets).execute(),
      tx.selectFrom('hosts').select(['id', 'underlay']).where('id', 'in', hostIds).execute(),
      tx
        .selectFrom('instance_sgs')
        .innerJoin('instances', 'instances.id', 'instance_sgs.instance_id')
        .select(['instance_sgs.instance_id', 'instance_sgs.sg_id', 'instance_sgs.position'])
        .where('instances.vpc_id', 'in', vpcIds)
        .execute(),
    ]);
    const localIds = new Set(instances.filter((i) => i.host_id === hostId).map((i) => i.id));
    const localGroups = [...new Set(bindings.filter((b) => localIds.has(b.instance_id)).map((b) => b.sg_id))];
    const policies = localGroups.length
      ? await tx
          .selectFrom('sg_policies')
          .select(['sg_id', 'direction', 'position', 'protocol', 'port', 'cidr', 'ipv6_cidr', 'ref_sg_id', 'action'])
          .where('sg_id', 'in', localGroups)
          .execute()
      : [];
    return {
      host,
      revision,
      underlays: Object.fromEntries(hosts.map((h) => [h.id, h.underlay])),
      vpcs,
      instances,
      subnets,
      bindings,
      policies,
    };
  });
}

/**
 * The spans of many hosts in one snapshot and a handful of queries: what a
 * change that spans thousands of hosts needs (one loadSpan per host is ~8
 * queries each). Each span equals what loadSpan reads for that host; hosts
 * that do not exist are left out of the map.
 */
export async function loadSpans(store: Store, hostIds: readonly string[]): Promise<Map<string, HostSpan>> {
  const run = store.db.transaction();
  return (store.engine === 'postgres' ? run.setIsolationLevel('repeatable read') : run).execute(async (tx) => {
    const spans = new Map<string, HostSpan>();
    if (!hostIds.length) return spans;
    const hosts = await tx.selectFrom('hosts').select(['id', 'underlay']).where('id', 'in', [...hostIds]).execute();
    const { revision } = await tx.selectFrom('meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
    const placed = await tx.selectFrom('instances').select(['host_id', 'vpc_id']).distinct().where('host_id', 'in', [...hostIds]).execute();
    const vpcsOf = groupBy(placed, (p) => p.host_id!, (p) => p.vpc_id);
    const vpcIds = [...new Set(placed.map((p) => p.vpc_id))];
    const [vpcs, instances] = vpcIds.length
      ? await Promise.all([
          tx.selectFrom('vpcs').select(['id', 'vni']).where('id', 'in', vpcIds).execute(),
          tx.selectFrom('instances').select(['id', 'vpc_id', 'subnet_id', 'private_ip', 'mac', 'host_id']).where('vpc_id', 'in', vpcIds).execute(),
        ])
      : [[], []];
    const subnetIds = [...new Set(instances.filter((i) => i.host_id && vpcsOf.has(i.host_id)).map((i) => i.subnet_id))];
    const underlayIds = [...new Set(instances.flatMap((i) => (i.host_id ? [i.host_id] : [])))];
    const [subnets, underlayRows, bindings] = vpcIds.length
      ? await Promise.all([
          subnetIds.length ? tx.selectFrom('subnets').select(['id', 'cidr']).where('id', 'in', subnetIds).execute() : [],
          underlayIds.length ? tx.selectFrom('hosts').select(['id', 'underlay']).where('id', 'in', underlayIds).execute() : [],
          tx
            .selectFrom('instance_sgs')
            .innerJoin('instances', 'instances.id', 'instance_sgs.instance_id')
            .select(['instance_sgs.instance_id', 'instance_sgs.sg_id', 'instance_sgs.position', 'instances.vpc_id'])
            .where('instances.vpc_id', 'in', vpcIds)
            .execute(),
        ])
      : [[], [], []];
    const groupsOfInstance = groupBy(bindings, (b) => b.instance_id, (b) => b.sg_id);
    const localGroups = [...new Set(instances.filter((i) => i.host_id && vpcsOf.has(i.host_id)).flatMap((i) => groupsOfInstance.get(i.id) ?? []))];
    const policies = localGroups.length
      ? await tx
          .selectFrom('sg_policies')
          .select(['sg_id', 'direction', 'position', 'protocol', 'port', 'cidr', 'ipv6_cidr', 'ref_sg_id', 'action'])
          .where('sg_id', 'in', localGroups)
          .execute()
      : [];

    const instancesByVpc = groupBy(instances, (i) => i.vpc_id, (i) => i);
    const bindingsByVpc = groupBy(bindings, (b) => b.vpc_id, ({ instance_id, sg_id, position }) => ({ instance_id, sg_id, position }));
    const vpcById = new Map(vpcs.map((v) => [v.id, v]));
    const cidrOf = new Map(subnets.map((s) => [s.id, s.cidr]));
    const underlayOf = new Map(underlayRows.map((h) => [h.id, h.underlay]));
    const policiesOf = groupBy(policies, (p) => p.sg_id, (p) => p);

    for (const host of hosts) {
      const mine = vpcsOf.get(host.id) ?? [];
      const span: HostSpan = { host, revision, underlays: {}, vpcs: [], instances: [], subnets: [], bindings: [], policies: [] };
      spans.set(host.id, span);
      if (!mine.length) continue;
      span.vpcs = mine.flatMap((v) => (vpcById.has(v) ? [vpcById.get(v)!] : []));
      span.instances = mine.flatMap((v) => instancesByVpc.get(v) ?? []);
      span.bindings = mine.flatMap((v) => bindingsByVpc.get(v) ?? []);
      const local = span.instances.filter((i) => i.host_id === host.id);
      span.subnets = [...new Set(local.map((i) => i.subnet_id))].flatMap((id) => (cidrOf.has(id) ? [{ id, cidr: cidrOf.get(id)! }] : []));
      for (const i of span.instances) if (i.host_id && underlayOf.has(i.host_id)) span.underlays[i.host_id] = underlayOf.get(i.host_id)!;
      const groups = [...new Set(local.flatMap((i) => groupsOfInstance.get(i.id) ?? []))];
      span.policies = groups.flatMap((g) => policiesOf.get(g) ?? []);
    }
    return spans;
  });
}

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
