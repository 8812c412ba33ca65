/**
 * The API plane bench: a real `weft server` child process on SQLite and on a
 * fresh PostgreSQL database, driven by the in-process load generator.
 *
 *   write   CreateSecurityGroupPolicies, one Ingress policy per call, appended
 *           (no PolicyIndex), round-robin over security groups
 *   read    DescribeVpcs (default Limit) and with a vpc-name filter, 10k VPCs
 *   scale   the same two reads at 1k, 10k, 100k and 1M VPCs stored, in one account (goal: flat;
 *           --quick stops at 100k)
 *   memory  the server's VmRSS after the Describe calls, at each size
 *
 *   round trips  PostgreSQL: statements and round trips per call of the write
 *           and of DescribeVpcs, calls made one at a time (lib/pg-round-trips.ts)
 *
 * Each figure comes from its own server process (so a CPU profile covers one
 * kind of request). VPCs are seeded through the store while no server runs
 * (lib/seed.ts says why and what is written).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PgCounts } from './lib/pg-round-trips.js';
import { ApiClient, runLoad, type LoadResult, type Request } from './lib/loadgen.js';
import type { BenchModule, BenchOptions, Engine } from './lib/module.js';
import { memory, postgresBackends, waitForQuiet } from './lib/proc.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './lib/profile.js';
import { seededVpcName, seedVpcs } from './lib/seed.js';
import { sampleWaits } from './lib/pg-waits.js';
import { freshPostgres, latestProfile, ROOT, startServer, tempDataDir, weftOrThrow, type Database, type RunningServer } from './lib/server.js';
import { cores, fmt, round, table } from './lib/stats.js';

export const GOALS = {
  writesPerSecond: 1000,
  readsPerSecond: 3000,
  p99Ms: 50,
  /** "Flat": p50 and p99 at the largest size at most this many times those at 1k. */
  flatRatio: 1.5,
  rssMB: 300,
};

/** Security groups the writes rotate over, and the per-direction policy quota each gets. */
const GROUPS = 200;
const POLICY_QUOTA = 2000;
const SIZES = (quick: boolean) => (quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]);
/** The store size of the read-throughput figures. */
const READ_SIZE = 10_000;
/** Most time the whole bench spends waiting for a quiet machine, and per measurement. */
const QUIET_BUDGET_MS = 90_000;
const QUIET_MAX_WAIT_MS = 15_000;

export interface Measurement extends LoadResult {
  /** Other processes' load just before the run, and how long the bench waited for it to drop. */
  before: { busyCores: number; waitedMs: number };
  /** Server memory right after the run. */
  memory?: { rssMB: number; peakMB: number };
  /** PostgreSQL: average number of the database's active backends in each wait state ("running": none). */
  dbWaits?: Record<string, number>;
}

export interface WriteResult {
  available: boolean;
  note?: string;
  groups: number;
  load?: Measurement;
}

export interface ScalePoint {
  vpcs: number;
  seedSeconds: number;
  describe: Measurement;
  nameFilter: Measurement;
}

export interface EngineResult {
  engine: Engine;
  write: WriteResult;
  scale: ScalePoint[];
  /** Largest size over smallest. */
  describeRatio?: { p50: number; p99: number };
  nameFilterRatio?: { p50: number; p99: number };
  profiles?: { label: string; summary: ProfileSummary }[];
  /** PostgreSQL: what one call costs in statements and round trips. */
  roundTrips?: RoundTrips[];
}

export interface RoundTrips {
  action: string;
  calls: number;
  statementsPerCall: number;
  roundTripsPerCall: number;
}

/** Calls per action of the round-trip count. */
const COUNTED_CALLS = 200;

/**
 * Statements and round trips per call, calls made one at a time on a server
 * that counts them (lib/pg-round-trips.ts; it counts only when the server
 * loads the same `pg` package as this bench, as a build of this tree does).
 */
