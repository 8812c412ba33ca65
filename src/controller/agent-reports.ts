/**
 * Agent status reports (contract AgentReport), checked before they count.
 * An agent says which revision it applied and the digest of that document;
 * the controller takes the revision as applied — and with it the instances
 * waiting for it become RUNNING — only when it compiled that document for
 * that host: the revision is not ahead of the host's current document, and
 * the digest is the one the controller gave out with that revision. A report
 * of a document it cannot vouch for (an older one this process never gave
 * out, after a restart) is still recorded — its audit, its drift — but does
 * not move the host's applied revision. A malformed report changes nothing.
 *
 * Drift records go to `drift_events` with bounded retention (the newest
 * MAX_DRIFT_ROWS_PER_HOST per host, none older than DRIFT_RETENTION_MS), and
 * the host's running counts (`drift_found`, `drift_repairs`) grow, which is
 * what `weft status` and the metrics show (driftRepairCounts).
 */
import { MAX_DRIFT_PER_REPORT, type AgentReport, type AuditSummary, type DriftRecord } from '../contract/agent-report.js';
import type { Store } from '../store/store.js';

export const DRIFT_RETENTION_MS = 7 * 24 * 3600_000;
export const MAX_DRIFT_ROWS_PER_HOST = 1000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is string => typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** The report if `body` is one, or what is wrong with it. */
export function parseReport(body: unknown): AgentReport | string {
  if (!isObj(body)) return 'the report is not a JSON object';
  const { revision, digest, ok, error, changes, audit, drift } = body;
  if (!isCount(revision)) return '`revision` must be a whole number ≥ 0';
  if (typeof digest !== 'string' || !/^[0-9a-f]{8,128}$/.test(digest)) return '`digest` must be the hex digest the document was given out with';
  if (typeof ok !== 'boolean') return '`ok` must be true or false';
  if (error !== undefined && !isText(error, 4000)) return '`error` must be a string of at most 4000 characters';
  if (changes !== undefined && !isCount(changes)) return '`changes` must be a whole number ≥ 0';
  if (audit !== undefined) {
    const bad = checkAudit(audit);
    if (bad) return `\`audit\`: ${bad}`;
  }
  if (drift !== undefined) {
    if (!Array.isArray(drift)) return '`drift` must be an array';
    if (drift.length > MAX_DRIFT_PER_REPORT) return `\`drift\` holds ${drift.length} records; at most ${MAX_DRIFT_PER_REPORT} per report`;
    for (const [i, d] of drift.entries()) {
      const bad = checkDrift(d, revision);
      if (bad) return `\`drift[${i}]\`: ${bad}`;
    }
  }
  return body as unknown as AgentReport;
}

function checkAudit(a: unknown): string | undefined {
  if (!isObj(a)) return 'not an object';
  if (!isTime(a.at)) return '`at` must be an ISO 8601 time';
  if (!isCount(a.ms)) return '`ms` must be a whole number ≥ 0';
  if (a.revision !== undefined && !isCount(a.revision)) return '`revision` must be a whole number ≥ 0';
  if (a.digest !== undefined && (typeof a.digest !== 'string' || !/^[0-9a-f]{8,128}$/.test(a.digest))) return '`digest` must be a hex digest';
  if (typeof a.ok !== 'boolean') return '`ok` must be true or false';
  if (!isCount(a.repairs)) return '`repairs` must be a whole number ≥ 0';
  if (a.error !== undefined && !isText(a.error, 4000)) return '`error` must be a string of at most 4000 characters';
  return undefined;
}

function checkDrift(d: unknown, revision: number): string | undefined {
  if (!isObj(d)) return 'not an object';
  if (!isTime(d.at)) return '`at` must be an ISO 8601 time';
  if (!isCount(d.revision) || d.revision > revision) return "`revision` must be a whole number no later than the report's";
  if (!isText(d.vpcId, 100) || !d.vpcId) return '`vpcId` must be a string';
  if (d.ns !== null && !isText(d.ns, 200)) return '`ns` must be a namespace name or null';
  if (!isText(d.kind, 40) || !d.kind) return '`kind` must be a string';
  if (!isText(d.what, 1000)) return '`what` must be a string of at most 1000 characters';
  if (typeof d.repaired !== 'boolean') return '`repaired` must be true or false';
  if (d.error !== undefined && !isText(d.error, 4000)) return '`error` must be a string';
  return undefined;
}

