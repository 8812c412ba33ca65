/**
 * Distribution: agents fetch their host's document by long poll. An agent
 * sends the digest of the document it holds; the answer is the current
 * document as soon as it differs (at once after a reconnect: a new agent holds
 * nothing) or when this process has not answered the agent with that document
 * yet (after a controller restart), or 204 after `wait` seconds. Nothing
 * relies on an agent having seen every intermediate change. Agents
 * authenticate with their host token and report the revision they applied
 * with its digest, checked before it counts (agent-reports.ts);
 * gateway nodes also report EIP usage and get their shares of the limits
 * back (limit-coordinator.ts), and per-address flow counters (gateway-flows.ts);
 * LB nodes report their targets' health (lb-health.ts); every host agent its
 * NetDetect and underlay probe figures (probe-reports.ts).
 *
 * Documents come from document-cache.ts: compiled once, kept until a commit
 * touches something they hold, so only the hosts a change spans are woken and
 * recompiled (commits of other replicas arrive through the change log, read
 * when PostgreSQL announces them and every 2 s besides). A recompile that yields the same content keeps the document
 * already given out, revision included: the revision a host's agent reports
 * then says whether it holds the current content (the tracer's PendingHostSet
 * relies on it). The packet tracer reads the same documents (`documentsFor`,
 * wired into the API by controller.ts).
 *
 * Served on a Unix socket in the data dir by default, so the region in a box
 * needs no address in the machine's namespace; `--agent-listen HOST:PORT`
 * serves it over TLS for agents on other machines (agent-tls.ts).
 *
 * Agents that send the revision they hold with its digest (`revision=`)
 * resume on a replica that has the same content without being sent it
 * again, and are answered with deltas against what they hold when this
 * process knows it (contract/document-delta.ts; docs/distribution.md).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { HostDocument } from '../contract/host-document.js';
import type { Store } from '../store/store.js';
import type { LimitReport } from '../contract/limit-usage.js';
import { createDocumentCache, revised, type CachedDocument } from './document-cache.js';
import { deltaJson, diff } from '../contract/document-delta.js';
import { createLimitCoordinator } from './limit-coordinator.js';
import { receiveFlows } from './gateway-flows.js';
import { receiveHealth } from './lb-health.js';
import { judgeReport, parseReport, recordReport } from './agent-reports.js';
import { receiveProbes } from './probe-reports.js';
import type { Metrics } from './metrics.js';
import { receiveFlowLogs } from './flow-log-records.js';

export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export type Distribution = ReturnType<typeof createDistribution>;

export function createDistribution(
  store: Store,
  o: {
    pollMs?: number;
    gatewayAddress?: string;
    /** Takes an agent's per-instance counters (POST …/counters; instance-counters.ts). */
    counters?: (hostId: string, body: unknown) => Promise<Received>;
    /** For report handling: `metrics?.recordDriftRepairs(hostId, n)` when an agent reports drift it repaired (metrics.ts). */
    metrics?: Pick<Metrics, 'recordDriftRepairs'>;
    /** Where flow-log records are also appended as JSON lines (flow-log-records.ts). */
    flowLogFile?: string;
  } = {},
) {
  const documents = createDocumentCache(store, o);
  const limits = createLimitCoordinator();
  /**
   * The document last given out per host. The cache drops a document on any
   * change that may touch it (every instance change of its VPCs, a compile
   * racing a commit …) and recompiles it at the new revision, often with the
   * same content; the agent holding that content is not sent it again and
   * keeps reporting the older revision. Keeping the older document while the
   * digest is the same makes a document's revision the one at which its
   * content last changed, which is what the agent applied.
   */
  const given = new Map<string, CachedDocument>();
  /**
   * The document each host's agent was last answered with by this process,
   * or that it said it holds when it resumed here: what a delta is made
   * against when its poll names its digest.
   */
  const delivered = new Map<string, CachedDocument>();
  /** Documents given out before the current one, per host (revision → digest), to check the reports of agents still catching up. */
  const earlier = new Map<string, Map<number, string>>();
  /** Long polls open per host, and when the last one ended: whether its agent is connected (`weft status`). */
  const polling = new Map<string, number>();
  const lastPoll = new Map<string, number>();

  async function current(hostId: string): Promise<CachedDocument | undefined> {
    const doc = await documents.get(hostId);
    if (!doc) {
      given.delete(hostId);
      delivered.delete(hostId);
      return undefined;
    }
    const prev = given.get(hostId);
    // Same content: keep its revision. Older than what was given (a compile that raced a commit): keep the newer.
    if (prev && (prev.digest === doc.digest || prev.document.revision > doc.document.revision)) return prev;
    if (prev) remember(hostId, prev);
    given.set(hostId, doc);
    return doc;
  }

  /** Keeps a document given out before the current one, to judge the reports of agents still applying it. */
  function remember(hostId: string, prev: CachedDocument) {
    const e = earlier.get(hostId) ?? new Map<number, string>();
    e.set(prev.document.revision, prev.digest);
    if (e.size > 16) e.delete(e.keys().next().value!);
    earlier.set(hostId, e);
  }

  /**
   * An agent polling with the digest and revision of the document it holds
   * (after its controller died, or this one restarted): when that is this
   * replica's current content, the agent's revision becomes the revision of
   * the document given out — the content has not changed since, and reports
   * of that revision then count and the tracer compares with it — and
   * nothing is sent. A revision this store has not reached is not vouched
   * for: that agent is answered (with a delta of nothing) as before.
   */
  async function resume(hostId: string, known: string, revision: number) {
    const doc = await current(hostId);
    if (!doc || doc.digest !== known) return;
    if (doc.document.revision !== revision) {
      if (revision > (await store.revision())) return;
      // Another poll may have moved the document on while the store answered.
      if (given.get(hostId) !== doc) return;
      remember(hostId, doc);
      const adopted = revised(doc, revision);
      given.set(hostId, adopted);
      delivered.set(hostId, adopted);
      return;
    }
    delivered.set(hostId, doc);
  }

  async function compile(hostId: string): Promise<HostDocument | undefined> {
    return (await current(hostId))?.document;
  }

  /**
   * Documents for the packet tracer, as they stand after every commit so far:
   * this process's (their after-state read, `settled`) and other replicas'
   * (the change log read now rather than at the next 2 s poll), so a trace
   * right after a change sees it, as a fresh compile would.
   */
  async function documentsFor(hostIds: readonly string[]): Promise<(HostDocument | undefined)[]> {
    await documents.poll();
    await documents.settled();
    return Promise.all(hostIds.map(compile));
  }

  async function authorised(hostId: string, req: IncomingMessage): Promise<boolean> {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const row = await store.db.selectFrom('hosts').select('token_hash').where('id', '=', hostId).executeTakeFirst();
    if (!row) return false;
    const a = Buffer.from(row.token_hash, 'hex');
    const b = Buffer.from(tokenHash(m[1]!), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The next document that differs from `known`, or undefined after `waitMs`. */
  async function nextDocument(hostId: string, known: string, waitMs: number, closed: () => boolean, whenClosed: Promise<void>) {
    const deadline = Date.now() + waitMs;
    for (;;) {
      // Subscribe before reading so a change between the two is not missed.
      let wake!: () => void;
      const changed = new Promise<void>((ok) => (wake = ok));
      const unwatch = documents.watch(hostId, wake);
      try {
        const doc = await current(hostId);
        if (!doc) return undefined;
        // Also answered once per document when the agent holds its content already but at another revision
        // (it got it before this controller started and did not resume): it re-applies a no-op and reports
        // this revision, the one the tracer compares with.
        if (doc.digest !== known || delivered.get(hostId)?.document.revision !== doc.document.revision) return doc;
        const left = deadline - Date.now();
        if (left <= 0 || closed()) return undefined;
        let timer: NodeJS.Timeout | undefined;
        // An agent gone (or the server closing) ends the wait too: no timer outlives its connection.
        await Promise.race([changed, whenClosed, new Promise((ok) => (timer = setTimeout(ok, left)))]);
        clearTimeout(timer);
      } finally {
        unwatch();
      }
    }
  }

  /** Checks an agent's report (agent-reports.ts) and records it; the error says why one was refused. */
  async function report(hostId: string, body: unknown): Promise<{ error?: string }> {
    const r = parseReport(body);
    if (typeof r === 'string') return { error: r };
    const doc = await current(hostId);
    const verdict = judgeReport(r, {
      ...(doc ? { current: { revision: doc.document.revision, digest: doc.digest } } : {}),
      earlier: earlier.get(hostId) ?? new Map(),
    });
    if (verdict.error) return { error: verdict.error };
    await recordReport(store, hostId, r, verdict.counts);
    o.metrics?.recordDriftRepairs(hostId, (r.drift ?? []).filter((d) => d.repaired).length);
    return {};
  }

  /** Whether the host's agent holds a long poll open now (or ended one in the last 5 s: it is between two). */
  function connected(hostId: string): boolean {
    return (polling.get(hostId) ?? 0) > 0 || Date.now() - (lastPoll.get(hostId) ?? 0) < 5000;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const url = new URL(req.url ?? '/', 'http://agent');
    const m = /^\/v1\/hosts\/([a-z0-9-]+)\/(document|status|limits|flows|health|probes|counters|flow-logs)$/.exec(url.pathname);
    if (!m) return send(res, 404, { error: 'no such path' });
    const [, hostId, what] = m as unknown as [string, string, string];
    if (!(await authorised(hostId, req))) return send(res, 401, { error: 'bad host token' });
    if (what === 'document' && req.method === 'GET') {
      let closed = false;
      let onClosed!: () => void;
      const whenClosed = new Promise<void>((ok) => (onClosed = ok));
      polling.set(hostId, (polling.get(hostId) ?? 0) + 1);
      res.on('close', () => {
        closed = true;
        onClosed();
        polling.set(hostId, (polling.get(hostId) ?? 1) - 1);
        lastPoll.set(hostId, Date.now());
      });
      const wait = Math.min(Number(url.searchParams.get('wait') ?? 25), 60) * 1000;
      const known = url.searchParams.get('known') ?? '';
      // Agents that say which revision they hold take deltas and resume (docs/distribution.md).
      const held = url.searchParams.has('revision') ? Number(url.searchParams.get('revision')) : undefined;
      if (held !== undefined && !Number.isSafeInteger(held)) return send(res, 400, { error: '`revision` must be a whole number' });
      if (held !== undefined && known) await resume(hostId, known, held);
      const next = await nextDocument(hostId, known, wait, () => closed, whenClosed);
      if (!next) return send(res, 204);
      if (closed) return; // not delivered: answered again on the agent's next poll
      const last = delivered.get(hostId);
      const base = held === undefined || !known ? undefined : known === next.digest ? next : last?.digest === known ? last : undefined;
      delivered.set(hostId, next);
      if (!base) return sendText(res, 200, next.body);
      const delta = deltaJson(diff(base.document, next.document));
      return sendText(res, 200, `{"delta":${delta},"base":"${base.digest}","digest":"${next.digest}","requestIds":${JSON.stringify(next.requestIds)}}`);
    }
    if (what === 'limits' && req.method === 'POST') {
      try {
        return send(res, 200, limits.report(hostId, JSON.parse(body) as LimitReport));
      } catch (e) {
        return send(res, 400, { error: e instanceof Error ? e.message : String(e) });
      }
    }
    // What an agent posts: each checked and kept by its own module (a malformed one is answered 400, nothing kept).
    const receivers: Record<string, ((hostId: string, body: unknown) => Promise<Received>) | undefined> = {
      status: async (h, b) => {
        const r = await report(h, b);
        return r.error ? { status: 400, error: r.error } : { status: 200, answer: { ok: true } };
      },
      flows: (h, b) => receiveFlows(store, h, b),
      health: (h, b) => receiveHealth(store, h, b),
      probes: (h, b) => receiveProbes(store, h, b),
      counters: o.counters,
      'flow-logs': (h, b) => receiveFlowLogs(store, h, b, o.flowLogFile),
    };
    const receive = req.method === 'POST' ? receivers[what] : undefined;
    if (receive) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(res, 400, { error: 'the body is not JSON' });
      }
      const r = await receive(hostId, parsed);
      return r.status === 200 ? send(res, 200, r.answer) : send(res, r.status, { error: r.error });
    }
    return send(res, 405, { error: 'method not allowed' });
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      handle(req, res, body).catch((e: unknown) => send(res, 500, { error: String(e) }));
    });
  };

  /** The endpoint as plain HTTP (the data dir's Unix socket), or over TLS with `tls` (agents on other machines: agent-tls.ts). */
  function serve(): Server;
  function serve(tls: { cert: string | Buffer; key: string | Buffer }): HttpsServer;
  function serve(tls?: { cert: string | Buffer; key: string | Buffer }): Server | HttpsServer {
    return tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest) : createServer(onRequest);
  }

  /** How many agents are connected now (metrics). */
  const connectedAgents = () => [...new Set([...polling.keys(), ...lastPoll.keys()])].filter(connected).length;

  return { compile, documentsFor, serve, report, connected, connectedAgents, documents, close: () => documents.close() };
}

/** What a report's receiver answers: 200 with its answer, or a status with the reason it was refused. */
type Received = { status: number; answer?: unknown; error?: string };

function send(res: ServerResponse, status: number, body?: unknown) {
  sendText(res, status, body === undefined ? '' : JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string | Buffer[]) {
  if (res.headersSent || res.destroyed) return;
  const parts = typeof text === 'string' ? [Buffer.from(text)] : text;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': parts.reduce((n, p) => n + p.length, 0) });
  for (const p of parts) res.write(p);
  res.end();
}
