/**
 * Flow-log records from the hosts (POST /v1/hosts/{id}/flow-logs, body
 * FlowLogReport): checked, stored in the region's store (one transaction per
 * report, outside the revision: records are not desired state) for
 * RETENTION_MS, and appended as JSON lines to `flow-logs.jsonl` in the data
 * dir, where Vector or Fluent Bit can follow them (the file is rotated to
 * `.1` past ROTATE_BYTES, as logrotate's copytruncate-free `create` mode
 * does: shippers follow by name). Records of a flow log that no longer
 * exists (a report that crossed a DeleteFlowLog) are dropped and named.
 */
import { appendFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowLogRecord } from '../contract/flow-logs.js';
import { existingFlowLogs, insertRecords, pruneRecords, type FlowLogRecordRow } from '../store/flow-logs.js';
import type { Store } from '../store/store.js';

/** How long records are kept in the store (Tencent's CLS topics default to 30 days; a region in a box needs less). */
export const RETENTION_MS = 7 * 24 * 3600_000;
/** Size past which the JSON-lines file is rotated (one old file kept). */
export const ROTATE_BYTES = 256 << 20;
/** Records one report may carry. */
export const MAX_RECORDS = 200_000;

export const flowLogFile = (dataDir: string) => join(dataDir, 'flow-logs.jsonl');

export type FlowLogReportResult = { status: 200; answer: { accepted: number; unknownFlowLogs: string[] } } | { status: 400; error: string };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The records of a report, or what is wrong with it (the first few faults). Pure. */
export function checkFlowLogReport(body: unknown): { ok: true; records: (FlowLogRecord & { flowLogId: string })[] } | { ok: false; errors: string[] } {
  const list = (body as { records?: unknown } | null)?.records;
  if (!Array.isArray(list)) return { ok: false, errors: ['the body must be {"records": [...]}'] };
  if (list.length > MAX_RECORDS) return { ok: false, errors: [`a report carries at most ${MAX_RECORDS} records; send ${list.length} in several`] };
  const errors: string[] = [];
  list.forEach((r: Record<string, unknown>, i) => {
    const bad = (what: string) => errors.length < 5 && errors.push(`records[${i}]: ${what}`);
    if (!r || typeof r !== 'object') return void bad('not an object');
    if (typeof r.flowLogId !== 'string' || !/^fl-[0-9a-z]{8}$/.test(r.flowLogId)) bad('flowLogId must be fl-xxxxxxxx');
    if (r.version !== 2) bad('version must be 2');
    for (const k of ['account-id', 'interface-id']) if (typeof r[k] !== 'string') bad(`${k} must be a string`);
    for (const k of ['srcaddr', 'dstaddr']) if (typeof r[k] !== 'string' || !IPV4.test(r[k] as string)) bad(`${k} must be an IPv4 address`);
    for (const k of ['srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end']) if (!isCount(r[k])) bad(`${k} must be a non-negative integer`);
    if (isCount(r.start) && isCount(r.end) && (r.end as number) < (r.start as number)) bad('end is before start');
    if (r.action !== 'ACCEPT' && r.action !== 'REJECT') bad('action must be ACCEPT or REJECT');
    if (!['OK', 'NODATA', 'SKIPDATA'].includes(r['log-status'] as string)) bad('log-status must be OK, NODATA or SKIPDATA');
  });
  return errors.length ? { ok: false, errors } : { ok: true, records: list as (FlowLogRecord & { flowLogId: string })[] };
}

export async function receiveFlowLogs(store: Store, hostId: string, body: unknown, file?: string, now = Date.now()): Promise<FlowLogReportResult> {
  const checked = checkFlowLogReport(body);
  if (!checked.ok) return { status: 400, error: checked.errors.join('; ') };
  const ids = [...new Set(checked.records.map((r) => r.flowLogId))];
  const known = await existingFlowLogs(store.db, ids);
  const kept = checked.records.filter((r) => known.has(r.flowLogId));
  const rows: FlowLogRecordRow[] = kept.map((r) => ({
    flow_log_id: r.flowLogId,
    host_id: hostId,
    account_id: r['account-id'],
    interface_id: r['interface-id'],
    srcaddr: r.srcaddr,
    dstaddr: r.dstaddr,
    srcport: r.srcport,
    dstport: r.dstport,
    protocol: r.protocol,
    packets: r.packets,
    bytes: r.bytes,
    start: r.start,
    end: r.end,
    action: r.action,
    log_status: r['log-status'],
  }));
  await store.db.transaction().execute(async (tx) => {
    await insertRecords(tx, rows);
    await pruneRecords(tx, Math.floor((now - RETENTION_MS) / 1000));
  });
  if (file && kept.length) await appendLines(file, kept.map((r) => JSON.stringify({ 'flow-log-id': r.flowLogId, ...withoutId(r) })).join('\n') + '\n');
  return { status: 200, answer: { accepted: kept.length, unknownFlowLogs: ids.filter((id) => !known.has(id)).sort() } };
}

const withoutId = ({ flowLogId: _, ...rest }: FlowLogRecord & { flowLogId: string }) => rest;

async function appendLines(file: string, text: string) {
  const size = await stat(file).then((s) => s.size, () => 0);
  if (size > ROTATE_BYTES) await rename(file, `${file}.1`);
  await appendFile(file, text, { mode: 0o600 });
}
