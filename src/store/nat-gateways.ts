/**
 * NAT gateways in the store: the SQL the NAT gateway actions, the EIP actions
 * and the route checks share. A gateway's EIPs are the addresses whose
 * nat_gateway_id names it (status BIND, no instance).
 *
 * An EIP moves to or from a gateway only from the state the caller saw
 * (holdEipsForNat, releaseEipsOfNat change nothing otherwise), so two calls
 * racing for one EIP cannot both take it.
 */
import type { Kysely, Selectable } from 'kysely';
import type { DB, NatGatewaysTable } from './schema.js';
import type { Store, Tx } from './store.js';

type Reader = Kysely<DB>;
export type NatGatewayRow = Selectable<NatGatewaysTable>;

export async function insertNatGateway(tx: Tx, row: NatGatewayRow): Promise<void> {
  await tx.insertInto('nat_gateways').values(row).execute();
}

/** The EIPs each gateway holds, as {AddressId, PublicIpAddress}, by address. */
export async function eipsOfNats(db: Reader, natIds: readonly string[]): Promise<Map<string, { id: string; ip: string }[]>> {
  const out = new Map<string, { id: string; ip: string }[]>(natIds.map((id) => [id, []]));
  if (!natIds.length) return out;
  const rows = await db.selectFrom('addresses').select(['id', 'ip', 'nat_gateway_id']).where('nat_gateway_id', 'in', [...natIds]).orderBy('ip').execute();
  for (const r of rows) out.get(r.nat_gateway_id!)?.push({ id: r.id, ip: r.ip });
  return out;
}

/** Binds unbound EIPs to a gateway; false (and nothing bound) unless every one was still unbound. */
export async function holdEipsForNat(tx: Tx, natId: string, eipIds: readonly string[]): Promise<boolean> {
  if (!eipIds.length) return true;
  const r = await tx
    .updateTable('addresses')
    .set({ status: 'BIND', nat_gateway_id: natId })
    .where('id', 'in', [...eipIds])
    .where('status', '=', 'UNBIND')
    .executeTakeFirst();
  // The caller's transaction is undone when it answers false.
  return Number(r.numUpdatedRows) === eipIds.length;
}

/** Unbinds EIPs from a gateway (all of its EIPs when `eipIds` is absent); answers how many moved. */
export async function releaseEipsOfNat(tx: Tx, natId: string, eipIds?: readonly string[]): Promise<number> {
  let q = tx.updateTable('addresses').set({ status: 'UNBIND', nat_gateway_id: null }).where('nat_gateway_id', '=', natId);
  if (eipIds) q = q.where('id', 'in', [...eipIds]);
  return Number((await q.executeTakeFirst()).numUpdatedRows);
}

/** Routes (of any table) whose next hop is the gateway, as route table and destination. */
export async function routesToNat(db: Reader, natId: string): Promise<{ route_table_id: string; destination: string }[]> {
  return db
    .selectFrom('routes')
    .select(['route_table_id', 'destination'])
    .where('gateway_type', '=', 'NAT')
    .where('gateway_id', '=', natId)
    .orderBy('route_table_id')
    .orderBy('destination')
    .execute();
}

/** Moves a PENDING gateway to `state`; false if it is gone or no longer PENDING. */
export async function settlePendingNat(tx: Tx, id: string, state: 'AVAILABLE' | 'PENDFAILURE'): Promise<boolean> {
  const r = await tx.updateTable('nat_gateways').set({ state }).where('id', '=', id).where('state', '=', 'PENDING').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * At controller start, after recoverTasks: a gateway still PENDING whose task
 * was failed by the restart will never become AVAILABLE; it becomes
 * PENDFAILURE (Tencent's "creation failed"), which DeleteNatGateway removes.
 */
export async function failOrphanedNatGateways(store: Store): Promise<number> {
  const orphans = (db: Reader) =>
    db
      .selectFrom('nat_gateways')
      .innerJoin('tasks', 'tasks.id', 'nat_gateways.task_id')
      .select(['nat_gateways.id', 'nat_gateways.account', 'nat_gateways.vpc_id'])
      .where('nat_gateways.state', '=', 'PENDING')
      .where('tasks.status', '=', 'FAILED')
      .execute();
  // Most starts have none: then no write, so a restart leaves the region's revision alone.
  if (!(await orphans(store.db)).length) return 0;
  return store.write(async (w) => {
    const rows = await orphans(w.tx);
    for (const r of rows) {
      await settlePendingNat(w.tx, r.id, 'PENDFAILURE');
      w.changed(r.account, 'nat_gateway', r.id, 'update');
      w.changed(r.account, 'vpc', r.vpc_id, 'update');
    }
    return rows.length;
  });
}
