/**
 * Convergence at 10,000 and 100,000 sim hosts (issue 13): the controller's
 * document path — change → document cache → compile (each VPC once per
 * revision) → long-poll answered → report checked and recorded — with one
 * synthetic agent per host.
 *
 * 100,000 agents long-polling over sockets do not fit this machine: a long
 * poll holds a connection, and a process here may hold at most 20,000 file
 * descriptors (`ulimit -Hn`, not raisable in this container), so neither the
 * controller nor the agents could hold 100,000 connections. The agents are
 * therefore in the controller's process (`inproc`): the controller runs
 * in-process (startController: API on TCP, store, scheduler, distribution),
 * and each agent sends its requests to the distribution's own HTTP request
 * handler (the handler `serve()` gives the agents socket) as in-memory
 * requests, so authorisation, the long-poll, the cached bodies and the report
 * checks and store writes are the real ones; only the socket is not. An agent
 * keeps its digest and revision (no data plane). The API call that makes the
 * change goes over TCP, TC3-signed. The socket path at 10,000 hosts is bench
 * `sim`'s scale figure (one process of agents over agents.sock).
 *
 * Region: bench/sim.ts seedRegion (two instances per host, VPCs of 10
 * instances on 10 hosts, a group per VPC and one bound to every instance),
 * plus a group bound to one instance only. Changes, each timed from the API
 * call to each affected host's document delivered and report accepted: a
 * policy added to the one-instance group (1 host), to one VPC's group (10
 * hosts), to the group bound everywhere (every host: p50/p99/max over hosts).
 * Memory: the process's RSS (controller and agents: the agents' share is a
 * digest and two numbers per host) and its peak.
 */
import { EventEmitter } from 'node:events';
import { loadavg } from 'node:os';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { startController } from '../src/controller/controller.js';
import { ApiClient } from './lib/loadgen.js';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { memory } from './lib/proc.js';
import { fmt, percentile, round, table } from './lib/stats.js';
import { freshDataDir, id8, PER_VPC, scaleRun, seedRegion } from './sim.js';
import { eventWaiter } from './lib/events.js';

export const GOALS = { everyHostP99Seconds: 5, oneHostSeconds: 0.2, controllerRssMB: 2000 };

/** A response the distribution's handler writes into memory: what sendText calls, and 'close' once ended. */
class MemoryResponse extends EventEmitter {
  headersSent = false;
  destroyed = false;
  status = 0;
  readonly parts: Buffer[] = [];
  constructor(private readonly done: (r: MemoryResponse) => void) {
    super();
  }
  writeHead(status: number) {
    this.status = status;
    this.headersSent = true;
    return this;
  }
  write(p: Buffer) {
    this.parts.push(p);
    return true;
  }
  end() {
    this.done(this); // before 'close': the handler reads `closed` after its long-poll to tell delivered from dropped
    this.emit('close');
  }
}

/** One request through the handler, as node's HTTP server hands it one (a readable body with url, method and headers). */
function request(handler: Server, method: string, url: string, token: string, body?: string): Promise<MemoryResponse> {
  return new Promise((ok) => {
    const req = Object.assign(Readable.from(body ? [body] : []), { url, method, headers: { authorization: `Bearer ${token}` } });
    handler.emit('request', req, new MemoryResponse(ok));
  });
}

interface Change {
  what: string;
  affected: number;
  /** Every affected host had its document and its report accepted. */
  converged: number;
  deliveredP50: number;
  deliveredP99: number;
  deliveredMax: number;
  reportedP99: number;
  reportedMax: number;
  documentsSent: number;
  cpuSeconds: number;
  /** The machine's 1-minute load average when converged (2 cores: above 2, the bench waited for them). */
  loadAverage: number;
}

interface InprocFigures {
  hosts: number;
  instances: number;
  seedSeconds: number;
  syncSeconds: number;
  changes: Change[];
  idleRssMB: number;
  rssMB: number;
  peakMB: number;
  heapMB: number;
  compiles: number;
}