async function countRoundTrips(dataDir: string, db: Database, concurrency: number): Promise<RoundTrips[]> {
  const file = join(dataDir, 'pg-counts.json');
  const server = await startServer({
    dataDir,
    database: db.url,
    nodeArgs: ['--import', pathToFileURL(join(ROOT, 'dist/bench/lib/pg-round-trips.js')).href],
    env: { WEFT_BENCH_PG_COUNTS: file },
  });
  const client = clientFor(server, concurrency);
  const counts = async (): Promise<PgCounts> => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 250)); // the server writes them every 100 ms
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as PgCounts;
      } catch {
        // not written yet, or caught mid-write
      }
    }
  };
  try {
    const group = (await client.must('vpc', 'CreateSecurityGroup', { GroupName: 'bench-round-trips', GroupDescription: 'bench' })).SecurityGroup as {
      SecurityGroupId: string;
    };
    const calls: [string, (n: number) => unknown][] = [
      ['CreateSecurityGroupPolicies', (n) => ({ SecurityGroupId: group.SecurityGroupId, SecurityGroupPolicySet: { Ingress: [policy(n)] } })],
      ['DescribeVpcs', () => ({})],
    ];
    const out: RoundTrips[] = [];
    for (const [action, params] of calls) {
      const before = await counts();
      for (let n = 0; n < COUNTED_CALLS; n++) await client.must('vpc', action, params(n));
      const after = await counts();
      out.push({
        action,
        calls: COUNTED_CALLS,
        statementsPerCall: round((after.statements - before.statements) / COUNTED_CALLS),
        roundTripsPerCall: round((after.roundTrips - before.roundTrips) / COUNTED_CALLS),
      });
    }
    return out;
  } finally {
    client.close();
    await server.stop();
  }
}

const log = (s: string) => process.stderr.write(`[api] ${s}\n`);

let quietSpentMs = 0;

/** Where a figure is measured: the server, and the PostgreSQL database behind it if any. */
interface Rig {
  server: RunningServer;
  client: ApiClient;
  o: BenchOptions;
  db?: Database;
}

/** One figure: wait for a quiet machine (boundedly), run the load, read the server's memory and the database's waits. */
async function measure(rig: Rig, next: (n: number) => Request): Promise<Measurement> {
  const { o, db, server } = rig;
  const before = await waitForQuiet(o.quietCores, Math.max(0, Math.min(QUIET_MAX_WAIT_MS, QUIET_BUDGET_MS - quietSpentMs)));
  quietSpentMs += before.waitedMs;
  if (before.busyCores > o.quietCores) log(`  the machine is busy (${before.busyCores.toFixed(2)} cores used by others): figures will be low`);
  const sampler = db && (await sampleWaits(db.url, db.name));
  const r = await runLoad(rig.client, {
    concurrency: o.concurrency,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    rounds: o.rounds,
    serverPid: server.pid,
    dbPids: db && (() => postgresBackends(db.name)),
    next,
  });
  const waits = await sampler?.stop();
  const m = memory(server.pid);
  return {
    ...r,
    before: { busyCores: round(before.busyCores), waitedMs: before.waitedMs },
    memory: m && { rssMB: round(m.rssMB), peakMB: round(m.peakMB) },
    dbWaits: waits && Object.fromEntries(Object.entries(waits.waits).sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, round(n / waits.samples)])),
  };
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

function clientFor(s: RunningServer, concurrency: number) {
  return new ApiClient(
    { endpoint: s.endpoint, secretId: s.credentials.SecretId, secretKey: s.credentials.SecretKey, region: s.credentials.Region },
    concurrency,
  );
}

/** The n-th policy written: distinct ports and sources, so no two are duplicates. */
function policy(n: number) {
  return {
    Protocol: 'TCP',
    Port: String(1 + (n % 65535)),
    CidrBlock: `10.${(n >> 8) & 255}.${n & 255}.0/24`,
    Action: 'ACCEPT',
    PolicyDescription: `bench ${n}`,
  };
}

