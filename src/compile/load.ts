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