export async function inprocRun(hosts: number, o: BenchOptions): Promise<InprocFigures> {
  const { dataDir, dbFile, uin } = await freshDataDir(`sim-scale-${hosts}`);
  const ts = performance.now();
  const seeded = await seedRegion(dbFile, uin, hosts, { singleHostGroup: true });
  const seedSeconds = (performance.now() - ts) / 1000;
  const c = await startController({ dataDir, listen: '127.0.0.1:0', rateLimit: 0 });
  const api = new ApiClient({ endpoint: c.endpoint, secretId: c.credentials.SecretId, secretKey: c.credentials.SecretKey, region: c.credentials.Region }, 4);
  const handler = c.agents.distribution.serve();
  const limitMs = (o.quick ? 300 : 900) * 1000;
  const idleRssMB = memory(process.pid)?.rssMB ?? NaN;

  // Per host: when its last document arrived and its last report was accepted, with their revisions.
  const delivered = new Map<string, { r: number; t: number }>();
  const reported = new Map<string, { r: number; t: number }>();
  let sent = 0;
  let errors = 0;
  let stopped = false;
  const { notify: onEvent, until } = eventWaiter();
  const wait = 60; // the longest long-poll the endpoint allows: fewer renewals of 100,000 idle polls
  async function agent(h: { id: string; token: string }) {
    let digest = '';
    while (!stopped) {
      const res = await request(handler, 'GET', `/v1/hosts/${h.id}/document?known=${digest}&wait=${wait}`, h.token);
      if (stopped) break;
      if (res.status === 204) continue;
      if (res.status !== 200) {
        if (errors++ < 3) console.error(`bench sim-scale: ${h.id}: document ${res.status} ${Buffer.concat(res.parts).toString().slice(0, 200)}`);
        await new Promise((ok) => setTimeout(ok, 250));
        continue;
      }
      // The body is {"document":{"revision":N,…},"digest":"…","requestIds":[…]} (document-cache.ts), read without parsing the document.
      const head = res.parts[1]!.toString();
      const tail = res.parts[res.parts.length - 1]!.toString();
      const revision = Number(/^\{"revision":(\d+)$/.exec(head)?.[1] ?? NaN);
      const d = /"digest":"([0-9a-f]+)"/.exec(tail)?.[1];
      if (!d || !Number.isFinite(revision)) throw new Error(`${h.id}: unexpected document body`);
      digest = d;
      sent++;
      delivered.set(h.id, { r: revision, t: performance.now() });
      for (;;) {
        const rep = await request(handler, 'POST', `/v1/hosts/${h.id}/status`, h.token, JSON.stringify({ revision, digest, ok: true, changes: 1 }));
        if (rep.status === 200) break;
        if (errors++ < 3) console.error(`bench sim-scale: ${h.id}: report ${rep.status} ${Buffer.concat(rep.parts).toString().slice(0, 200)}`);
        if (stopped) return;
        await new Promise((ok) => setTimeout(ok, 250));
      }
      reported.set(h.id, { r: revision, t: performance.now() });
      converged(h.id, revision);
      onEvent();
    }
  }
  /** Affected hosts whose report of `revision` or later was accepted, counted as reports arrive (not rescanned per report). */
  let target: { affected: ReadonlySet<string>; revision: number; done: Set<string> } | undefined;
  const converged = (h: string, r: number) => {
    if (target && r >= target.revision && target.affected.has(h)) target.done.add(h);
  };

  const loops: Promise<void>[] = [];
  try {
    const t0 = performance.now();
    for (let i = 0; i < seeded.tokens.length; i += 1000) {
      for (const h of seeded.tokens.slice(i, i + 1000)) loops.push(agent(h));
      await new Promise((ok) => setImmediate(ok));
    }
    const synced = await until(() => reported.size === hosts, limitMs);
    const syncSeconds = (performance.now() - t0) / 1000;
    if (!synced) console.error(`bench sim-scale: only ${reported.size} of ${hosts} hosts synced`);
    await new Promise((ok) => setTimeout(ok, 2000));

    const all = new Set(seeded.tokens.map((t) => t.id));
    const changes: Change[] = [];
    for (const [what, sg, affected] of [
      ['policy added to a group bound on one host', 'sg-single00', new Set(['h1'])],
      [`policy added to one VPC's group (${PER_VPC} hosts)`, id8('sg', 0), seeded.vpc0Hosts],
      ['policy added to a group bound on every host', 'sg-shared00', all],
    ] as const) {
      console.error(`bench sim-scale: ${hosts} hosts: ${what}`);
      const before = sent;
      const cpu0 = process.cpuUsage();
      const s = performance.now();
      await api.must('vpc', 'CreateSecurityGroupPolicies', {
        SecurityGroupId: sg,
        SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: String(8000 + changes.length), CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }] },
      });
      const revision = await c.store.revision();
      const done = (h: string) => (reported.get(h)?.r ?? 0) >= revision;
      target = { affected, revision, done: new Set([...affected].filter(done)) };
      const t = target;
      const ok = await until(() => t.done.size === affected.size, limitMs);
      if (!ok) console.error(`bench sim-scale: ${what}: not every affected host converged within the limit`);
      const cpu = process.cpuUsage(cpu0);
      const load = loadavg()[0]!;
      await new Promise((r) => setTimeout(r, 2500)); // anything else that would arrive (it should not)
      const times = (m: Map<string, { r: number; t: number }>) =>
        new Float64Array([...affected].flatMap((h) => (m.get(h)?.r ?? 0) >= revision ? [(m.get(h)!.t - s) / 1000] : [])).sort();
      const d = times(delivered);
      const r = times(reported);
      changes.push({
        what,
        affected: affected.size,
        converged: [...affected].filter(done).length,
        deliveredP50: round(percentile(d, 0.5)),
        deliveredP99: round(percentile(d, 0.99)),
        deliveredMax: round(d[d.length - 1] ?? NaN),
        reportedP99: round(percentile(r, 0.99)),
        reportedMax: round(r[r.length - 1] ?? NaN),
        documentsSent: sent - before,
        cpuSeconds: round((cpu.user + cpu.system) / 1e6),
        loadAverage: round(load),
      });
    }
    const mem = memory(process.pid);
    return {
      hosts,
      instances: seeded.instances,
      seedSeconds: round(seedSeconds),
      syncSeconds: round(syncSeconds),
      changes,
      idleRssMB: round(idleRssMB),
      rssMB: round(mem?.rssMB ?? NaN),
      peakMB: round(mem?.peakMB ?? NaN),
      heapMB: round(process.memoryUsage().heapUsed / 1e6),
      compiles: c.agents.distribution.documents.stats.compiles,
    };
  } finally {
    stopped = true;
    api.close();
    await c.close();
    // Long-polls still open end with the cache closed; the loops see `stopped`.
    await Promise.race([Promise.all(loops), new Promise((ok) => setTimeout(ok, 5000))]);
  }
}