async function benchWrites(rig: Rig): Promise<WriteResult> {
  const { client, o } = rig;
  {
    const probe = await client.call('vpc', 'CreateSecurityGroup', { GroupName: 'bench-probe', GroupDescription: 'bench' });
    if (probe.Error?.Code === 'InvalidAction') return { available: false, groups: 0, note: 'CreateSecurityGroup is not implemented in this build' };
    if (probe.Error) throw new Error(`CreateSecurityGroup failed: ${probe.Error.Code}: ${probe.Error.Message}`);
    const probeId = (probe.SecurityGroup as { SecurityGroupId: string }).SecurityGroupId;
    const first = await client.call('vpc', 'CreateSecurityGroupPolicies', { SecurityGroupId: probeId, SecurityGroupPolicySet: { Ingress: [policy(0)] } });
    if (first.Error?.Code === 'InvalidAction') return { available: false, groups: 0, note: 'CreateSecurityGroupPolicies is not implemented in this build' };
    if (first.Error) throw new Error(`CreateSecurityGroupPolicies failed: ${first.Error.Code}: ${first.Error.Message}`);

    const made = await pool(
      Array.from({ length: GROUPS }, (_, i) => i),
      o.concurrency,
      (i) => client.must('vpc', 'CreateSecurityGroup', { GroupName: `bench-sg-${i}`, GroupDescription: 'bench' }),
    );
    const groups = made.map((r) => (r.SecurityGroup as { SecurityGroupId: string }).SecurityGroupId);
    log(`write: CreateSecurityGroupPolicies over ${groups.length} security groups`);
    const load = await measure(rig, (n) => ({
      service: 'vpc',
      action: 'CreateSecurityGroupPolicies',
      params: { SecurityGroupId: groups[n % groups.length], SecurityGroupPolicySet: { Ingress: [policy(n + 1)] } },
    }));
    // Every successful call appended exactly one policy (warm-up and tail calls included, so count them all).
    const listed = await pool(groups.slice(0, 5), 5, (id) => client.must('vpc', 'DescribeSecurityGroupPolicies', { SecurityGroupId: id }));
    for (const r of listed) {
      const set = r.SecurityGroupPolicySet as { Ingress?: unknown[] } | undefined;
      if (!set?.Ingress?.length) throw new Error(`DescribeSecurityGroupPolicies shows no ingress policy after the write bench: ${JSON.stringify(r).slice(0, 300)}`);
    }
    return { available: true, groups: groups.length, load };
  }
}

/** Checks the store holds what the bench thinks it holds, and that the name filter matches exactly one VPC. */
async function checkSeeded(client: ApiClient, vpcs: number) {
  const all = await client.must('vpc', 'DescribeVpcs', {});
  if (all.TotalCount !== vpcs || (all.VpcSet as unknown[]).length !== 20)
    throw new Error(`DescribeVpcs: TotalCount ${String(all.TotalCount)} and ${(all.VpcSet as unknown[]).length} VPCs; expected ${vpcs} and 20`);
  const one = await client.must('vpc', 'DescribeVpcs', { Filters: [{ Name: 'vpc-name', Values: [seededVpcName(vpcs - 1)] }] });
  if (one.TotalCount !== 1) throw new Error(`DescribeVpcs vpc-name filter matched ${String(one.TotalCount)} VPCs; expected 1`);
}