/** What the controller gave out to a host: its current document, and the digests of the revisions before it that it still knows. */
export interface GivenDocuments {
  current?: { revision: number; digest: string };
  /** Earlier documents given out by this process, by revision. */
  earlier: ReadonlyMap<number, string>;
}

/**
 * Whether a well-formed report may move the host's applied revision
 * (`counts`), may be recorded at all (`error` unset), or is refused.
 */
export function judgeReport(r: AgentReport, given: GivenDocuments): { counts: boolean; error?: string } {
  const cur = given.current;
  if (!cur) return { counts: false, error: 'the host has no document' };
  if (r.revision > cur.revision) return { counts: false, error: `revision ${r.revision} is ahead of the host's document (revision ${cur.revision})` };
  if (r.revision === cur.revision) {
    if (r.digest !== cur.digest) return { counts: false, error: `digest ${r.digest} is not that of revision ${r.revision} (${cur.digest})` };
    return { counts: r.ok };
  }
  const known = given.earlier.get(r.revision);
  if (known !== undefined && known !== r.digest) return { counts: false, error: `digest ${r.digest} is not that of revision ${r.revision} (${known})` };
  // An older document: it counts when this process gave it out (an agent still working its way to the newest).
  return { counts: r.ok && known !== undefined };
}

/** Records a checked report: the host's row, and its drift (with retention). */
export async function recordReport(store: Store, hostId: string, r: AgentReport, counts: boolean, now = new Date()): Promise<void> {
  const { drift = [], ...rest } = r;
  const found = drift.length;
  const repaired = drift.filter((d) => d.repaired).length;
  const at = now.toISOString();
  await store.db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('hosts').select(['applied_revision', 'applied_digest']).where('id', '=', hostId).executeTakeFirstOrThrow();
    const advance = counts && r.revision >= Number(row.applied_revision);
    await tx
      .updateTable('hosts')
      .set((eb) => ({
        applied_revision: advance ? r.revision : row.applied_revision,
        applied_digest: advance ? r.digest : row.applied_digest,
        reported_at: at,
        report: JSON.stringify(rest),
        ...(r.audit ? { last_audit: JSON.stringify(r.audit) } : {}),
        drift_found: eb('drift_found', '+', found),
        drift_repairs: eb('drift_repairs', '+', repaired),
      }))
      .where('id', '=', hostId)
      .execute();
    if (!drift.length) return;
    await tx
      .insertInto('drift_events')
      .values(
        drift.map((d: DriftRecord) => ({
          host_id: hostId,
          at: d.at,
          received_at: at,
          revision: d.revision,
          vpc_id: d.vpcId,
          ns: d.ns,
          kind: d.kind,
          what: d.what,
          repaired: d.repaired ? 1 : 0,
          error: d.error ?? null,
        })),
      )
      .execute();
    // Retention: the host's newest rows only, and nothing older than the retention period.
    const cutoff = await tx
      .selectFrom('drift_events')
      .select('received_at')
      .where('host_id', '=', hostId)
      .orderBy('received_at', 'desc')
      .offset(MAX_DRIFT_ROWS_PER_HOST)
      .limit(1)
      .executeTakeFirst();
    if (cutoff) await tx.deleteFrom('drift_events').where('host_id', '=', hostId).where('received_at', '<=', cutoff.received_at).execute();
    await tx.deleteFrom('drift_events').where('received_at', '<', new Date(now.getTime() - DRIFT_RETENTION_MS).toISOString()).execute();
  });
}

/** Drift repairs per host since it was registered (the metrics' counter). */
export async function driftRepairCounts(store: Store): Promise<Map<string, { found: number; repaired: number }>> {
  const rows = await store.db.selectFrom('hosts').select(['id', 'drift_found', 'drift_repairs']).execute();
  return new Map(rows.map((r) => [r.id, { found: Number(r.drift_found), repaired: Number(r.drift_repairs) }]));
}

/** A host's recent drift, newest first (`weft status --json` shows the last few). */
export async function recentDrift(store: Store, hostId: string, limit = 5): Promise<DriftRecord[]> {
  const rows = await store.db.selectFrom('drift_events').selectAll().where('host_id', '=', hostId).orderBy('at', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    at: r.at,
    revision: Number(r.revision),
    vpcId: r.vpc_id,
    ns: r.ns,
    kind: r.kind,
    what: r.what,
    repaired: !!r.repaired,
    ...(r.error ? { error: r.error } : {}),
  }));
}

export type { AuditSummary };
