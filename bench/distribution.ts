/**
 * The agent link bench (`--only distribution`, no root): three controller
 * replicas in this process on one store (per engine), agents over TLS to
 * both (controller-link.ts), documents seeded straight into the store.
 *
 * - Bytes per change: one host with many VPCs (an instance of each on it,
 *   another on one of the other hosts); one instance added to one of its
 *   VPCs on another host; the answer the host's agent gets as a delta
 *   against what it holds, against the whole document it used to get.
 * - Failover: every host's agent long-polling replica A; A closed (its
 *   connections reset, as when its process is killed); the time until each
 *   agent holds a poll open on replica B (median, and until the last), and
 *   the documents B sent them meanwhile (0: B resumed what they hold). B has
 *   compiled no document before (cold: the time includes compiling every
 *   host's document once); then B closed and the agents on to replica C,
 *   which has compiled them all (warm: reconnect and resume only).
 */
import { performance } from 'node:perf_hooks';
import { mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchDocument, type Fetched, type LinkOptions } from '../src/agent/controller-link.js';
import { ensureAgentTls } from '../src/controller/agent-tls.js';
import { registerHost } from '../src/controller/agents-endpoint.js';
import { startController } from '../src/controller/controller.js';
import type { Write } from '../src/store/store.js';
import { rows } from '../test/helpers/store-rows.js';
import type { BenchModule, Engine } from './lib/module.js';
import { freshPostgres, postgresReachable, tempDataDir } from './lib/server.js';
import { fmt, median, round, table } from './lib/stats.js';

type Controller = Awaited<ReturnType<typeof startController>>;

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

/** One host's agent, reduced to its link: long-polls with what it holds, counts what it is sent. */
function poller(link: LinkOptions) {
  let held: { document: Fetched['document']; digest: string } | null = null;
  let stopped = false;
  const got: { at: number; delta: boolean; bytes: number }[] = [];
  const done = (async () => {
    while (!stopped) {
      try {
        const r = await fetchDocument(link, held?.digest ?? '', 25, held);
        if (r) {
          held = { document: r.document, digest: r.digest };
          got.push({ at: performance.now(), delta: r.delta, bytes: r.bytes });
        }
      } catch {
        await new Promise((ok) => setTimeout(ok, 50));
      }
    }
  })();
  return { got, held: () => held, stop: () => ((stopped = true), done) };
}