async function benchEngine(engine: Engine, o: BenchOptions): Promise<EngineResult> {
  const dataDir = tempDataDir(engine);
  const db = engine === 'postgres' ? await freshPostgres(o.postgresBase, 'api') : undefined;
  try {
    const storeUrl = db?.url ?? join(dataDir, 'weft.db');
    const dbArgs = db ? ['--database', db.url] : [];
    const profiles: NonNullable<EngineResult['profiles']> = [];

    /** Starts a server, runs `fn`, stops it; keeps and summarises its CPU profile when profiling. */
    const withServer = async <T>(label: string, fn: (rig: Rig) => Promise<T>): Promise<T> => {
      const profDir = o.profileDir ? join(dataDir, 'prof', label) : undefined;
      const server = await startServer({ dataDir, database: db?.url, cpuProfDir: profDir });
      const client = clientFor(server, o.concurrency);
      try {
        return await fn({ server, client, o, db });
      } finally {
        client.close();
        await server.stop();
        const file = profDir && latestProfile(profDir);
        if (file && o.profileDir) {
          mkdirSync(o.profileDir, { recursive: true });
          const kept = join(o.profileDir, `api-${engine}-${label}.cpuprofile`);
          copyFileSync(file, kept);
          profiles.push({ label, summary: summarizeProfile(kept) });
        }
      }
    };

    log(`${engine}: write bench`);
    const write = await withServer('write', async (rig) => {
      // Before any API request, so the server's short-lived account cache loads the raised quotas.
      await weftOrThrow([
        'account', 'quota', '--data-dir', dataDir, '--name', 'admin', ...dbArgs,
        '--set', `securityGroup=${GROUPS + 10}`, `policyPerDirection=${POLICY_QUOTA}`, `vpc=${Math.max(...SIZES(o.quick)) * 2}`,
      ]);
      return benchWrites(rig);
    });
    const roundTrips = db ? await countRoundTrips(dataDir, db, o.concurrency) : undefined;

    const { Uin } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { Uin: string };
    const scale: ScalePoint[] = [];
    for (const vpcs of SIZES(o.quick)) {
      const seedSeconds = await seedVpcs(storeUrl, Uin, vpcs);
      log(`${engine}: ${fmt(vpcs)} VPCs (seeded through the store in ${seedSeconds.toFixed(1)} s): DescribeVpcs, then with a vpc-name filter`);
      const describe = await withServer(`describe-${vpcs}`, async (rig) => {
        await checkSeeded(rig.client, vpcs);
        return measure(rig, () => ({ service: 'vpc', action: 'DescribeVpcs', params: {} }));
      });
      const nameFilter = await withServer(`name-filter-${vpcs}`, (rig) =>
        // A different VPC each time, spread over the whole store.
        measure(rig, (n) => ({
          service: 'vpc',
          action: 'DescribeVpcs',
          params: { Filters: [{ Name: 'vpc-name', Values: [seededVpcName((n * 7919) % vpcs)] }] },
        })),
      );
      scale.push({ vpcs, seedSeconds: round(seedSeconds), describe, nameFilter });
    }
    const first = scale[0]!;
    const last = scale[scale.length - 1]!;
    const ratio = (a: LoadResult, b: LoadResult) => ({ p50: round(b.p50 / a.p50), p99: round(b.p99 / a.p99) });
    return {
      engine,
      write,
      scale,
      describeRatio: ratio(first.describe, last.describe),
      nameFilterRatio: ratio(first.nameFilter, last.nameFilter),
      profiles: profiles.length ? profiles : undefined,
      roundTrips,
    };
  } finally {
    await db?.drop();
  }
}

// ---- report ---------------------------------------------------------------

const ENGINE_NAME: Record<Engine, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

const verdict = (misses: string[]) => (misses.length ? `MISS: ${misses.join(', ')}` : 'ok');
const spread = ([a, b]: [number, number]) => (a === b ? '' : ` (${fmt(a)}–${fmt(b)})`);

