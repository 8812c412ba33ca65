/**
 * Flow monitor and QoS of NAT gateways in the store: the SQL the gateway flow
 * actions, the flow report endpoint, the compiler's loader and
 * DeleteNatGateway share. Flow figures are not desired state: the report
 * endpoint writes them in a transaction of its own, outside the revision and
 * the change log (no agent's document depends on them).
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, GatewayFlowCountersTable, GatewayFlowMinutesTable, GatewayFlowQosTable } from './schema.js';
import type { Engine, Tx } from './store.js';

type Reader = Kysely<DB>;
export type QosRow = Selectable<GatewayFlowQosTable>;
export type FlowCountersRow = Selectable<GatewayFlowCountersTable>;
export type FlowMinuteRow = Selectable<GatewayFlowMinutesTable>;

/** Rows per INSERT: well under SQLite's bound-parameter limit at 10 columns a row. */
const BATCH = 500;

// ---------------------------------------------------------------------------
// Monitor and QoS (desired state: written through store.write by the API)

/** The gateways among `ids` whose flow monitor is on. */
export async function monitoredGateways(db: Reader, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db.selectFrom('gateway_flow_monitors').select('gateway_id').where('gateway_id', 'in', [...ids]).execute();
  return new Set(rows.map((r) => r.gateway_id));
}

/** Turns a gateway's flow monitor on or off; answers whether that changed anything. */
export async function setFlowMonitor(tx: Tx, gatewayId: string, on: boolean, now: string): Promise<boolean> {
  const was = (await monitoredGateways(tx, [gatewayId])).has(gatewayId);
  if (was === on) return false;
  if (on) await tx.insertInto('gateway_flow_monitors').values({ gateway_id: gatewayId, created_at: now }).execute();
  else await tx.deleteFrom('gateway_flow_monitors').where('gateway_id', '=', gatewayId).execute();
  return true;
}

/** The QoS rows of these gateways, by creation and address; only these addresses when `ips` is given. */
export async function qosOf(db: Reader, gatewayIds: readonly string[], ips?: readonly string[]): Promise<QosRow[]> {
  if (!gatewayIds.length || ips?.length === 0) return [];
  let q = db.selectFrom('gateway_flow_qos').selectAll().where('gateway_id', 'in', [...gatewayIds]);
  if (ips) q = q.where('private_ip', 'in', [...ips]);
  return q.orderBy('created_at').orderBy('private_ip').execute();
}

