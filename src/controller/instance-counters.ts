/**
 * Counter reports of host agents (POST /v1/hosts/{id}/counters, body
 * InstanceCounterReport): checked (core/instance-counters.ts), turned into
 * what each instance counted since its previous reading, which goes to the
 * Prometheus counters (metrics.ts) and, spread over 10 s buckets, to the
 * store for GetMonitorData (api/monitor). Outside the revision: figures are
 * not desired state.
 *
 * The previous reading of each instance is kept in memory: after a controller
 * restart the first report of each instance is a new base, and the interval
 * before it is lost (a gap in the data points, as Tencent's monitor has when
 * it "drops points"). An instance the store does not place on the reporting
 * host is dropped and named in the answer (a deleted or moved instance the
 * agent's document is behind on). Buckets older than MONITOR_RETENTION_S go.
 */
import { sql } from 'kysely';
import { checkCounterReport, delta, MAX_GAP_MS, spread, type Totals } from '../core/instance-counters.js';
import { BUCKET_SECONDS, MONITOR_RETENTION_S } from '../core/monitor-metrics.js';
import type { MonitorSamplesTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';

export type CounterReportResult = { status: 200; answer: { accepted: number; unknownInstances: string[] } } | { status: 400 | 403; error: string };

export function createInstanceCounters(store: Store, metrics: Metrics) {
  const last = new Map<string, { atMs: number; totals: Totals }>();
  /** What each host reported last: instances and VPC routers, to drop the series of those it stops reporting. */
  const reported = new Map<string, { instances: Set<string>; vpcs: Set<string> }>();
  let prunedAt = 0;

  async function receive(hostId: string, body: unknown, now = Date.now()): Promise<CounterReportResult> {
    const checked = checkCounterReport(body, now);
    if (!checked.ok) return { status: 400, error: checked.errors.join('; ') };
    const host = await store.db.selectFrom('hosts').select('role').where('id', '=', hostId).executeTakeFirst();
    if (host?.role !== 'host') return { status: 403, error: `${hostId} is not a host: only hosts carry instance ports` };
    const ids = [...new Set(checked.samples.map((s) => s.instanceId))];
    const placed = new Set(
      ids.length ? (await store.db.selectFrom('instances').select('id').where('id', 'in', ids).where('host_id', '=', hostId).execute()).map((r) => r.id) : [],
    );
    const buckets = new Map<string, MonitorSamplesTable>();
    let accepted = 0;
    for (const s of checked.samples) {
      if (!placed.has(s.instanceId)) continue;
      accepted++;
      const key = `${hostId} ${s.instanceId}`;
      const prev = last.get(key);
      if (prev && s.atMs <= prev.atMs) continue; // a repeat, or older than what was counted
      last.set(key, { atMs: s.atMs, totals: s });
      const d = delta(prev?.totals, s);
      if (!d || !prev) continue;
      metrics.addInstance(s.instanceId, hostId, d);
      if (s.atMs - prev.atMs > MAX_GAP_MS) continue;
      for (const b of spread(prev.atMs, s.atMs, d, BUCKET_SECONDS * 1000)) {
        const at = b.bucket / 1000;
        const row = buckets.get(`${s.instanceId} ${at}`) ?? { instance_id: s.instanceId, at, in_bytes: 0, out_bytes: 0, in_packets: 0, out_packets: 0, sg_drop_packets: 0, acl_drop_packets: 0 };
        row.in_bytes += b.totals.inBytes;
        row.out_bytes += b.totals.outBytes;
        row.in_packets += b.totals.inPackets;
        row.out_packets += b.totals.outPackets;
        row.sg_drop_packets += b.totals.sgDropPackets;
        row.acl_drop_packets += b.totals.aclDropPackets;
        buckets.set(`${s.instanceId} ${at}`, row);
      }
    }
    for (const c of checked.conntrack) metrics.setConntrack(hostId, c.vpcId, c.entries);
    const current = { instances: new Set(checked.samples.map((x) => x.instanceId).filter((x) => placed.has(x))), vpcs: new Set(checked.conntrack.map((c) => c.vpcId)) };
    const was = reported.get(hostId);
    for (const gone of [...(was?.instances ?? [])].filter((x) => !current.instances.has(x))) {
      metrics.removeInstance(gone, hostId);
      last.delete(`${hostId} ${gone}`);
    }
    for (const gone of [...(was?.vpcs ?? [])].filter((x) => !current.vpcs.has(x))) metrics.removeConntrack(hostId, gone);
    reported.set(hostId, current);
    await addBuckets(store, [...buckets.values()]);
    if (now - prunedAt > 60_000) {
      prunedAt = now;
      await store.db.deleteFrom('monitor_samples').where('at', '<', Math.floor(now / 1000) - MONITOR_RETENTION_S).execute();
    }
    return { status: 200, answer: { accepted, unknownInstances: ids.filter((id) => !placed.has(id)).sort() } };
  }

  return { receive };
}

/** Adds to the buckets (two reports may share one: a bucket straddles their readings). */
async function addBuckets(store: Store, rows: MonitorSamplesTable[]) {
  if (!rows.length) return;
  const sum = (c: keyof MonitorSamplesTable) => sql<number>`${sql.ref(`monitor_samples.${c}`)} + ${sql.ref(`excluded.${c}`)}`;
  await store.db
    .insertInto('monitor_samples')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['instance_id', 'at']).doUpdateSet({
        in_bytes: sum('in_bytes'),
        out_bytes: sum('out_bytes'),
        in_packets: sum('in_packets'),
        out_packets: sum('out_packets'),
        sg_drop_packets: sum('sg_drop_packets'),
        acl_drop_packets: sum('acl_drop_packets'),
      }),
    )
    .execute();
}
