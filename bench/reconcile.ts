/**
 * The reconciliation bench (issue 11, docs/reconcile.md).
 *
 *   audit       full audit time for 1,000 and 10,000 sim hosts: synthetic
 *               agents (the real reconcile loop, src/agent/reconcile-loop.ts,
 *               each over a SimDriver with its state file) hold documents
 *               compiled by the real compiler (VPCs of 50 instances over 10
 *               hosts); 1 % of the hosts lose their state file and 1 % have
 *               a VPC altered by hand; then every host audits at once. The
 *               figure is the time until every audit has ended and its report
 *               passed the controller's checks (controller/agent-reports.ts),
 *               in one process; the drift found must be the drift injected.
 *               Goal: < 10 s at 10,000.
 *   api→kernel  the dataplane bench's API call → kernel figure
 *               (bench/dataplane.ts benchApiToKernel) alone, on a two-host
 *               region in a box (root), with the agents' in-memory applied
 *               state: p99 goal < 250 ms.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createReconcileLoop } from '../src/agent/reconcile-loop.js';
import { documentDigest } from '../src/compile/compile.js';
import type { AgentReport } from '../src/contract/agent-report.js';
import type { HostDocument } from '../src/contract/host-document.js';
import { judgeReport, parseReport } from '../src/controller/agent-reports.js';
import { SimDriver } from '../src/dataplane/sim/driver.js';
import { benchApiToKernel, twoHosts, type ApiToKernelResult } from './dataplane.js';
import { isRoot } from './lib/box.js';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { waitForQuiet } from './lib/proc.js';
import { fmt, round, table } from './lib/stats.js';
import { syntheticVpc } from './sim.js';

export const GOALS = { auditSeconds10k: 10, apiToKernelP99Ms: 250 };

const log = (m: string) => process.stderr.write(`[reconcile] ${m}\n`);

export interface AuditFigures {
  hosts: number;
  documentKB: number;
  seconds: number;
  perHostMs: number;
  injected: number;
  found: number;
  reportsRefused: number;
}

/** Every host's document: VPCs of 50 instances over 10 hosts each, compiled by the real compiler. */
function documents(hosts: number): HostDocument[] {
  const out: HostDocument[] = [];
  const template = syntheticVpc(50, 10, 7).documents;
  for (let g = 0; g * 10 < hosts; g++)
    for (const [h, d] of template.entries()) {
      if (g * 10 + h >= hosts) break;
      // The same VPC shape per group, under each group's own host names and VPC ID.
      const vpcId = `vpc-${g.toString(36).padStart(8, '0')}`;
      out.push({ ...d, hostId: `h${g * 10 + h}`, vpcs: d.vpcs.map((v) => ({ ...v, vpcId })) });
    }
  return out;
}