async function engineRun(engine: Engine, o: { postgresBase: string; hosts: number; vpcs: number; changes: number }) {
  const dir = tempDataDir(`distribution-${engine}`);
  const url = engine === 'postgres' ? (await freshPostgres(o.postgresBase, 'distribution')).url : join(dir, 'weft.db');
  const tls = ensureAgentTls(join(dir, 'region-tls'), ['127.0.0.1']);
  const ca = readFileSync(tls.ca);
  const start = (name: string) => startController({ dataDir: join(dir, name), database: url, listen: '127.0.0.1:0', agentListen: '127.0.0.1:0', agentTlsCert: tls.cert, agentTlsKey: tls.key });
  const a: Controller = await start('a');
  mkdirSync(join(dir, 'b'), { recursive: true, mode: 0o700 });
  copyFileSync(join(dir, 'a', 'master.key'), join(dir, 'b', 'master.key'));
  const b: Controller = await start('b');
  mkdirSync(join(dir, 'c'), { recursive: true, mode: 0o700 });
  copyFileSync(join(dir, 'a', 'master.key'), join(dir, 'c', 'master.key'));
  const c: Controller = await start('c');
  const open = new Set([a, b, c]);
  const pollers: ReturnType<typeof poller>[] = [];
  try {
    const hosts = Array.from({ length: o.hosts }, (_, i) => `h${i}`);
    const tokens = new Map<string, string>();
    for (const [i, h] of hosts.entries()) tokens.set(h, await registerHost(a.store, { id: h, zone: 'local-1', underlay: `100.64.${i >> 8}.${i & 255}` }));
    // h0 holds every VPC; each VPC has a second instance on one of the other hosts.
    const vpc = (i: number) => `vpc-${i.toString(16).padStart(8, '0')}`;
    const subnet = (i: number) => `subnet-${i.toString(16).padStart(8, '0')}`;
    for (let from = 0; from < o.vpcs; from += 200) {
      await a.store.write(async (w: Write) => {
        for (let i = from; i < Math.min(o.vpcs, from + 200); i++) {
          await rows.vpc(w, vpc(i), 1000 + i);
          await rows.subnet(w, subnet(i), vpc(i), '10.0.1.0/24');
          await rows.instance(w, `ins-${i}-0`, vpc(i), subnet(i), '10.0.1.5', 'h0', []);
          await rows.instance(w, `ins-${i}-1`, vpc(i), subnet(i), '10.0.1.6', hosts[1 + (i % (o.hosts - 1))]!, []);
        }
      });
    }
    const links = new Map(hosts.map((h) => [h, { controller: `${a.agentEndpoint},${b.agentEndpoint},${c.agentEndpoint}`, ca, hostId: h, token: tokens.get(h)!, linkLog: () => {} } satisfies LinkOptions]));
    for (const h of hosts) pollers.push(poller(links.get(h)!));
    await until('every agent holding its document', () => pollers.every((p) => p.got.length > 0));
    await until('every agent polling A', () => hosts.every((h) => a.agents.distribution.connected(h)));

    // Bytes per change: an instance added to one of h0's VPCs, on another host.
    const h0 = pollers[0]!;
    const sizes: { delta: number; whole: number }[] = [];
    for (let c = 0; c < o.changes; c++) {
      const before = h0.got.length;
      const i = (c * 7919) % o.vpcs;
      await a.store.write((w) => rows.instance(w, `ins-${i}-x${c}`, vpc(i), subnet(i), `10.0.1.${10 + c}`, 'h1', []));
      await until('h0 sent the change', () => h0.got.length > before);
      const sent = h0.got.at(-1)!;
      const whole = (await fetchDocument({ ...links.get('h0')!, controller: a.agentEndpoint! }, '', 1))!;
      if (!sent.delta) throw new Error('the change was sent whole, not as a delta');
      sizes.push({ delta: sent.bytes, whole: whole.bytes });
    }
    await until('every agent polling A again', () => hosts.every((h) => a.agents.distribution.connected(h)));

    /** `from` closed; when each agent holds a poll on `to`, and how many documents were sent meanwhile. */
    async function failover(from: Controller, to: Controller) {
      const sentBefore = pollers.map((p) => p.got.length);
      const on = new Map<string, number>();
      const t0 = performance.now();
      open.delete(from);
      const closing = from.close();
      await until('every agent polling the next replica', () => {
        for (const h of hosts) if (!on.has(h) && to.agents.distribution.connected(h)) on.set(h, performance.now() - t0);
        return on.size === hosts.length;
      });
      await closing;
      const times = [...on.values()];
      return { medianMs: round(median(times)), lastMs: round(Math.max(...times)), resent: pollers.reduce((n, p, i) => n + p.got.length - sentBefore[i]!, 0) };
    }
    const cold = await failover(a, b);
    await c.agents.distribution.documentsFor(hosts);
    const warm = await failover(b, c);
    const deltaMedian = median(sizes.map((s) => s.delta));
    const wholeMedian = median(sizes.map((s) => s.whole));
    return {
      engine,
      hosts: o.hosts,
      vpcsOnHost: o.vpcs,
      changes: sizes.length,
      deltaBytes: round(deltaMedian),
      wholeBytes: round(wholeMedian),
      ratio: round(wholeMedian / deltaMedian),
      cold,
      warm,
    };
  } finally {
    await Promise.all(pollers.map((p) => p.stop()));
    for (const x of open) await x.close();
  }
}

export const distributionBench: BenchModule = {
  name: 'distribution',
  description: 'agents over TLS to controller replicas: bytes per one-instance change (delta vs whole document) on a host with many VPCs; failover time (cold and warm replica) with no document re-sent',
  async run(o) {
    const results = [];
    for (const engine of o.engines) {
      if (engine === 'postgres') {
        const why = await postgresReachable(o.postgresBase);
        if (why) {
          console.error(`distribution: PostgreSQL not reachable (${why}); SQLite only`);
          continue;
        }
      }
      console.error(`distribution: ${engine}`);
      results.push(await engineRun(engine, { postgresBase: o.postgresBase, hosts: o.quick ? 50 : 200, vpcs: o.quick ? 200 : 1000, changes: o.quick ? 3 : 10 }));
    }
    const report = table(
      ['engine', 'hosts', 'VPCs on the host', 'whole document', 'delta', 'whole / delta'],
      results.map((r) => [r.engine, String(r.hosts), String(r.vpcsOnHost), fmt(r.wholeBytes, ' B'), fmt(r.deltaBytes, ' B'), `${r.ratio}×`]),
    ) + '\n\n' + table(
      ['engine', 'failover to', 'median agent', 'last agent', 'documents re-sent'],
      results.flatMap((r) => [
        [r.engine, 'B (cold: compiles every document)', fmt(r.cold.medianMs, ' ms'), fmt(r.cold.lastMs, ' ms'), String(r.cold.resent)],
        [r.engine, 'C (warm)', fmt(r.warm.medianMs, ' ms'), fmt(r.warm.lastMs, ' ms'), String(r.warm.resent)],
      ]),
    );
    return { report, json: results };
  },
};
