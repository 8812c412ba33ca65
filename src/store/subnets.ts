/**
 * Subnets in the store: the queries of the subnet write actions, with their
 * round trips designed here (see store/security-groups.ts): statements that
 * do not wait on each other are issued together, on PostgreSQL one round trip.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { nameContains } from './name-filter.js';
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

/** One condition of DescribeSubnets (a filter, or the IDs asked for); values of one condition: any of them. */
export type SubnetCondition =
  | { on: 'id' | 'vpc' | 'cidr' | 'zone' | 'name' | 'tagKey'; values: readonly string[] }
  | { on: 'isDefault'; values: readonly boolean[] }
  | { on: 'tag'; key: string; values: readonly string[] };

/**
 * A page of subnets in creation order, how many match, and what the Subnet
 * model needs of each (tags, addresses in use), in one round trip: those are
 * read by subqueries of the same page. With no condition the count is the
 * usage row (O(1)).
 */
export async function subnetPage(db: Reader, q: { account: string; where: readonly SubnetCondition[]; offset: number; limit: number }) {
  const tagged = () => db.selectFrom('tags').select('resource_id').where('account', '=', q.account);
  let s = db.selectFrom('subnets').where('account', '=', q.account);
  const columns = { id: 'id', vpc: 'vpc_id', cidr: 'cidr', zone: 'zone' } as const;
  for (const c of q.where) {
    switch (c.on) {
      case 'id':
      case 'vpc':
      case 'cidr':
      case 'zone':
        s = s.where(columns[c.on], 'in', [...c.values]);
        break;
      case 'isDefault':
        s = s.where('is_default', 'in', c.values.map((b) => (b ? 1 : 0)));
        break;
      case 'name':
        s = s.where((eb) => eb.or(c.values.map((n) => nameContains('name', n, { db, table: 'subnets' }))));
        break;
      case 'tagKey':
        s = s.where('id', 'in', tagged().where('key', 'in', [...c.values]));
        break;
      case 'tag':
        s = s.where('id', 'in', tagged().where('key', '=', c.key).where('value', 'in', [...c.values]));
        break;
    }
  }
  const ordered = s.orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset);
  const pageIds = () => ordered.select('id');
  const [rows, total, tagRows, used] = await Promise.all([
    ordered.selectAll().execute(),
    q.where.length
      ? s.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n))
      : db.selectFrom('usage').select('count').where('account', '=', q.account).where('kind', '=', 'subnet').executeTakeFirst().then((r) => r?.count ?? 0),
    db.selectFrom('tags').select(['resource_id', 'key', 'value']).where('resource_id', 'in', pageIds()).orderBy('key').execute(),
    db.selectFrom('private_ips').select(['subnet_id', sql<number>`count(*)`.as('n')]).where('subnet_id', 'in', pageIds()).groupBy('subnet_id').execute(),
  ]);
  const tags = new Map<string, { Key: string; Value: string }[]>(rows.map((r) => [r.id, []]));
  for (const t of tagRows) tags.get(t.resource_id)?.push({ Key: t.key, Value: t.value });
  return { rows, total, tags, inUse: new Map(used.map((u) => [u.subnet_id, Number(u.n)])) };
}