export async function auditRun(hosts: number): Promise<AuditFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-audit-'));
  try {
    const docs = documents(hosts);
    const digests = docs.map(documentDigest);
    const file = (d: HostDocument) => join(dir, `${d.hostId}.json`);
    let refused = 0;
    let found = 0;
    let reports = 0;
    const loops = docs.map((d, i) =>
      createReconcileLoop({
        driver: new SimDriver(file(d)),
        auditMs: 0,
        log: () => {},
        // The controller's checks, in process: the report's shape, its revision and digest.
        send: async (body: AgentReport) => {
          const r = parseReport(JSON.parse(JSON.stringify(body)));
          const verdict = typeof r === 'string' ? { error: r } : judgeReport(r, { current: { revision: d.revision, digest: digests[i]! }, earlier: new Map() });
          if (verdict.error) refused++;
          else found += body.drift?.length ?? 0;
          reports++;
        },
      }),
    );
    log(`audit: ${hosts} sim hosts, applying their documents`);
    loops.forEach((l, i) => l.set(docs[i]!, digests[i]!));
    await Promise.all(loops.map((l) => l.idle()));
    while (reports < hosts) await new Promise((ok) => setTimeout(ok, 10));
    const documentKB = docs.slice(0, 10).reduce((n, d) => n + readFileSync(file(d)).length, 0) / 10 / 1024;
    // Drift: 1 % of the hosts lose their state, 1 % have a VPC changed by hand (a remote removed).
    let injected = 0;
    for (let i = 0; i < hosts; i += 100) {
      unlinkSync(file(docs[i]!));
      injected++;
    }
    for (let i = 50; i < hosts; i += 100) {
      const held = JSON.parse(readFileSync(file(docs[i]!), 'utf8')) as HostDocument;
      held.vpcs[0]!.remotes = held.vpcs[0]!.remotes.slice(1);
      writeFileSync(file(docs[i]!), JSON.stringify(held));
      injected++;
    }
    reports = 0;
    found = 0;
    await waitForQuiet(0.5, 15_000);
    log(`audit: ${hosts} hosts audit at once (${injected} with drift)`);
    const t0 = performance.now();
    for (const l of loops) l.auditNow();
    await Promise.all(loops.map((l) => l.idle()));
    while (reports < hosts) await new Promise((ok) => setTimeout(ok, 1));
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(loops.map((l) => l.stop()));
    return { hosts, documentKB: round(documentKB), seconds: round(seconds), perHostMs: round((seconds * 1000) / hosts), injected, found, reportsRefused: refused };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ReconcileResult {
  goals: typeof GOALS;
  audit: (AuditFigures | { hosts: number; error: string })[];
  apiToKernel?: ApiToKernelResult | { error: string } | { skipped: string };
}

const isError = (x: object): x is { error: string } => 'error' in x;

function report(r: ReconcileResult): string {
  const verdict = (ok: boolean, bad: string) => (ok ? 'met' : `NOT MET (${bad})`);
  const out = [
    'Full audit, sim hosts (one process: synthetic agents, the real reconcile loop and SimDriver, the controller\'s report checks); 1 % of hosts lost their state, 1 % had a VPC altered',
    table(
      ['hosts', 'document KB', 'audit s', 'per host ms', 'drift injected / found', 'refused', 'goal'],
      r.audit.map((a) =>
        isError(a)
          ? [String(a.hosts), '', `FAILED: ${a.error}`, '', '', '', '']
          : [
              String(a.hosts),
              fmt(a.documentKB),
              fmt(a.seconds),
              fmt(a.perHostMs),
              `${a.injected} / ${a.found}${a.injected === a.found ? '' : ' MISMATCH'}`,
              String(a.reportsRefused),
              a.hosts >= 10_000 ? `< ${GOALS.auditSeconds10k} s → ${verdict(a.seconds < GOALS.auditSeconds10k, 'too slow')}` : '',
            ],
      ),
    ),
    '',
  ];
  const k = r.apiToKernel;
  if (!k) return out.join('\n');
  if ('skipped' in k) out.push(`api→kernel: skipped: ${k.skipped}`);
  else if (isError(k)) out.push(`api→kernel: FAILED: ${k.error}`);
  else
    out.push(
      `API call → kernel (two-host region in a box, in-memory applied state): ${k.trials} trials`,
      table(
        ['change', 'p50 ms', 'p99 ms', 'max ms', 'goal'],
        [
          ['CreateSecurityGroupPolicies accept → new connection passes', fmt(k.allow.p50), fmt(k.allow.p99), fmt(k.allow.max), `p99 < ${GOALS.apiToKernelP99Ms} ms → ${verdict(k.allow.p99 < GOALS.apiToKernelP99Ms, 'too slow')}`],
          ['DeleteSecurityGroupPolicies → new connection fails', fmt(k.deny.p50), fmt(k.deny.p99), fmt(k.deny.max), `p99 < ${GOALS.apiToKernelP99Ms} ms → ${verdict(k.deny.p99 < GOALS.apiToKernelP99Ms, 'too slow')}`],
        ],
      ),
      `(the h2 agent's ${k.agentApplies.count} applies: median ${fmt(k.agentApplies.p50)} ms, by phase ${JSON.stringify(k.agentApplies.phases)})`,
    );
  return out.join('\n');
}

export const reconcileBench: BenchModule = {
  name: 'reconcile',
  description: 'reconciliation: full audit time for 1,000 and 10,000 sim hosts; API call → kernel p99 with the in-memory applied state (root)',
  async run(o: BenchOptions) {
    const result: ReconcileResult = { goals: GOALS, audit: [] };
    for (const n of [1000, 10_000]) result.audit.push(await auditRun(n).catch((e: Error) => ({ hosts: n, error: e.message })));
    if (!isRoot) result.apiToKernel = { skipped: 'needs root (network namespaces, nftables)' };
    else {
      let t: Awaited<ReturnType<typeof twoHosts>> | undefined;
      try {
        t = await twoHosts();
        result.apiToKernel = await benchApiToKernel(t, o);
      } catch (e) {
        result.apiToKernel = { error: (e as Error).message };
      } finally {
        await t?.box.down();
      }
    }
    return { report: report(result), json: result };
  },
};