/** One page of a gateway's QoS rows (by creation and address), only these addresses when `ips` is given, and how many there are. */
export async function qosPage(db: Reader, gatewayId: string, ips: readonly string[] | undefined, offset: number, limit: number): Promise<{ rows: QosRow[]; total: number }> {
  if (ips?.length === 0) return { rows: [], total: 0 };
  let q = db.selectFrom('gateway_flow_qos').where('gateway_id', '=', gatewayId);
  if (ips) q = q.where('private_ip', 'in', [...ips]);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('created_at').orderBy('private_ip').limit(limit).offset(offset).execute(),
    q.select(sql<string | number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/** Caps these addresses of a gateway at `bandwidth` Mbps; an address capped before keeps its creation time. */
export async function setQos(tx: Tx, gatewayId: string, ips: readonly string[], bandwidth: number, now: string): Promise<void> {
  for (let i = 0; i < ips.length; i += BATCH)
    await tx
      .insertInto('gateway_flow_qos')
      .values(ips.slice(i, i + BATCH).map((ip) => ({ gateway_id: gatewayId, private_ip: ip, bandwidth, created_at: now })))
      .onConflict((oc) => oc.columns(['gateway_id', 'private_ip']).doUpdateSet({ bandwidth }))
      .execute();
}

export async function deleteQos(tx: Tx, gatewayId: string, ips: readonly string[]): Promise<void> {
  if (ips.length) await tx.deleteFrom('gateway_flow_qos').where('gateway_id', '=', gatewayId).where('private_ip', 'in', [...ips]).execute();
}

/** Everything kept for a gateway that is being deleted. */
export async function deleteFlowsOfGateway(tx: Tx, gatewayId: string): Promise<void> {
  for (const t of ['gateway_flow_monitors', 'gateway_flow_qos', 'gateway_flow_counters', 'gateway_flow_minutes'] as const)
    await tx.deleteFrom(t).where('gateway_id', '=', gatewayId).execute();
}

// ---------------------------------------------------------------------------
// Reported figures

/** A node's last counters for these gateways. */
export async function countersOf(db: Reader, hostId: string, gatewayIds: readonly string[]): Promise<FlowCountersRow[]> {
  if (!gatewayIds.length) return [];
  return db.selectFrom('gateway_flow_counters').selectAll().where('host_id', '=', hostId).where('gateway_id', 'in', [...gatewayIds]).execute();
}

export async function saveCounters(tx: Tx, rows: readonly FlowCountersRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH)
    await tx
      .insertInto('gateway_flow_counters')
      .values(rows.slice(i, i + BATCH))
      .onConflict((oc) =>
        oc.columns(['host_id', 'gateway_id', 'private_ip']).doUpdateSet((eb) => ({
          at: eb.ref('excluded.at'),
          in_bytes: eb.ref('excluded.in_bytes'),
          out_bytes: eb.ref('excluded.out_bytes'),
          in_packets: eb.ref('excluded.in_packets'),
          out_packets: eb.ref('excluded.out_packets'),
          new_connections: eb.ref('excluded.new_connections'),
        })),
      )
      .execute();
}

/** Adds a node's figures to its minute rows (connections: the larger). */
export async function addMinutes(tx: Tx, engine: Engine, rows: readonly FlowMinuteRow[]): Promise<void> {
  const larger = engine === 'postgres' ? sql`greatest` : sql`max`;
  const sum = (c: string) => sql<number>`${sql.ref(`gateway_flow_minutes.${c}`)} + ${sql.ref(`excluded.${c}`)}`;
  for (let i = 0; i < rows.length; i += BATCH)
    await tx
      .insertInto('gateway_flow_minutes')
      .values(rows.slice(i, i + BATCH))
      .onConflict((oc) =>
        oc.columns(['gateway_id', 'minute', 'private_ip', 'host_id']).doUpdateSet({
          in_bytes: sum('in_bytes'),
          out_bytes: sum('out_bytes'),
          in_packets: sum('in_packets'),
          out_packets: sum('out_packets'),
          new_connections: sum('new_connections'),
          connections: sql<number>`${larger}(gateway_flow_minutes.connections, excluded.connections)`,
        }),
      )
      .execute();
}

/** Drops minutes older than `before` (ISO) and counters not refreshed since. */
export async function pruneFlows(tx: Tx, before: string): Promise<void> {
  await tx.deleteFrom('gateway_flow_minutes').where('minute', '<', before).execute();
  await tx.deleteFrom('gateway_flow_counters').where('at', '<', before).execute();
}

/** A minute's figures of one gateway per private address, summed over nodes. */
export interface FlowDetail {
  private_ip: string;
  in_bytes: number;
  out_bytes: number;
  in_packets: number;
  out_packets: number;
  connections: number;
  new_connections: number;
}
export type FlowColumn = Exclude<keyof FlowDetail, 'private_ip'>;

/** One page of a gateway's figures for a minute, sorted by `order` then address, and how many addresses there are. */
export async function flowDetail(
  db: Reader,
  q: { gatewayId: string; minute: string; privateIp?: string; order: FlowColumn; direction: 'asc' | 'desc'; offset: number; limit: number },
): Promise<{ rows: FlowDetail[]; total: number }> {
  let base = db.selectFrom('gateway_flow_minutes').where('gateway_id', '=', q.gatewayId).where('minute', '=', q.minute);
  if (q.privateIp !== undefined) base = base.where('private_ip', '=', q.privateIp);
  const sum = (c: FlowColumn) => sql<string | number>`sum(${sql.ref(c)})`.as(c);
  const [rows, total] = await Promise.all([
    base
      .select(['private_ip', sum('in_bytes'), sum('out_bytes'), sum('in_packets'), sum('out_packets'), sum('connections'), sum('new_connections')])
      .groupBy('private_ip')
      .orderBy(sql`sum(${sql.ref(q.order)})`, q.direction)
      .orderBy('private_ip')
      .limit(q.limit)
      .offset(q.offset)
      .execute(),
    base.select(sql<string | number>`count(distinct private_ip)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  // PostgreSQL answers sums of bigint as numeric, which pg hands over as strings.
  return {
    rows: rows.map((r) => ({
      private_ip: r.private_ip,
      in_bytes: Number(r.in_bytes),
      out_bytes: Number(r.out_bytes),
      in_packets: Number(r.in_packets),
      out_packets: Number(r.out_packets),
      connections: Number(r.connections),
      new_connections: Number(r.new_connections),
    })),
    total: Number(total.n),
  };
}