function throughputRow(what: string, engine: Engine, r: Measurement | undefined, goalPerSecond: number, note?: string): string[] {
  if (!r) return [what, ENGINE_NAME[engine], '—', '—', '—', '—', '—', '—', '—', '—', '—', note ?? 'not measured'];
  const misses: string[] = [];
  if (r.perSecond < goalPerSecond) misses.push(`< ${fmt(goalPerSecond)}/s`);
  if (r.p99 >= GOALS.p99Ms) misses.push(`p99 ≥ ${GOALS.p99Ms} ms`);
  if (r.errors) misses.push(`${r.errors} errors`);
  return [
    what,
    ENGINE_NAME[engine],
    `${fmt(r.perSecond)}${spread(r.range.perSecond)}`,
    fmt(r.p50),
    `${fmt(r.p99)}${spread(r.range.p99)}`,
    String(r.errors),
    cores(r.cpu.server),
    cores(r.cpu.database),
    cores(r.cpu.generator),
    cores(r.cpu.other),
    fmt((r.cpuPerRequestUs.server ?? NaN) + (r.cpuPerRequestUs.database ?? 0)),
    `≥ ${fmt(goalPerSecond)}/s, p99 < ${GOALS.p99Ms} ms → ${verdict(misses)}`,
  ];
}

