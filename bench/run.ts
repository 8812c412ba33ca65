/**
 * `npm run bench [-- options]`: runs the bench modules and prints their
 * tables; each module's figures also go to bench/results/<module>-latest.json
 * (<module>-quick.json for --quick runs), to compare runs side by side.
 *
 *   --only api[,…]          modules to run (default: all)
 *   --quick                 short: 1 s warm-up, one 2 s window per figure
 *   --rounds N              measured windows per figure (default 3; figures are medians)
 *   --engines sqlite,postgres
 *   --concurrency N         concurrent client workers (default 16)
 *   --warmup S --duration S warm-up and window length in seconds (default 3 and 5: the
 *                           server's hot paths take about 3 s of load to reach steady speed)
 *   --quiet-cores C         before each figure, wait (up to 15 s, 90 s in all) until
 *                           other processes use fewer than C cores (default 0.3)
 *   --postgres URL          server to create fresh databases on
 *                           (default WEFT_BENCH_DATABASE or postgres://postgres@127.0.0.1:5432/postgres)
 *   --profile               run servers under node --cpu-prof; summarise where their time goes
 *   --out FILE              where to write the figures (one module only)
 *   --weft PATH             the weft build to measure (default dist/src/cli/main.js of this tree),
 *                           e.g. a candidate change built elsewhere, to compare with a baseline run
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiBench } from './api.js';
import { dataplaneBench } from './dataplane.js';
import { routingBench } from './routing.js';
import { publicBench } from './public.js';
import { limitsBench } from './limits.js';
import { maglevBench } from './maglev.js';
import { lbBench } from './lb.js';
import { flowLogsBenchModule } from './flowlogs.js';
import { simBench, simRoutesBench } from './sim.js';
import { simScaleBench } from './sim-scale.js';
import { reconcileBench } from './reconcile.js';
import { consoleBench } from './console.js';
import { distributionBench } from './distribution.js';
import { replicasBench } from './replicas.js';
import type { BenchModule, BenchOptions, Engine } from './lib/module.js';
import { topProcesses } from './lib/proc.js';
import { cleanupAll, postgresReachable, ROOT, useWeft, WEFT } from './lib/server.js';

const MODULES: BenchModule[] = [apiBench, dataplaneBench, routingBench, publicBench, limitsBench, lbBench, simBench, simRoutesBench, simScaleBench, maglevBench, reconcileBench, flowLogsBenchModule, consoleBench, distributionBench, replicasBench];

const { values: a } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    engines: { type: 'string', default: 'sqlite,postgres' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    'quiet-cores': { type: 'string', default: '0.3' },
    postgres: { type: 'string', default: process.env.WEFT_BENCH_DATABASE ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    profile: { type: 'boolean', default: false },
    weft: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (a.help) {
  console.log(`npm run bench -- [--only ${MODULES.map((m) => m.name).join(',')}] [--quick] [--engines sqlite,postgres] [--concurrency N] [--warmup S] [--duration S] [--rounds N] [--quiet-cores C] [--postgres URL] [--profile] [--weft PATH] [--out FILE]\n`);
  for (const m of MODULES) console.log(`  ${m.name.padEnd(8)} ${m.description}`);
  process.exit(0);
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

const selected = a.only ? a.only.split(',').map((n) => MODULES.find((m) => m.name === n) ?? fail(`no bench module \`${n}\`; known: ${MODULES.map((m) => m.name).join(', ')}`)) : MODULES;
const engines = a.engines.split(',').map((e) => (e === 'sqlite' || e === 'postgres' ? (e as Engine) : fail(`--engines: \`${e}\` is not sqlite or postgres`)));
const seconds = (v: string | undefined, dflt: number, name: string) => {
  const n = v === undefined ? dflt : Number(v);
  if (!(n >= 0)) fail(`--${name} takes a number of seconds`);
  return Math.round(n * 1000);
};
const concurrency = Number(a.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) fail('--concurrency takes a whole number ≥ 1');

const rounds = a.rounds === undefined ? (a.quick ? 1 : 3) : Number(a.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail('--rounds takes a whole number ≥ 1');
const quietCores = Number(a['quiet-cores']);
if (!(quietCores >= 0)) fail('--quiet-cores takes a number of cores');

if (a.out && selected.length > 1) fail('--out takes one module: give --only too');
if (a.weft) {
  if (!existsSync(a.weft)) fail(`--weft: ${a.weft} does not exist`);
  useWeft(a.weft);
}

const resultsDir = join(ROOT, 'bench/results');
const options: BenchOptions = {
  quick: a.quick,
  engines,
  postgresBase: a.postgres,
  concurrency,
  warmupMs: seconds(a.warmup, a.quick ? 1 : 3, 'warmup'),
  durationMs: seconds(a.duration, a.quick ? 2 : 5, 'duration'),
  rounds,
  quietCores,
  profileDir: a.profile ? join(resultsDir, 'profiles') : undefined,
};

for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    console.error(`\nbench: ${sig}, cleaning up`);
    void cleanupAll().then(() => process.exit(130));
  });

function machine() {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGB: Math.round(totalmem() / 1e9),
    kernel: release(),
    node: process.version,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: (git(['status', '--porcelain', '--', 'src']) ?? '') !== '',
    weft: WEFT,
  };
}

try {
  if (options.engines.includes('postgres')) {
    const why = await postgresReachable(options.postgresBase);
    if (why) {
      if (process.env.CI) fail(`PostgreSQL at ${options.postgresBase} is not reachable: ${why}`);
      console.error(`bench: PostgreSQL at ${options.postgresBase} is not reachable (${why}); SQLite only`);
      options.engines = options.engines.filter((e) => e !== 'postgres');
    }
  }
  // A shared machine measures its neighbours too: say who they are.
  const busy = await topProcesses();
  const others = busy.reduce((s, p) => s + p.cores, 0);
  if (others > options.quietCores)
    console.error(`bench: the machine is busy before starting (${others.toFixed(2)} cores):\n${busy.map((p) => `  pid ${p.pid}  ${p.cores.toFixed(2)} cores  ${p.command}`).join('\n')}`);
  const m = { ...machine(), busyAtStart: busy };
  console.log(
    `weft bench — ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Linux ${m.kernel}, Node ${m.node}, commit ${m.commit}${m.dirty ? ' (src modified)' : ''}${a.weft ? `, weft from ${m.weft}` : ''}${options.quick ? ', QUICK' : ''}${options.profileDir ? ', PROFILING (figures slowed by the profiler)' : ''}\n`,
  );
  for (const mod of selected) {
    const t0 = Date.now();
    const { report, json } = await mod.run(options);
    const took = (Date.now() - t0) / 1000;
    console.log(`== ${mod.name}: ${mod.description} (${took.toFixed(0)} s)\n\n${report}\n`);
    mkdirSync(resultsDir, { recursive: true });
    const file = a.out ?? join(resultsDir, `${mod.name}-${options.quick ? 'quick' : 'latest'}.json`);
    const { profileDir: _p, postgresBase: _b, ...shown } = options;
    writeFileSync(file, JSON.stringify({ bench: mod.name, at: new Date().toISOString(), seconds: Math.round(took), machine: m, options: shown, ...(json as object) }, null, 2) + '\n');
    console.log(`figures written to ${file}`);
  }
} finally {
  await cleanupAll();
}
