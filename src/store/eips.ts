/**
 * Elastic IPs in the store: the SQL the EIP actions, DescribeInstances and
 * TerminateInstances share. A bound EIP names its instance, the instance's
 * network interface and the private address it maps to, so the compiler can
 * join address → instance → VPC without asking anything else.
 *
 * Binding is safe against concurrent calls on PostgreSQL without a region-wide
 * lock: the binder locks the instance row (bindableInstance), an address moves
 * only from the state the caller saw (bindEip, unbindEip, deleteUnboundEips
 * change nothing otherwise), and the unique index on instance_id keeps an
 * instance at one EIP. SQLite runs one transaction at a time anyway.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AddressesTable, DB, InstancesTable } from './schema.js';
import type { Engine, Tx } from './store.js';
import { publicVips } from './load-balancers.js';

type Reader = Kysely<DB>;
export type EipRow = Selectable<AddressesTable>;

export interface Binding {
  instanceId: string;
  networkInterfaceId: string;
  privateIp: string;
  directConnection: boolean;
}

/** Every public address held in the region, by any account: EIPs and the VIPs of OPEN load balancers. */
export async function takenPublicIps(tx: Tx): Promise<Set<string>> {
  const rows = await tx.selectFrom('addresses').select('ip').execute();
  return new Set([...rows.map((r) => r.ip), ...(await publicVips(tx))]);
}

export async function insertEips(tx: Tx, rows: readonly EipRow[]): Promise<void> {
  if (rows.length) await tx.insertInto('addresses').values([...rows]).execute();
}

/** The account's EIPs among `ids` (another account's answer as missing). */
export async function eipsOf(db: Reader, account: string, ids: readonly string[]): Promise<EipRow[]> {
  if (!ids.length) return [];
  return db.selectFrom('addresses').selectAll().where('account', '=', account).where('id', 'in', [...ids]).execute();
}

/** The EIP bound to an instance, if any. */
export async function eipOfInstance(db: Reader, instanceId: string): Promise<EipRow | undefined> {
  return db.selectFrom('addresses').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
}

/** Public addresses bound to each of the instances (none: an empty list). */
export async function publicIpsOfInstances(db: Reader, instanceIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(instanceIds.map((id) => [id, []]));
  if (!instanceIds.length) return out;
  const rows = await db.selectFrom('addresses').select(['instance_id', 'ip']).where('instance_id', 'in', [...instanceIds]).orderBy('ip').execute();
  for (const r of rows) out.get(r.instance_id!)?.push(r.ip);
  return out;
}

/**
 * The account's instance an EIP is to be bound to, by ID or by network
 * interface, locked until the transaction ends (PostgreSQL): a concurrent
 * TerminateInstances or AssociateAddress on it waits, and sees this binding.
 */
export async function bindableInstance(
  tx: Tx,
  engine: Engine,
  account: string,
  by: { instanceId: string } | { networkInterfaceId: string },
): Promise<Selectable<InstancesTable> | undefined> {
  let q = tx.selectFrom('instances').selectAll().where('account', '=', account);
  q = 'instanceId' in by ? q.where('id', '=', by.instanceId) : q.where('eni_id', '=', by.networkInterfaceId);
  // SQLite has no FOR UPDATE, and needs none: it runs one write transaction at a time.
  return (engine === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
}

/** Binds an unbound EIP; false if it is no longer unbound. */
export async function bindEip(tx: Tx, id: string, b: Binding): Promise<boolean> {
  const r = await tx
    .updateTable('addresses')
    .set({
      status: 'BIND',
      instance_id: b.instanceId,
      network_interface_id: b.networkInterfaceId,
      private_ip: b.privateIp,
      direct_connection: b.directConnection ? 1 : 0,
    })
    .where('id', '=', id)
    .where('status', '=', 'UNBIND')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

const UNBOUND = { status: 'UNBIND', instance_id: null, network_interface_id: null, private_ip: null, direct_connection: 0 } as const;

/** Unbinds an EIP from the instance it was seen bound to; false if that binding is gone. */
export async function unbindEip(tx: Tx, id: string, instanceId: string): Promise<boolean> {
  const r = await tx.updateTable('addresses').set(UNBOUND).where('id', '=', id).where('instance_id', '=', instanceId).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Unbinds whatever EIPs the instances hold (they are being terminated); answers those EIPs as they were. */
export async function unbindEipsOfInstances(tx: Tx, instanceIds: readonly string[]): Promise<EipRow[]> {
  if (!instanceIds.length) return [];
  const rows = await tx.selectFrom('addresses').selectAll().where('instance_id', 'in', [...instanceIds]).orderBy('id').execute();
  if (rows.length)
    await tx
      .updateTable('addresses')
      .set(UNBOUND)
      .where('id', 'in', rows.map((r) => r.id))
      .execute();
  return rows;
}

/** Deletes the EIPs among `ids` that are unbound; answers the IDs it deleted. */
export async function deleteUnboundEips(tx: Tx, ids: readonly string[]): Promise<string[]> {
  const rows = await tx.deleteFrom('addresses').where('id', 'in', [...ids]).where('status', '=', 'UNBIND').returning('id').execute();
  return rows.map((r) => r.id);
}

/** The VPC of each of the instances still present. */
export async function vpcsOfInstances(db: Reader, instanceIds: readonly string[]): Promise<Map<string, string>> {
  if (!instanceIds.length) return new Map();
  const rows = await db.selectFrom('instances').select(['id', 'vpc_id']).where('id', 'in', [...instanceIds]).execute();
  return new Map(rows.map((r) => [r.id, r.vpc_id]));
}

/**
 * The daily allocation counter of an account is a usage row per UTC day;
 * earlier days' rows are dropped as the account allocates again.
 */
export const dailyAllocationKind = (day: string) => `eip_allocated:${day}`;

export async function dropEarlierDailyCounters(tx: Tx, account: string, day: string): Promise<void> {
  await tx
    .deleteFrom('usage')
    .where('account', '=', account)
    .where('kind', 'like', 'eip_allocated:%') // `_` matches itself too; no other kind starts alike
    .where('kind', '<>', dailyAllocationKind(day))
    .execute();
}
