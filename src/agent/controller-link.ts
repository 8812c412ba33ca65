/**
 * The agent's side of distribution: long-poll its document, report what it
 * applied. The controller is one endpoint or a list of replicas
 * (`unix:/path`, `http://host:port`, or HOST:PORT over TLS verified against
 * the region's CA): every call goes to the current one, and a connection
 * error, a timeout or a 5xx moves the link to the next (after a short pause,
 * each endpoint tried at most once per call; the caller's own retry backs
 * off beyond that). Polls carry the digest and revision of the document the
 * agent holds, so a replica with the same content resumes it without sending
 * it, and changes come as deltas (docs/distribution.md).
 */
import { createHash } from 'node:crypto';
import { request, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { HostDocument } from '../contract/host-document.js';
import { apply, type DocumentDelta } from '../contract/document-delta.js';
import { documentDigest } from '../compile/compile.js';
import type { AgentReport, GatewayFlowAnswer, GatewayFlowReport, InstanceCounterReport, LbHealthReport, ProbeReport } from '../contract/agent-report.js';
import type { LimitReport, LimitShares } from '../contract/limit-usage.js';
import { ReportRefused } from './reconcile-loop.js';
import type { FlowLogReport } from '../contract/flow-logs.js';
import { logger } from '../core/log.js';

export interface LinkOptions {
  /** `unix:/path/agents.sock`, `http://host:port`, `https://host:port` or `host:port` (TLS), or several comma-separated: replicas, tried in turn. */
  controller: string;
  hostId: string;
  token: string;
  /** PEM of the CA that signs the controllers' TLS certificates (agent-tls.ts); TLS endpoints need it. */
  ca?: string | Buffer;
  /** Where the link says which endpoint it moved to (default: the agent log). */
  linkLog?: (msg: string) => void;
}

type Endpoint = { label: string; tls: boolean; target: RequestOptions };

/** `unix:/p`, `http://h:p`, `https://h:p` or `h:p` (TLS). */
export function parseEndpoint(s: string): Endpoint {
  if (s.startsWith('unix:')) return { label: s, tls: false, target: { socketPath: s.slice(5) } };
  const u = new URL(/^[a-z]+:\/\//.test(s) ? s : `https://${s}`);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`controller \`${s}\`: expected unix:/path, http://host:port, https://host:port or host:port`);
  if (!u.port) throw new Error(`controller \`${s}\` has no port`);
  return { label: u.host, tls: u.protocol === 'https:', target: { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) } };
}

/** A link's endpoints and which one is current; shared by every call of one host's agent (its calls all name the same controllers and CA). */
interface Cursor {
  endpoints: Endpoint[];
  index: number;
  tlsAgent?: HttpsAgent;
}
const cursors = new Map<string, Cursor>();

function cursorOf(o: LinkOptions): Cursor {
  const key = `${o.hostId}\0${o.controller}\0${o.ca ? createHash('sha256').update(o.ca).digest('hex') : ''}`;
  let c = cursors.get(key);
  if (!c) {
    const endpoints = o.controller.split(',').map((e) => parseEndpoint(e.trim()));
    if (endpoints.some((e) => e.tls) && !o.ca) throw new Error(`controller ${o.controller}: TLS endpoints need the CA (--ca FILE)`);
    c = { endpoints, index: 0, ...(endpoints.some((e) => e.tls) ? { tlsAgent: new HttpsAgent({ keepAlive: true, ca: o.ca }) } : {}) };
    cursors.set(key, c);
  }
  return c;
}

/** The endpoint the link uses now (tests, logs). */
export const currentEndpoint = (o: LinkOptions): string => {
  const c = cursorOf(o);
  return c.endpoints[c.index]!.label;
};

class Unavailable extends Error {}

function callOnce(o: LinkOptions, c: Cursor, ep: Endpoint, method: string, path: string, text: string | undefined, timeoutMs: number) {
  return new Promise<{ status: number; body: string }>((ok, fail) => {
    const options: RequestOptions = { ...ep.target, method, path, timeout: timeoutMs, headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' } };
    const res = (r: import('node:http').IncomingMessage) => {
      let data = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (data += d));
      r.on('end', () => ok({ status: r.statusCode ?? 0, body: data }));
      r.on('error', fail);
    };
    const req = ep.tls ? httpsRequest({ ...options, agent: c.tlsAgent }, res) : request(options, res);
    req.on('timeout', () => req.destroy(new Error('controller did not answer in time')));
    req.on('error', fail);
    req.end(text);
  });
}

const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function call(o: LinkOptions, method: string, path: string, body?: unknown, timeoutMs = 70_000) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const c = cursorOf(o);
  let last: unknown;
  for (let attempt = 0; attempt < c.endpoints.length; attempt++) {
    const at = c.index;
    const ep = c.endpoints[at]!;
    try {
      const r = await callOnce(o, c, ep, method, path, text, timeoutMs);
      // A replica that cannot serve (its store gone, shutting down) is no better than one that is down.
      if (r.status >= 500 && c.endpoints.length > 1) throw new Unavailable(`controller answered ${r.status}: ${r.body}`);
      return r;
    } catch (e) {
      last = e;
      if (c.endpoints.length === 1) throw e;
      // Concurrent calls that failed together move the link once.
      if (c.index === at) {
        c.index = (at + 1) % c.endpoints.length;
        const why = e instanceof Error ? e.message : String(e);
        (o.linkLog ?? defaultLog(o.hostId))(`controller ${ep.label} failed (${why}); using ${c.endpoints[c.index]!.label}`);
      }
      // Jittered, so that the agents of a replica that died do not all reach the next one in the same millisecond.
      if (attempt + 1 < c.endpoints.length) await pause(100 + Math.random() * 200);
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

const logs = new Map<string, (m: string) => void>();
function defaultLog(hostId: string) {
  let l = logs.get(hostId);
  if (!l) {
    const log = logger('agent', { host: hostId });
    logs.set(hostId, (l = (m) => log.info(m)));
  }
  return l;
}

/** A document from the controller, whole or made from the held one and a delta. */
export interface Fetched {
  document: HostDocument;
  digest: string;
  /** The API requests whose changes led to it (core/log.ts). */
  requestIds?: string[];
  /** Sent as a delta against the held document; `bytes`: the answer's size. */
  delta: boolean;
  bytes: number;
}

/**
 * The next document; `held`: the document the agent holds (with its digest),
 * or null for none. With `held` given (null included) the poll says the
 * revision it holds and takes deltas; without it (older callers), whole
 * documents only. A delta that does not give the digest it was sent with is
 * dropped and the whole document asked for.
 */
export async function fetchDocument(
  o: LinkOptions,
  known: string,
  waitSeconds = 25,
  held?: { document: HostDocument; digest: string } | null,
): Promise<Fetched | undefined> {
  const resumable = held !== undefined;
  const revision = held && held.digest === known ? `&revision=${held.document.revision}` : resumable ? '&revision=0' : '';
  const r = await call(o, 'GET', `/v1/hosts/${o.hostId}/document?known=${encodeURIComponent(known)}&wait=${waitSeconds}${revision}`);
  if (r.status === 204) return undefined;
  if (r.status !== 200) throw new Error(`controller answered ${r.status}: ${r.body}`);
  const bytes = Buffer.byteLength(r.body);
  const answer = JSON.parse(r.body) as { document?: HostDocument; delta?: DocumentDelta; base?: string; digest: string; requestIds?: string[] };
  if (answer.document) return { document: answer.document, digest: answer.digest, requestIds: answer.requestIds, delta: false, bytes };
  if (!answer.delta || !held || answer.base !== held.digest) return fetchDocument(o, '', waitSeconds, null);
  let document: HostDocument | undefined;
  try {
    document = apply(held.document, answer.delta);
  } catch {
    // Not made against what is held (the digest check below says the same).
  }
  if (!document || documentDigest(document) !== answer.digest) {
    (o.linkLog ?? defaultLog(o.hostId))(`delta against ${held.digest} did not give ${answer.digest}; asking for the whole document`);
    return fetchDocument(o, '', waitSeconds, null);
  }
  return { document, digest: answer.digest, requestIds: answer.requestIds, delta: true, bytes };
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
