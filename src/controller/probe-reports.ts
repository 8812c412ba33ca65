/**
 * Probe reports of host agents (POST /v1/hosts/{id}/probes, body
 * ProbeReport, agent/probes.ts): checked (core/probe-report.ts), then the
 * latest figures kept (store/net-detects.ts): per detection, destination and
 * probing host; per host pair for the underlay, the peer named by its
 * underlay address. Figures of detections deleted meanwhile and of addresses
 * no host has are dropped (the agent's document is behind).
 */
import { checkProbeReport } from '../core/probe-report.js';
import { pruneUnderlayLinks, saveNetDetectResults, saveUnderlayLinks } from '../store/net-detects.js';
import type { Store } from '../store/store.js';

export type ProbeReportResult = { status: 200; answer: { accepted: number } } | { status: 400; error: string };

export async function receiveProbes(store: Store, hostId: string, body: unknown): Promise<ProbeReportResult> {
  const checked = checkProbeReport(body);
  if (!checked.ok) return { status: 400, error: checked.errors.slice(0, 10).join('; ') };
  const r = checked.report;
  const at = new Date(Date.parse(r.at)).toISOString();
  const ids = [...new Set(r.netDetects.map((n) => n.netDetectId))];
  const known = new Set(ids.length ? (await store.db.selectFrom('net_detects').select('id').where('id', 'in', ids).execute()).map((x) => x.id) : []);
  const hosts = new Map((await store.db.selectFrom('hosts').select(['id', 'underlay']).execute()).map((h) => [h.underlay, h.id]));
  const results = r.netDetects
    .filter((n) => known.has(n.netDetectId))
    .map((n) => ({ net_detect_id: n.netDetectId, ip: n.ip, sent: n.sent, received: n.received, rtt_ms: n.rttMs ?? null, at }));
  const links = r.underlay
    .filter((u) => hosts.has(u.underlay) && hosts.get(u.underlay) !== hostId)
    .map((u) => ({ to_host: hosts.get(u.underlay)!, sent: u.sent, received: u.received, rtt_ms: u.rttMs ?? null, at }));
  await store.db.transaction().execute(async (tx) => {
    await saveNetDetectResults(tx, hostId, results);
    await saveUnderlayLinks(tx, hostId, links);
    await pruneUnderlayLinks(tx);
  });
  return { status: 200, answer: { accepted: results.length + links.length } };
}
