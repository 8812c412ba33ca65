/**
 * The Maglev bench (`--only maglev`, pure, no root): build time of a
 * listener's table (src/core/maglev.ts, 65,537 slots) for 100 and 1,000
 * equal-weight backends, for 1,000 of mixed weights (1–100) and for one
 * heavy backend among 999 light ones (the claims ordered by buckets of
 * turns), median and p99 of many builds after a warm-up; and the
 * disruption: the share of slots
 * whose backend changes when one backend of N is removed or one added (worst
 * of a few), against the ideal 1/N. Goal: ≤ 5 ms for 1,000 backends (the
 * Maglev paper: 1.8 ms in C++). Each build figure waits (up to 15 s) for a
 * quiet machine first, and says how busy it was.
 */
import { performance } from 'node:perf_hooks';
import { MAGLEV_SIZE, maglevTable, type MaglevBackend } from '../src/core/maglev.js';
import type { BenchModule } from './lib/module.js';
import { waitForQuiet } from './lib/proc.js';
import { fmt, percentile, round, table } from './lib/stats.js';

export const GOALS = { buildMs1000: 5 };

const backends = (n: number, weight: (i: number) => number = () => 1): MaglevBackend[] =>
  Array.from({ length: n }, (_, i) => ({ key: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`, weight: weight(i) }));

async function buildTimes(bs: MaglevBackend[], runs: number, quietCores: number) {
  const { busyCores } = await waitForQuiet(quietCores, 15_000);
  for (let i = 0; i < Math.min(20, runs); i++) maglevTable(bs);
  const t = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    maglevTable(bs);
    t[i] = performance.now() - t0;
  }
  t.sort();
  return { medianMs: round(percentile(t, 0.5)), p99Ms: round(percentile(t, 0.99)), runs, otherCoresBefore: round(busyCores) };
}

/** Share of slots whose backend (by key) differs between the tables of `a` and `b`. */
function moved(a: MaglevBackend[], b: MaglevBackend[]): number {
  const ta = maglevTable(a);
  const tb = maglevTable(b);
  let n = 0;
  for (let s = 0; s < ta.length; s++) if (a[ta[s]!]!.key !== b[tb[s]!]!.key) n++;
  return n / ta.length;
}

function disruption(n: number) {
  const bs = backends(n);
  let remove = 0;
  let add = 0;
  for (const r of [0, n >> 2, n >> 1, n - 1]) {
    remove = Math.max(remove, moved(bs, bs.filter((_, i) => i !== r)));
    add = Math.max(add, moved(bs, [...bs, { key: `10.200.${r & 255}.${(r >> 8) & 255}:8080`, weight: 1 }]));
  }
  return { n, removePct: round(remove * 100), addPct: round(add * 100), idealPct: round(100 / n) };
}

export const maglevBench: BenchModule = {
  name: 'maglev',
  description: `Maglev table build (${MAGLEV_SIZE.toLocaleString('en-US')} slots) and disruption (pure)`,
  async run(o) {
    const runs = o.quick ? 100 : 500;
    const builds = [
      { what: '100 backends, equal weights', ...(await buildTimes(backends(100), runs, o.quietCores)) },
      { what: '1,000 backends, equal weights', ...(await buildTimes(backends(1000), runs, o.quietCores)) },
      { what: '1,000 backends, weights 1–100', ...(await buildTimes(backends(1000, (i) => 1 + ((i * 37) % 100)), runs, o.quietCores)) },
      { what: '1,000 backends, one of weight 100, the others 1', ...(await buildTimes(backends(1000, (i) => (i === 0 ? 100 : 1)), runs, o.quietCores)) },
    ];
    const disruptions = [10, 100, 1000].map(disruption);
    const b1000 = builds[1]!;
    const report = [
      table(
        ['table build', 'median', 'p99', 'runs', 'other cores busy before'],
        builds.map((b) => [b.what, fmt(b.medianMs, ' ms'), fmt(b.p99Ms, ' ms'), String(b.runs), b.otherCoresBefore.toFixed(2)]),
      ),
      `goal ≤ ${GOALS.buildMs1000} ms for 1,000 backends: ${b1000.medianMs <= GOALS.buildMs1000 ? 'met' : 'NOT met'} (median ${fmt(b1000.medianMs, ' ms')})`,
      '',
      table(
        ['backends', 'one removed: slots moved', 'one added: slots moved', 'ideal (1/N)'],
        disruptions.map((d) => [String(d.n), fmt(d.removePct, ' %'), fmt(d.addPct, ' %'), fmt(d.idealPct, ' %')]),
      ),
    ].join('\n');
    return { report, json: { goals: GOALS, size: MAGLEV_SIZE, builds, disruptions } };
  },
};
