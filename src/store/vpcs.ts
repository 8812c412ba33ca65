/**
 * VPCs in the store: every query of the VPC actions, with their round trips
 * designed here (see store/security-groups.ts): statements that do not wait
 * on each other are issued together, which on PostgreSQL is one round trip.
 */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import { deleteFlowLogsOf } from './flow-logs.js';
import { loadBalancersInVpc } from './load-balancers.js';
import { nameContains } from './name-filter.js';
import { localRoute } from './route-tables.js';
import type { DB, RouteTablesTable, VpcsTable } from './schema.js';
import type { Write } from './store.js';

type Reader = Kysely<DB>;
export type VpcRow = Selectable<VpcsTable>;
export type Tag = { Key: string; Value: string };

export interface VpcQuery {
  account: string;
  ids?: readonly string[];
  /** Case-insensitive substrings of the name; any matches. */
  names?: readonly string[];
  cidrs?: readonly string[];
  isDefault?: readonly boolean[];
  /** Subqueries of resource IDs each of which the VPC must be in (tag filters). */
  within?: readonly SelectQueryBuilder<DB, 'tags', { resource_id: string }>[];
  offset: number;
  limit: number;
}

/**
 * A page of VPCs in creation order, how many match and the page's tags, in
 * one round trip: the tags are read by a subquery of the same page rather
 * than after it. Unfiltered, the count is the usage row (O(1)); filtered, the
 * page query counts in the same pass (`count(*) over ()`), and only an empty
 * page past the first needs a count of its own.
 */
export async function vpcPage(db: Reader, q: VpcQuery): Promise<{ rows: VpcRow[]; total: number; tags: Map<string, Tag[]> }> {
  let s = db.selectFrom('vpcs').where('account', '=', q.account);
  if (q.ids) s = s.where('id', 'in', [...q.ids]);
  const names = q.names;
  if (names) s = s.where((eb) => eb.or(names.map((n) => nameContains('name', n, { db, table: 'vpcs' }))));
  if (q.cidrs) s = s.where('cidr', 'in', [...q.cidrs]);
  if (q.isDefault) s = s.where('is_default', 'in', q.isDefault.map((d) => (d ? 1 : 0)));
  for (const w of q.within ?? []) s = s.where('id', 'in', w);
  const filtered = !!(q.ids || names || q.cidrs || q.isDefault || q.within?.length);
  const ordered = s.orderBy('created_at').orderBy('id').limit(q.limit).offset(q.offset);
  const tags = db
    .selectFrom('tags')
    .select(['resource_id', 'key', 'value'])
    .where('resource_id', 'in', ordered.select('id'))
    .orderBy('key')
    .execute();
  const [page, total, tagRows] = await Promise.all([
    filtered ? ordered.selectAll().select(sql<number>`count(*) over ()`.as('total_count')).execute() : ordered.selectAll().execute(),
    filtered ? undefined : usageCount(db, q.account, 'vpc'),
    tags,
  ]);
  const rows = page.map((r) => {
    const { total_count: _, ...row } = r as VpcRow & { total_count?: number };
    return row;
  });
  const byId = new Map<string, Tag[]>(rows.map((r) => [r.id, []]));
  for (const t of tagRows) byId.get(t.resource_id)?.push({ Key: t.key, Value: t.value });
  if (total !== undefined) return { rows, total, tags: byId };
  const counted = page.length
    ? Number((page[0] as unknown as { total_count: number }).total_count)
    : q.offset === 0
      ? 0
      : await s.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n));
  return { rows, total: counted, tags: byId };
}

async function usageCount(db: Reader, account: string, kind: string): Promise<number> {
  const row = await db.selectFrom('usage').select('count').where('account', '=', account).where('kind', '=', kind).executeTakeFirst();
  return row?.count ?? 0;
}

/** VXLAN IDs are 24 bits; Weft hands them out in order, starting at 100. */
export const MAX_VNI = 2 ** 24 - 1;

/**
 * The next VNI and the RouteId of the main table's LOCAL route, in one
 * statement (both are counters on the meta row; taking the row's lock here
 * holds it to commit, as taking either alone did).
 */
