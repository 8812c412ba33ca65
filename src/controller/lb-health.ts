/**
 * Health reports of LB nodes (POST /v1/hosts/{id}/health, body
 * LbHealthReport): the whole current state of the node's checks. Checked
 * strictly (a malformed report: 400, nothing kept); only LB nodes may report
 * (403). The node's rows of lb_target_health become what it reports: a row
 * per listener, address and port whose status changed is written, rows of
 * targets it no longer reports go; targets that do not exist (the node's
 * document is behind a deregistration) are dropped and counted. When any row
 * changes, the same transaction records a change of the load balancers
 * touched and their VPCs, so the LB nodes' documents are compiled again with
 * the new health; a report that changes nothing writes nothing.
 */
import { parseIp } from '../core/cidr.js';
import type { LbHealthReport } from '../contract/agent-report.js';
import { applyHealth, healthChanges, loadBalancersByIds, type ReportedStatus } from '../store/load-balancers.js';
import type { Store } from '../store/store.js';

export type HealthReportResult = { status: 200; answer: { accepted: number; dropped: number; changed: number } } | { status: 400 | 403; error: string };

const STATUSES = ['Alive', 'Dead', 'Unknown'];
const LISTENER_ID = /^lbl-[0-9a-z]{8}$/;
const MAX_TARGETS = 100_000;

/** The report's targets, or what is wrong with it. */
export function checkHealthReport(body: unknown): { ok: true; targets: ReportedStatus[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, errors: ['the body is not an object'] };
  const extra = Object.keys(body).filter((k) => k !== 'targets');
  if (extra.length) errors.push(`unknown field(s) ${extra.join(', ')}`);
  const list = (body as { targets?: unknown }).targets;
  if (!Array.isArray(list)) return { ok: false, errors: [...errors, '`targets` is not an array'] };
  if (list.length > MAX_TARGETS) return { ok: false, errors: [...errors, `\`targets\` has ${list.length} entries; at most ${MAX_TARGETS}`] };
  const seen = new Set<string>();
  const targets: ReportedStatus[] = [];
  list.forEach((t: unknown, i) => {
    const at = `targets.${i}`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return void errors.push(`${at} is not an object`);
    const o = t as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !['listenerId', 'ip', 'port', 'status'].includes(k));
    if (unknown.length) errors.push(`${at} has unknown field(s) ${unknown.join(', ')}`);
    if (typeof o.listenerId !== 'string' || !LISTENER_ID.test(o.listenerId)) errors.push(`${at}.listenerId is not a listener ID (lbl-xxxxxxxx)`);
    if (typeof o.ip !== 'string' || parseIp(o.ip) === undefined) errors.push(`${at}.ip is not an IPv4 address`);
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) errors.push(`${at}.port is not a port (1–65535)`);
    if (typeof o.status !== 'string' || !STATUSES.includes(o.status)) errors.push(`${at}.status is not one of ${STATUSES.join(', ')}`);
    const key = `${String(o.listenerId)} ${String(o.ip)} ${String(o.port)}`;
    if (seen.has(key)) errors.push(`${at} repeats ${String(o.listenerId)} ${String(o.ip)}:${String(o.port)}`);
    seen.add(key);
    targets.push({ listenerId: o.listenerId as string, ip: o.ip as string, port: o.port as number, status: o.status as string });
  });
  return errors.length ? { ok: false, errors } : { ok: true, targets };
}

export async function receiveHealth(store: Store, hostId: string, body: unknown): Promise<HealthReportResult> {
  const checked = checkHealthReport(body);
  if (!checked.ok) return { status: 400, error: checked.errors.slice(0, 10).join('; ') };
  const host = await store.db.selectFrom('hosts').select('role').where('id', '=', hostId).executeTakeFirst();
  if (host?.role !== 'lb') return { status: 403, error: `${hostId} is not an LB node: only LB nodes report target health` };
  const report: LbHealthReport['targets'] = checked.targets as LbHealthReport['targets'];
  // Most reports (every 30 s) change nothing: read first, and write (a new revision) only when something changed.
  const first = await healthChanges(store.db, hostId, report);
  if (!first.upserts.length && !first.gone.length) return { status: 200, answer: { accepted: first.accepted, dropped: first.dropped, changed: 0 } };
  return store.write(async (w) => {
    // Again inside the transaction: another report of the node, or a deregistration, may have come meanwhile.
    const c = await healthChanges(w.tx, hostId, report);
    await applyHealth(w.tx, hostId, c.upserts, c.gone, w.now);
    for (const lb of await loadBalancersByIds(w.tx, c.lbIds)) {
      w.changed(lb.account, 'load_balancer', lb.id, 'update');
      w.changed(lb.account, 'vpc', lb.vpc_id, 'update');
    }
    return { status: 200 as const, answer: { accepted: c.accepted, dropped: c.dropped, changed: c.upserts.length + c.gone.length } };
  });
}
