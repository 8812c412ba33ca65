/**
 * Subnets in the store: the queries of the subnet write actions, with their
 * round trips designed here (see store/security-groups.ts): statements that
 * do not wait on each other are issued together, on PostgreSQL one round trip.
 */
import type { Kysely, Selectable } from 'kysely';
import { deleteFlowLogsOf } from './flow-logs.js';
import type { DB, SubnetsTable } from './schema.js';
import type { Write } from './store.js';

type Reader = Kysely<DB>;
export type SubnetRow = Selectable<SubnetsTable>;

/** What creating subnets in a VPC checks against: the VPC's subnets and its main route table. */
export async function vpcSubnetsAndMainTable(db: Reader, vpcId: string): Promise<{ existing: { id: string; cidr: string }[]; mainTableId?: string }> {
  const [existing, main] = await Promise.all([
    db.selectFrom('subnets').select(['id', 'cidr']).where('vpc_id', '=', vpcId).execute(),
    db.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).where('is_main', '=', 1).executeTakeFirst(),
  ]);
  return { existing, mainTableId: main?.id };
}

/** New subnets and each one's tags. */
export async function insertSubnetRows(w: Write, rows: readonly SubnetRow[], tags: readonly { account: string; resource_id: string; key: string; value: string }[]): Promise<void> {
  // In this order (answered in it): the tags name the subnets.
  await Promise.all([w.tx.insertInto('subnets').values([...rows]).execute(), ...(tags.length ? [w.tx.insertInto('tags').values([...tags]).execute()] : [])]);
}

export async function updateSubnet(w: Write, id: string, set: Partial<Pick<SubnetRow, 'name' | 'enable_broadcast'>>): Promise<void> {
  await w.tx.updateTable('subnets').set(set).where('id', '=', id).execute();
}

/** Up to `n` addresses in use in a subnet: every address in use is a private_ips row (api/vpc/addresses.ts), so these are exactly what holds it. */
export async function addressesInUse(db: Reader, subnetId: string, n: number) {
  return db.selectFrom('private_ips').select(['ip', 'owner_kind', 'owner_id']).where('subnet_id', '=', subnetId).orderBy('ip').limit(n).execute();
}

/** Deletes a subnet with its tags and flow logs (its quota and SNAT rules are the caller's). */
export async function deleteSubnetRows(w: Write, id: string): Promise<void> {
  await Promise.all([
    deleteFlowLogsOf(w.tx, [id]), // as on Tencent, a resource's flow logs go with it
    w.tx.deleteFrom('subnets').where('id', '=', id).execute(),
    w.tx.deleteFrom('tags').where('resource_id', '=', id).execute(),
  ]);
}
