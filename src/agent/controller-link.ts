/** The agent's side of distribution: long-poll its document, report what it applied. */
import { request } from 'node:http';
import type { HostDocument } from '../contract/host-document.js';
import type { AgentReport, GatewayFlowAnswer, GatewayFlowReport, InstanceCounterReport, LbHealthReport, ProbeReport } from '../contract/agent-report.js';
import type { LimitReport, LimitShares } from '../contract/limit-usage.js';
import { ReportRefused } from './reconcile-loop.js';
import type { FlowLogReport } from '../contract/flow-logs.js';

export interface LinkOptions {
  /** `unix:/path/agents.sock` or `http://host:port` */
  controller: string;
  hostId: string;
  token: string;
}

function call(o: LinkOptions, method: string, path: string, body?: unknown, timeoutMs = 70_000) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const target = o.controller.startsWith('unix:') ? { socketPath: o.controller.slice(5) } : (() => {
    const u = new URL(o.controller);
    return { host: u.hostname, port: Number(u.port) };
  })();
  return new Promise<{ status: number; body: string }>((ok, fail) => {
    const req = request(
      { ...target, method, path, timeout: timeoutMs, headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('controller did not answer in time')));
    req.on('error', fail);
    req.end(text);
  });
}

/** The next document; `requestIds`: the API requests whose changes led to it (core/log.ts). */
export async function fetchDocument(o: LinkOptions, known: string, waitSeconds = 25): Promise<{ document: HostDocument; digest: string; requestIds?: string[] } | undefined> {
  const r = await call(o, 'GET', `/v1/hosts/${o.hostId}/document?known=${encodeURIComponent(known)}&wait=${waitSeconds}`);
  if (r.status === 204) return undefined;
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as { document: HostDocument; digest: string; requestIds?: string[] };
}

/** Reports this gateway node's EIP usage; answers its shares of the limits. */
export async function sendLimitUsage(o: LinkOptions, r: LimitReport): Promise<LimitShares> {
  const res = await call(o, 'POST', `/v1/hosts/${o.hostId}/limits`, r, 10_000);
  if (res.status !== 200) throw new Error(`controller answered ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as LimitShares;
}

/** Throws ReportRefused on a 4xx (the same report would be refused again), a plain Error on anything else worth retrying. */
export async function sendReport(o: LinkOptions, report: AgentReport): Promise<void> {
  const r = await call(o, 'POST', `/v1/hosts/${o.hostId}/status`, report, 10_000);
  if (r.status >= 400 && r.status < 500) throw new ReportRefused(r.status, `controller answered ${r.status}: ${r.body}`);
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
}

/** A gateway node's flow counters (GatewayFlowSample); a refused report throws with the controller's reason. */
export async function sendFlows(o: LinkOptions, report: GatewayFlowReport): Promise<GatewayFlowAnswer> {
  const r = await call(o, 'POST', `/v1/hosts/${o.hostId}/flows`, report, 10_000);
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as GatewayFlowAnswer;
}

/** An LB node's health-check verdicts (LbHealthReport): the whole current state. */
export async function sendHealth(o: LinkOptions, report: LbHealthReport): Promise<void> {
  const r = await call(o, 'POST', `/v1/hosts/${o.hostId}/health`, report, 10_000);
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
}

/** A host's NetDetect and underlay probe figures (ProbeReport); a refused report throws with the controller's reason. */
export async function sendProbes(o: LinkOptions, report: ProbeReport): Promise<void> {
  const r = await call(o, 'POST', `/v1/hosts/${o.hostId}/probes`, report, 10_000);
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
}

/** The host's per-instance kernel counters (InstanceCounterReport). */
export async function sendCounters(o: LinkOptions, report: InstanceCounterReport): Promise<void> {
  const r = await call(o, 'POST', `/v1/hosts/${o.hostId}/counters`, report, 10_000);
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
}

/** Flow-log records of one or more capture windows (agent/flow-logs.ts); a refused report throws with the controller's reason. */
export async function sendFlowLogs(o: LinkOptions, report: FlowLogReport): Promise<{ accepted: number }> {
  const r = await call(o, 'POST', `/v1/hosts/${o.hostId}/flow-logs`, report, 30_000);
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as { accepted: number };
}
