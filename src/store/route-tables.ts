/**
 * Route tables and their routes in the store: the SQL the route-table
 * actions, CreateVpc/DeleteVpc and CreateSubnet(s) share. Every table has
 * its LOCAL route (the VPC's CIDR, RouteType NETD) from the moment it exists.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { newId } from '../core/ids.js';
import type { DB, RoutesTable, RouteTablesTable } from './schema.js';
import type { Write } from './store.js';

type Reader = Kysely<DB>;
export type RouteRow = Selectable<RoutesTable>;
export type RouteTableRow = Selectable<RouteTablesTable>;

/** `n` consecutive RouteIds, taken atomically from meta.next_route_id (unique in the region). */
export async function takeRouteIds(w: Write, n: number): Promise<number[]> {
  if (n === 0) return [];
  const r = await w.tx
    .updateTable('meta')
    .set({ next_route_id: sql`next_route_id + ${n}` })
    .where('id', '=', 1)
    .returning('next_route_id')
    .executeTakeFirstOrThrow();
  const end = Number(r.next_route_id);
  return Array.from({ length: n }, (_, i) => end - n + i);
}

/** A new route table with its LOCAL route. */
export async function insertRouteTable(
  w: Write,
  t: { account: string; vpcId: string; vpcCidr: string; name: string; main: boolean },
): Promise<RouteTableRow> {
  const row: RouteTableRow = { id: newId('rtb'), account: t.account, vpc_id: t.vpcId, name: t.name, is_main: t.main ? 1 : 0, created_at: w.now };
  await w.tx.insertInto('route_tables').values(row).execute();
  const [routeId] = await takeRouteIds(w, 1);
  await w.tx.insertInto('routes').values(localRoute(newId('rti'), routeId!, row.id, t.vpcCidr, w.now)).execute();
  return row;
}

/** The LOCAL route of a table: the VPC's CIDR, delivered inside the VPC (every table has one). */
export function localRoute(id: string, routeId: number, routeTableId: string, vpcCidr: string, now: string): Selectable<RoutesTable> {
  return { id, route_id: routeId, route_table_id: routeTableId, destination: vpcCidr, gateway_type: 'LOCAL', gateway_id: 'Local', description: '', enabled: 1, route_type: 'NETD', created_at: now };
}

/** New user routes of one table; RouteIds in the order given. */
export async function insertRoutes(
  w: Write,
  tableId: string,
  routes: readonly { destination: string; gatewayType: string; gatewayId: string; description: string; enabled: boolean }[],
): Promise<RouteRow[]> {
  const ids = await takeRouteIds(w, routes.length);
  const rows: RouteRow[] = routes.map((r, i) => ({
    id: newId('rti'),
    route_id: ids[i]!,
    route_table_id: tableId,
    destination: r.destination,
    gateway_type: r.gatewayType,
    gateway_id: r.gatewayId,
    description: r.description,
    enabled: r.enabled ? 1 : 0,
    route_type: 'USER',
    created_at: w.now,
  }));
  if (rows.length) await w.tx.insertInto('routes').values(rows).execute();
  return rows;
}

/** Routes of the given tables, each table's in RouteId order (the LOCAL route first). */
export async function routesOf(db: Reader, tableIds: readonly string[]): Promise<Map<string, RouteRow[]>> {
  const out = new Map<string, RouteRow[]>(tableIds.map((id) => [id, []]));
  if (!tableIds.length) return out;
  const rows = await db.selectFrom('routes').selectAll().where('route_table_id', 'in', [...tableIds]).orderBy('route_id').execute();
  for (const r of rows) out.get(r.route_table_id)!.push({ ...r, route_id: Number(r.route_id) });
  return out;
}

/** Subnets associated with the given tables, by subnet ID. */
export async function associationsOf(db: Reader, tableIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(tableIds.map((id) => [id, []]));
  if (!tableIds.length) return out;
  const rows = await db.selectFrom('subnets').select(['id', 'route_table_id']).where('route_table_id', 'in', [...tableIds]).orderBy('id').execute();
  for (const r of rows) out.get(r.route_table_id)?.push(r.id);
  return out;
}

export async function mainTableOf(db: Reader, vpcId: string): Promise<RouteTableRow> {
  return db.selectFrom('route_tables').selectAll().where('vpc_id', '=', vpcId).where('is_main', '=', 1).executeTakeFirstOrThrow();
}

export async function tableCount(db: Reader, vpcId: string): Promise<number> {
  const r = await db.selectFrom('route_tables').select(sql<number>`count(*)`.as('n')).where('vpc_id', '=', vpcId).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A table and its routes (tags and associations are the caller's). */
export async function deleteRouteTable(w: Write, id: string): Promise<void> {
  await w.tx.deleteFrom('routes').where('route_table_id', '=', id).execute();
  await w.tx.deleteFrom('route_tables').where('id', '=', id).execute();
}

/** The state of NAT gateway `id` if it belongs to VPC `vpcId`. */
export async function natGatewayState(db: Reader, vpcId: string, id: string): Promise<string | undefined> {
  const r = await db.selectFrom('nat_gateways').select('state').where('id', '=', id).where('vpc_id', '=', vpcId).executeTakeFirst();
  return r?.state;
}

/** Whether an instance of the VPC has this private address. */
export async function instanceAt(db: Reader, vpcId: string, ip: string): Promise<boolean> {
  const r = await db.selectFrom('instances').select('id').where('vpc_id', '=', vpcId).where('private_ip', '=', ip).executeTakeFirst();
  return !!r;
}

/** An ACTIVE peering connection joining `vpcId` to another VPC: that VPC and its CIDR. */
export async function activePeering(db: Reader, id: string, vpcId: string): Promise<{ peerVpcId: string; peerCidr: string } | undefined> {
  const p = await db
    .selectFrom('peerings')
    .select(['vpc_id', 'peer_vpc_id'])
    .where('id', '=', id)
    .where('state', '=', 'ACTIVE')
    .where((eb) => eb.or([eb('vpc_id', '=', vpcId), eb('peer_vpc_id', '=', vpcId)]))
    .executeTakeFirst();
  if (!p) return undefined;
  const peerVpcId = p.vpc_id === vpcId ? p.peer_vpc_id : p.vpc_id;
  const vpc = await db.selectFrom('vpcs').select('cidr').where('id', '=', peerVpcId).executeTakeFirst();
  return vpc && { peerVpcId, peerCidr: vpc.cidr };
}
