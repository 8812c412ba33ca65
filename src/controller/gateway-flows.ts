/**
 * Flow reports of gateway nodes (POST /v1/hosts/{id}/flows, body
 * GatewayFlowReport): checked (core/flow-samples.ts), turned into per-minute
 * figures against the node's last counters (core/flow-minutes.ts) and kept
 * for DescribeGatewayFlowMonitorDetail. One transaction per report, outside
 * the revision: figures are not desired state.
 *
 * Samples of a gateway that does not exist are dropped and named in the
 * answer (the node's document is behind a DeleteNatGateway). The base
 * counters are kept whether or not the gateway's flow monitor is on, minutes
 * only while it is on. Minutes older than RETENTION_MS go (Tencent's console
 * shows 7 days).
 */
import { sql } from 'kysely';
import type { GatewayFlowAnswer } from '../contract/agent-report.js';
import { flowMinutes, type Counters } from '../core/flow-minutes.js';
import { checkFlowReport, type CheckedSample } from '../core/flow-samples.js';
import { addMinutes, countersOf, monitoredGateways, pruneFlows, saveCounters, type FlowCountersRow, type FlowMinuteRow } from '../store/gateway-flows.js';
import type { Store } from '../store/store.js';

export const RETENTION_MS = 7 * 24 * 3600_000;

export type FlowReportResult = { status: 200; answer: GatewayFlowAnswer } | { status: 400 | 403; error: string };

const keyOf = (gatewayId: string, ip: string) => `${gatewayId} ${ip}`;

export async function receiveFlows(store: Store, hostId: string, body: unknown, now = Date.now()): Promise<FlowReportResult> {
  const checked = checkFlowReport(body, now);
  if (!checked.ok) return { status: 400, error: checked.errors.join('; ') };
  const host = await store.db.selectFrom('hosts').select('role').where('id', '=', hostId).executeTakeFirst();
  if (host?.role !== 'gateway') return { status: 403, error: `${hostId} is not a gateway node: only gateway nodes report flows` };
  const ids = [...new Set(checked.samples.map((s) => s.natGatewayId))];
  return store.db.transaction().execute(async (tx) => {
    // A node's reports one at a time, across replicas too: two that read the same base would count twice.
    // (SQLite: one controller, whose transactions already run one at a time.)
    if (store.engine === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`gateway-flows:${hostId}`}))`.execute(tx);
    const known = new Set(ids.length ? (await tx.selectFrom('nat_gateways').select('id').where('id', 'in', ids).execute()).map((r) => r.id) : []);
    const monitored = await monitoredGateways(tx, [...known]);
    const last = new Map((await countersOf(tx, hostId, [...known])).map((r) => [keyOf(r.gateway_id, r.private_ip), toCounters(r)]));
    const byKey = new Map<string, CheckedSample[]>();
    for (const s of checked.samples) {
      if (!known.has(s.natGatewayId)) continue;
      const key = keyOf(s.natGatewayId, s.privateIp);
      (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(s);
    }
    const counters: FlowCountersRow[] = [];
    const minutes: FlowMinuteRow[] = [];
    let accepted = 0;
    for (const [key, samples] of byKey) {
      const { natGatewayId: gateway_id, privateIp: private_ip } = samples[0]!;
      const out = flowMinutes(last.get(key), samples);
      if (out.last && out.last.at !== last.get(key)?.at) counters.push({ host_id: hostId, gateway_id, private_ip, ...fromCounters(out.last) });
      accepted += samples.length;
      if (!monitored.has(gateway_id)) continue;
      for (const m of out.minutes)
        minutes.push({
          gateway_id,
          private_ip,
          host_id: hostId,
          minute: new Date(m.minute).toISOString(),
          in_bytes: m.inBytes,
          out_bytes: m.outBytes,
          in_packets: m.inPackets,
          out_packets: m.outPackets,
          connections: m.connections,
          new_connections: m.newConnections,
        });
    }
    await saveCounters(tx, counters);
    await addMinutes(tx, store.engine, minutes);
    await pruneFlows(tx, new Date(now - RETENTION_MS).toISOString());
    return { status: 200, answer: { accepted, unknownGateways: ids.filter((id) => !known.has(id)).sort() } };
  });
}

const toCounters = (r: FlowCountersRow): Counters => ({
  at: Date.parse(r.at),
  inBytes: Number(r.in_bytes),
  outBytes: Number(r.out_bytes),
  inPackets: Number(r.in_packets),
  outPackets: Number(r.out_packets),
  newConnections: Number(r.new_connections),
});

const fromCounters = (c: Counters) => ({
  at: new Date(c.at).toISOString(),
  in_bytes: c.inBytes,
  out_bytes: c.outBytes,
  in_packets: c.inPackets,
  out_packets: c.outPackets,
  new_connections: c.newConnections,
});
