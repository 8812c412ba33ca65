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
 * agent's document is behind on). Gateway nodes report their EIPs' counters
 * the same way (kept under the address's ID; an address not bound now is
 * dropped and named). Buckets older than MONITOR_RETENTION_S go.
 */
import { sql } from 'kysely';
import { checkCounterReport, checkEipSamples, delta, MAX_GAP_MS, spread, type Totals } from '../core/instance-counters.js';
import { BUCKET_SECONDS, MONITOR_RETENTION_S } from '../core/monitor-metrics.js';
import type { MonitorSamplesTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';

export type CounterReportResult = { status: 200; answer: { accepted: number; unknownInstances: string[]; unknownEips: string[] } } | { status: 400 | 403; error: string };

export function createInstanceCounters(store: Store, metrics: Metrics) {
  const last = new Map<string, { atMs: number; totals: Totals }>();
  /** What each host reported last: instances and VPC routers, to drop the series of those it stops reporting. */
  const reported = new Map<string, { instances: Set<string>; eips: Map<string, string>; vpcs: Set<string> }>();
  let prunedAt = 0;

  async function receive(hostId: string, body: unknown, now = Date.now()): Promise<CounterReportResult> {
    const checked = checkCounterReport(body, now);
    if (!checked.ok) return { status: 400, error: checked.errors.join('; ') };
    const eipsChecked = checkEipSamples((body as { eips?: unknown }).eips, now);
    if (!eipsChecked.ok) return { status: 400, error: eipsChecked.errors.join('; ') };
    const host = await store.db.selectFrom('hosts').select('role').where('id', '=', hostId).executeTakeFirst();
    if (checked.samples.length && host?.role !== 'host') return { status: 403, error: `${hostId} is not a host: only hosts carry instance ports` };
    if (eipsChecked.samples.length && host?.role !== 'gateway') return { status: 403, error: `${hostId} is not a gateway node: only gateway nodes carry EIPs` };
    const ids = [...new Set(checked.samples.map((s) => s.instanceId))];
    const placed = new Set(
      ids.length ? (await store.db.selectFrom('instances').select('id').where('id', 'in', ids).where('host_id', '=', hostId).execute()).map((r) => r.id) : [],
    );
    // EIPs by address: the figures are kept under the address's ID, so a released and reallocated address starts afresh.
    const ips = [...new Set(eipsChecked.samples.map((e) => e.publicIp))];
    const eipIds = new Map(
      ips.length ? (await store.db.selectFrom('addresses').select(['id', 'ip']).where('ip', 'in', ips).where('status', '=', 'BIND').execute()).map((r) => [r.ip, r.id] as const) : [],
    );
    const buckets = new Map<string, MonitorSamplesTable>();
    let accepted = 0;
    const resources = [
      ...checked.samples.filter((s) => placed.has(s.instanceId)).map((s) => ({ id: s.instanceId, kind: 'instance' as const, s })),
      ...eipsChecked.samples.filter((s) => eipIds.has(s.publicIp)).map((s) => ({ id: eipIds.get(s.publicIp)!, kind: 'eip' as const, label: s.publicIp, s })),
    ];
    for (const { id, kind, label, s } of resources.map((x) => ({ label: '', ...x }))) {
      accepted++;
      const key = `${hostId} ${id}`;
      const prev = last.get(key);
      if (prev && s.atMs <= prev.atMs) continue; // a repeat, or older than what was counted
      last.set(key, { atMs: s.atMs, totals: s });
      const d = delta(prev?.totals, s);
      if (!d || !prev) continue;
      if (kind === 'instance') metrics.addInstance(id, hostId, d);
      else metrics.addEip(label, hostId, d);
      if (s.atMs - prev.atMs > MAX_GAP_MS) continue;
      for (const b of spread(prev.atMs, s.atMs, d, BUCKET_SECONDS * 1000)) {
        const at = b.bucket / 1000;
        const row = buckets.get(`${id} ${at}`) ?? { resource_id: id, at, in_bytes: 0, out_bytes: 0, in_packets: 0, out_packets: 0, sg_drop_packets: 0, acl_drop_packets: 0 };
        row.in_bytes += b.totals.inBytes;
        row.out_bytes += b.totals.outBytes;
        row.in_packets += b.totals.inPackets;
        row.out_packets += b.totals.outPackets;
        row.sg_drop_packets += b.totals.sgDropPackets;
        row.acl_drop_packets += b.totals.aclDropPackets;
        buckets.set(`${id} ${at}`, row);
      }
    }
    for (const c of checked.conntrack) metrics.setConntrack(hostId, c.vpcId, c.entries);
    const current = {
      instances: new Set(checked.samples.map((x) => x.instanceId).filter((x) => placed.has(x))),
      eips: new Map(eipsChecked.samples.filter((x) => eipIds.has(x.publicIp)).map((x) => [eipIds.get(x.publicIp)!, x.publicIp])),
      vpcs: new Set(checked.conntrack.map((c) => c.vpcId)),
    };
    const was = reported.get(hostId);
    for (const gone of [...(was?.instances ?? [])].filter((x) => !current.instances.has(x))) {
      metrics.removeInstance(gone, hostId);
      last.delete(`${hostId} ${gone}`);
    }
    for (const [gone, ip] of [...(was?.eips ?? [])].filter(([x]) => !current.eips.has(x))) {
      metrics.removeEip(ip, hostId);
      last.delete(`${hostId} ${gone}`);
    }
    for (const gone of [...(was?.vpcs ?? [])].filter((x) => !current.vpcs.has(x))) metrics.removeConntrack(hostId, gone);
    reported.set(hostId, current);
    await addBuckets(store, [...buckets.values()]);
    if (now - prunedAt > 60_000) {
      prunedAt = now;
      await store.db.deleteFrom('monitor_samples').where('at', '<', Math.floor(now / 1000) - MONITOR_RETENTION_S).execute();
    }
    return { status: 200, answer: { accepted, unknownInstances: ids.filter((id) => !placed.has(id)).sort(), unknownEips: ips.filter((ip) => !eipIds.has(ip)).sort() } };
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
      oc.columns(['resource_id', 'at']).doUpdateSet({
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