export const simScaleBench: BenchModule = {
  name: 'sim-scale',
  description: 'convergence of 10,000 and 100,000 sim hosts (in-process agents on the real distribution handler) after one-host, one-VPC and every-host security-group changes; controller RSS; the socket path at 10,000 (bench sim scale)',
  async run(o) {
    const inproc: InprocFigures[] = [];
    for (const hosts of [10_000, 100_000]) {
      console.error(`bench sim-scale: ${hosts} hosts, agents in-process`);
      inproc.push(await inprocRun(hosts, o));
      if (global.gc) global.gc();
    }
    console.error('bench sim-scale: 10,000 hosts, agents over agents.sock');
    const socket = await scaleRun(10_000, o);
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const report = [
      table(
        ['hosts (in-process agents)', 'initial sync', 'change', 'affected', 'converged', 'delivered p50', 'p99', 'max', 'reported p99', 'docs sent', 'CPU', 'load', 'goal'],
        inproc.flatMap((f) =>
          f.changes.map((ch, i) => [
            i ? '' : fmt(f.hosts), i ? '' : fmt(f.syncSeconds, ' s'), ch.what, String(ch.affected), String(ch.converged), fmt(ch.deliveredP50, ' s'), fmt(ch.deliveredP99, ' s'), fmt(ch.deliveredMax, ' s'),
            fmt(ch.reportedP99, ' s'), String(ch.documentsSent), fmt(ch.cpuSeconds, ' s'), fmt(ch.loadAverage),
            ch.affected === 1 ? `< ${GOALS.oneHostSeconds} s: ${verdict(ch.reportedMax < GOALS.oneHostSeconds)}` : ch.affected === f.hosts ? `p99 < ${GOALS.everyHostP99Seconds} s: ${verdict(ch.deliveredP99 < GOALS.everyHostP99Seconds)}` : '',
          ]),
        ),
      ),
      table(
        ['hosts', 'process RSS idle (no agents)', 'RSS after the changes', 'peak', 'JS heap', 'compiles', 'goal'],
        inproc.map((f) => [fmt(f.hosts), fmt(f.idleRssMB, ' MB'), fmt(f.rssMB, ' MB'), fmt(f.peakMB, ' MB'), fmt(f.heapMB, ' MB'), fmt(f.compiles), f.hosts === 100_000 ? `< ${GOALS.controllerRssMB} MB: ${verdict(f.rssMB < GOALS.controllerRssMB)}` : '']),
      ),
      table(
        ['hosts (agents over agents.sock)', 'initial sync', 'change', 'affected', 'converged', 'time', 'docs sent', 'ctl CPU', 'ctl RSS'],
        socket.changes.map((ch, i) => [i ? '' : fmt(socket.hosts), i ? '' : fmt(socket.syncSeconds, ' s'), ch.what, String(ch.affected), String(ch.converged), fmt(ch.seconds, ' s'), String(ch.documentsSent), fmt(ch.controllerCpuSeconds, ' s'), i ? '' : fmt(socket.controllerRssMB, ' MB')]),
      ),
    ].join('\n\n');
    return { report, json: { goals: GOALS, inproc, socket } };
  },
};