export function report(results: EngineResult[], o: BenchOptions): string {
  const out: string[] = [];
  const rows: string[][] = [];
  for (const r of results) {
    rows.push(throughputRow('write CreateSecurityGroupPolicies', r.engine, r.write.load, GOALS.writesPerSecond, r.write.note));
    const at = r.scale.find((p) => p.vpcs === READ_SIZE);
    rows.push(throughputRow(`read DescribeVpcs, ${fmt(READ_SIZE)} VPCs`, r.engine, at?.describe, GOALS.readsPerSecond));
    rows.push(throughputRow(`read DescribeVpcs vpc-name, ${fmt(READ_SIZE)}`, r.engine, at?.nameFilter, GOALS.readsPerSecond));
  }
  const windows = o.rounds > 1 ? `median of ${o.rounds} windows of ${o.durationMs / 1000} s (min–max)` : `one window of ${o.durationMs / 1000} s`;
  out.push(
    `Throughput: ${o.concurrency} concurrent clients, ${windows} after ${o.warmupMs / 1000} s warm-up.`,
    `cpu = cores busy: weft server, PostgreSQL backends, load generator, and everything else on the machine (other);`,
    `µs/req = server + database CPU per request (less affected than req/s by what others leave free, not immune)`,
    table(['measurement', 'engine', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'cpu srv', 'cpu db', 'cpu gen', 'other', 'µs/req', 'goal'], rows),
    '',
  );

  const scaleRows: string[][] = [];
  for (const r of results)
    for (const p of r.scale)
      scaleRows.push([
        fmt(p.vpcs),
        ENGINE_NAME[r.engine],
        fmt(p.describe.perSecond),
        fmt(p.describe.p50),
        fmt(p.describe.p99),
        fmt(p.nameFilter.perSecond),
        fmt(p.nameFilter.p50),
        fmt(p.nameFilter.p99),
        fmt(p.describe.memory?.rssMB),
        fmt(Math.max(p.describe.memory?.peakMB ?? NaN, p.nameFilter.memory?.peakMB ?? NaN)),
        String(p.describe.errors + p.nameFilter.errors),
        `${cores(p.describe.cpu.other)} / ${cores(p.nameFilter.cpu.other)}`,
      ]);
  const counted = results.flatMap((r) => (r.roundTrips ?? []).map((c) => [c.action, ENGINE_NAME[r.engine], fmt(c.statementsPerCall), fmt(c.roundTripsPerCall)]));
  if (counted.length)
    out.push(
      `What a call costs in PostgreSQL statements and round trips (${COUNTED_CALLS} calls one at a time; statements sent together count as one round trip)`,
      table(['action', 'engine', 'statements', 'round trips'], counted),
      '',
    );
  out.push(
    'Describe as the store grows (VPCs seeded through the store; same load as above; RSS after the DescribeVpcs run)',
    table(['VPCs', 'engine', 'Describe/s', 'p50 ms', 'p99 ms', 'vpc-name/s', 'p50 ms', 'p99 ms', 'RSS MB', 'peak MB', 'errors', 'other'], scaleRows),
    '',
  );

  const goalRows: string[][] = [];
  for (const r of results) {
    const last = r.scale[r.scale.length - 1]!;
    const first = r.scale[0]!;
    const span = `${fmt(last.vpcs)} / ${fmt(first.vpcs)}`;
    const flat = (x?: { p50: number; p99: number }) =>
      x ? verdict([...(x.p50 > GOALS.flatRatio ? ['p50'] : []), ...(x.p99 > GOALS.flatRatio ? ['p99'] : [])]) : '—';
    goalRows.push([`DescribeVpcs latency ${span}`, ENGINE_NAME[r.engine], `p50 ×${fmt(r.describeRatio?.p50)}, p99 ×${fmt(r.describeRatio?.p99)}`, `flat (≤ ×${GOALS.flatRatio})`, flat(r.describeRatio)]);
    goalRows.push([`vpc-name filter latency ${span}`, ENGINE_NAME[r.engine], `p50 ×${fmt(r.nameFilterRatio?.p50)}, p99 ×${fmt(r.nameFilterRatio?.p99)}`, `flat (≤ ×${GOALS.flatRatio})`, flat(r.nameFilterRatio)]);
    const rss = last.describe.memory?.rssMB;
    goalRows.push([`server RSS, ${fmt(last.vpcs)} VPCs`, ENGINE_NAME[r.engine], fmt(rss, ' MB'), `< ${GOALS.rssMB} MB`, rss === undefined ? '—' : verdict(rss < GOALS.rssMB ? [] : ['too large'])]);
  }
  out.push('Scale and memory goals', table(['measurement', 'engine', 'figure', 'goal', 'verdict'], goalRows));

  const busy = results.flatMap((r) => [r.write.load, ...r.scale.flatMap((p) => [p.describe, p.nameFilter])]).filter((m) => m && m.cpu.other > o.quietCores);
  if (busy.length)
    out.push('', `NOTE: other processes kept more than ${o.quietCores} cores busy during ${busy.length} measurement(s) (column "other"): those figures understate Weft.`);
  const waitLines: string[] = [];
  for (const r of results) {
    const named: [string, Measurement | undefined][] = [
      ['write', r.write.load],
      ...r.scale.flatMap((p): [string, Measurement][] => [[`Describe ${fmt(p.vpcs)}`, p.describe], [`vpc-name ${fmt(p.vpcs)}`, p.nameFilter]]),
    ];
    for (const [what, m] of named)
      if (m?.dbWaits)
        waitLines.push(`  ${what.padEnd(16)} ${Object.entries(m.dbWaits).slice(0, 4).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none active'}`);
  }
  if (waitLines.length) out.push('', 'PostgreSQL backends of the bench database, average number active in each wait state:', ...waitLines);
  for (const r of results) {
    if (r.write.load?.firstError) out.push('', `${ENGINE_NAME[r.engine]} write errors: ${JSON.stringify(r.write.load.errorCodes)}; first: ${r.write.load.firstError}`);
    for (const p of r.scale)
      for (const l of [p.describe, p.nameFilter])
        if (l.firstError) out.push('', `${ENGINE_NAME[r.engine]} ${fmt(p.vpcs)} VPCs read errors: ${JSON.stringify(l.errorCodes)}; first: ${l.firstError}`);
  }
  for (const r of results) for (const p of r.profiles ?? []) out.push('', formatProfile(p.summary, `CPU profile of the server, ${ENGINE_NAME[r.engine]}, ${p.label}`));
  return out.join('\n');
}

export const apiBench: BenchModule = {
  name: 'api',
  description: 'API plane: write and read throughput, Describe latency from 1k to 1M VPCs, server RSS; SQLite and PostgreSQL',
  async run(o) {
    const results: EngineResult[] = [];
    for (const engine of o.engines) results.push(await benchEngine(engine, o));
    return { report: report(results, o), json: { goals: GOALS, results } };
  },
};