async function takeVniAndRouteId(w: Write): Promise<{ vni: number; routeId: number }> {
  const r = await w.tx
    .updateTable('meta')
    .set({ next_vni: sql`next_vni + 1`, next_route_id: sql`next_route_id + 1` })
    .where('id', '=', 1)
    .returning(['next_vni', 'next_route_id'])
    .executeTakeFirstOrThrow();
  return { vni: r.next_vni - 1, routeId: Number(r.next_route_id) - 1 };
}

/**
 * A new VPC with its main route table and that table's LOCAL route. `vni` is
 * called with the VNI taken, before anything is written, to refuse it.
 */
export async function insertVpc(
  w: Write,
  row: Omit<VpcRow, 'vni'>,
  mainTableId: string,
  localRouteId: string,
  checkVni: (vni: number) => void,
): Promise<VpcRow> {
  const { vni, routeId } = await takeVniAndRouteId(w);
  checkVni(vni);
  const vpc: VpcRow = { ...row, vni };
  const table: Selectable<RouteTablesTable> = { id: mainTableId, account: row.account, vpc_id: row.id, name: 'default', is_main: 1, created_at: w.now };
  const local = localRoute(localRouteId, routeId, mainTableId, row.cidr, w.now);
  // In this order (answered in it): each row references the one before.
  await Promise.all([
    w.tx.insertInto('vpcs').values(vpc).execute(),
    w.tx.insertInto('route_tables').values(table).execute(),
    w.tx.insertInto('routes').values(local).execute(),
  ]);
  return vpc;
}

export async function updateVpc(w: Write, id: string, set: Partial<Pick<VpcRow, 'name' | 'enable_multicast' | 'dns_servers' | 'domain_name'>>): Promise<void> {
  if (Object.keys(set).length) await w.tx.updateTable('vpcs').set(set).where('id', '=', id).execute();
}

/** Up to `n` of each kind of thing that keeps a VPC from being deleted, and its main route table, read together. */
export async function vpcDependents(db: Reader, vpcId: string, n: number) {
  const ids = (rows: Promise<{ id: string }[]>) => rows.then((r) => r.map((x) => x.id));
  const [subnets, tables, acls, peerings, nats, lbs, main] = await Promise.all([
    ids(db.selectFrom('subnets').select('id').where('vpc_id', '=', vpcId).orderBy('id').limit(n).execute()),
    ids(db.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).where('is_main', '=', 0).orderBy('id').limit(n).execute()),
    ids(db.selectFrom('network_acls').select('id').where('vpc_id', '=', vpcId).orderBy('id').limit(n).execute()),
    ids(
      db
        .selectFrom('peerings')
        .select('id')
        .where((eb) => eb.or([eb('vpc_id', '=', vpcId), eb('peer_vpc_id', '=', vpcId)]))
        .where('state', 'in', ['PENDING', 'ACTIVE'])
        .orderBy('id')
        .limit(n)
        .execute(),
    ),
    ids(db.selectFrom('nat_gateways').select('id').where('vpc_id', '=', vpcId).orderBy('id').limit(n).execute()),
    loadBalancersInVpc(db, vpcId),
    db.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).where('is_main', '=', 1).executeTakeFirstOrThrow(),
  ]);
  return { subnets, tables, acls, peerings, nats, lbs, mainTableId: main.id };
}

/** Deletes an empty VPC: its main table with its routes, its and the table's tags, its flow logs, the row (its quota is the caller's). */
export async function deleteVpcRows(w: Write, vpcId: string, mainTableId: string): Promise<void> {
  await Promise.all([
    w.tx.deleteFrom('routes').where('route_table_id', '=', mainTableId).execute(),
    w.tx.deleteFrom('route_tables').where('id', '=', mainTableId).execute(),
    w.tx.deleteFrom('tags').where('resource_id', 'in', [vpcId, mainTableId]).execute(),
    deleteFlowLogsOf(w.tx, [vpcId]), // as on Tencent, a resource's flow logs go with it
    w.tx.deleteFrom('vpcs').where('id', '=', vpcId).execute(),
  ]);
}
