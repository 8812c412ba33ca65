/**
 * Flow logs in the store: the logs (desired state, written by the flow-log
 * actions through store.write) and the records hosts report (written by the
 * agent endpoint in transactions of their own, outside the revision: records
 * are not desired state and no document depends on them).
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { FlowLogRecord } from '../contract/flow-logs.js';
import type { DB, FlowLogRecordsTable, FlowLogsTable } from './schema.js';
import type { Tx } from './store.js';

type Reader = Kysely<DB>;
export type FlowLogRow = Selectable<FlowLogsTable>;
export type FlowLogRecordRow = Selectable<FlowLogRecordsTable>;

/** Rows per INSERT: well under SQLite's bound-parameter limit at 15 columns a row. */
const BATCH = 400;

/** The account's flow log, or undefined (another account's answers as missing). */
export async function findFlowLog(db: Reader, account: string, id: string): Promise<FlowLogRow | undefined> {
  return db.selectFrom('flow_logs').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
}

/** The enabled flow logs of these VPCs (what the compiler puts in documents). */
export async function enabledFlowLogs(db: Reader, vpcIds: readonly string[]) {
  if (!vpcIds.length) return [];
  return db
    .selectFrom('flow_logs')
    .select(['id', 'account', 'vpc_id', 'resource_type', 'resource_id', 'traffic_type'])
    .where('vpc_id', 'in', [...vpcIds])
    .where('enabled', '=', 1)
    .execute();
}

/** A flow log and everything kept for it. */
export async function deleteFlowLog(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('flow_log_records').where('flow_log_id', '=', id).execute();
  await tx.deleteFrom('flow_logs').where('id', '=', id).execute();
}

/** Flow logs of a resource that is going away (a VPC, subnet or instance): their records go too. */
export async function deleteFlowLogsOf(tx: Tx, resourceIds: readonly string[]): Promise<string[]> {
  if (!resourceIds.length) return [];
  const ids = (await tx.selectFrom('flow_logs').select('id').where('resource_id', 'in', [...resourceIds]).execute()).map((r) => r.id);
  for (const id of ids) await deleteFlowLog(tx, id);
  return ids;
}

/** Which of `ids` are flow logs that exist now (a report may arrive after a DeleteFlowLog). */
export async function existingFlowLogs(db: Reader, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  return new Set((await db.selectFrom('flow_logs').select('id').where('id', 'in', [...ids]).execute()).map((r) => r.id));
}

export async function insertRecords(tx: Tx, rows: readonly FlowLogRecordRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) await tx.insertInto('flow_log_records').values(rows.slice(i, i + BATCH)).execute();
}

/** Drops records whose window ended before `endBefore` (Unix seconds). */
export async function pruneRecords(tx: Tx, endBefore: number): Promise<void> {
  await tx.deleteFrom('flow_log_records').where('end', '<', endBefore).execute();
}

/** A flow log's records whose window ended at or after `since` (Unix seconds), oldest first, at most `limit`. */
export async function recordsOf(db: Reader, flowLogId: string, since: number, limit = 100_000): Promise<FlowLogRecord[]> {
  const rows = await db
    .selectFrom('flow_log_records')
    .selectAll()
    .where('flow_log_id', '=', flowLogId)
    .where('end', '>=', since)
    .orderBy('start')
    .orderBy('interface_id')
    .orderBy(sql`srcaddr`)
    .orderBy('srcport')
    .limit(limit)
    .execute();
  return rows.map(toRecord);
}

export const toRecord = (r: FlowLogRecordRow): FlowLogRecord => ({
  version: 2,
  'account-id': r.account_id,
  'interface-id': r.interface_id,
  srcaddr: r.srcaddr,
  dstaddr: r.dstaddr,
  srcport: Number(r.srcport),
  dstport: Number(r.dstport),
  protocol: Number(r.protocol),
  packets: Number(r.packets),
  bytes: Number(r.bytes),
  start: Number(r.start),
  end: Number(r.end),
  action: r.action as FlowLogRecord['action'],
  'log-status': r.log_status as FlowLogRecord['log-status'],
});
