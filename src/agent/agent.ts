/**
 * The host agent: a level-triggered reconcile loop. It holds the latest
 * document, applies it through its driver whenever it changes and again every
 * `resyncMs` (repairing drift: a link or rule deleted by hand comes back), and
 * reports the revision it applied. It keeps no state of its own: a restarted
 * agent fetches the whole document and the driver adopts what the kernel has.
 */
import { performance } from 'node:perf_hooks';
import type { HostDocument } from '../contract/host-document.js';
import type { LimitUsage } from '../contract/limit-usage.js';
import type { GatewayFlowSample, LbHealthReport } from '../contract/agent-report.js';
import { fetchDocument, sendFlows, sendHealth, sendLimitUsage, sendReport, type LinkOptions } from './controller-link.js';
import type { HealthMonitor } from './health-checks.js';

export interface Driver {
  /** Makes the data plane match the document; returns how many changes it made (and, optionally, where the time went, in ms). */
  apply(doc: HostDocument): Promise<{ changes: number; timings?: Record<string, number> }>;
  /** On a gateway node: what each EIP with a split limit sent since the last call (none elsewhere). */
  limitUsage?(): Promise<LimitUsage[]>;
  /** Takes this node's shares of the EIPs' limits (bit/s), from the controller's re-split of `limits` (each EIP's limit as reported). */
  setLimitShares?(shares: Record<string, number>, limits: Record<string, number>): Promise<void>;
  /** On a gateway node: the flow monitor's counters of the NAT gateways it carries. */
  flowSamples?(): Promise<GatewayFlowSample[]>;
}

export interface AgentOptions extends LinkOptions {
  driver: Driver;
  resyncMs?: number;
  /** How often a gateway node reports EIP usage for the limits' re-split (source document 001: every 5 s). */
  limitPeriodMs?: number;
  /** How often a gateway node reports the flow monitor's counters (the API answers per minute). */
  flowPeriodMs?: number;
  /** On an LB node: its health checks, made from the report callback the agent gives (health-checks.ts). */
  health?: (report: (r: LbHealthReport) => void) => HealthMonitor;
  log?: (msg: string) => void;
  /** Flow-log capture (flow-logs.ts): told each applied document, stopped with the agent. */
  flowLogs?: { update(doc: HostDocument): void; stop(): Promise<void> };
}

/** `read 12, plan 3, ip 40 ms`: the phases that took any time, slowest first. */
export const formatTimings = (t: Record<string, number>) =>
  Object.entries(t)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, ms]) => `${k} ${ms}`)
    .join(', ') + ' ms';

export function runAgent(o: AgentOptions) {
  const log = o.log ?? ((m: string) => console.log(`[agent ${o.hostId}] ${m}`));
  let stopped = false;
  let doc: HostDocument | undefined;
  let digest = '';
  let applying: Promise<void> = Promise.resolve();
  // Health verdicts go to the controller as they change, and again every 30 s (a lost one is sent again).
  let verdicts: LbHealthReport | undefined;
  const sendVerdicts = () => {
    if (verdicts && !stopped) sendHealth(o, verdicts).catch((e: unknown) => log(`health report failed: ${e instanceof Error ? e.message : String(e)}`));
  };
  const health = o.health?.((r) => {
    verdicts = r;
    sendVerdicts();
  });
  const healthResend = setInterval(sendVerdicts, 30_000);

  const apply = () =>
    (applying = applying.then(async () => {
      if (!doc || stopped) return;
      const current = doc;
      try {
        const t0 = performance.now();
        const { changes, timings } = await o.driver.apply(current);
        const ms = Math.round(performance.now() - t0);
        // A slow no-op is worth a line too: it is what every resync costs.
        if (changes || ms >= 1000) log(`applied revision ${current.revision}: ${changes} change(s) in ${ms} ms${timings ? ` (${formatTimings(timings)})` : ''}`);
        await sendReport(o, { revision: current.revision, ok: true, changes });
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        log(`apply of revision ${current.revision} failed: ${error}`);
        await sendReport(o, { revision: current.revision, ok: false, error }).catch(() => {});
      }
      // Health checks start once their namespaces exist (a probe process that died comes back here too).
      health?.update(current);
      o.flowLogs?.update(current);
    }));

  async function watch() {
    let backoff = 250;
    while (!stopped) {
      try {
        const next = await fetchDocument(o, digest);
        backoff = 250;
        if (next) {
          doc = next.document;
          digest = next.digest;
          await apply();
        }
      } catch (e) {
        if (stopped) break;
        log(`controller unreachable (${e instanceof Error ? e.message : String(e)}); retrying in ${backoff} ms`);
        await new Promise((ok) => setTimeout(ok, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  const resync = setInterval(() => void apply(), o.resyncMs ?? 10_000);
  // Distributed EIP limits: report usage, take the shares back (a failed round keeps the last shares).
  let splitting = false;
  const split = setInterval(() => {
    if (splitting || stopped || !o.driver.limitUsage || !o.driver.setLimitShares) return;
    splitting = true;
    void (async () => {
      const eips = await o.driver.limitUsage!();
      if (!eips.length || !doc) return;
      const { shares } = await sendLimitUsage(o, { nodes: doc.gatewayNodes ?? 1, eips });
      // The limits the shares are of: the document may have changed since the report.
      await o.driver.setLimitShares!(shares, Object.fromEntries(eips.map((e) => [e.publicIp, e.limitBps])));
    })()
      .catch((e: unknown) => log(`limit re-split failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (splitting = false));
  }, o.limitPeriodMs ?? 5000);
  // The flow monitor: the counters of the monitored NAT gateways' addresses (a failed round is lost, the counters are not).
  let reporting = false;
  const flows = setInterval(() => {
    if (reporting || stopped || !o.driver.flowSamples) return;
    reporting = true;
    void (async () => {
      const samples = await o.driver.flowSamples!();
      if (samples.length) await sendFlows(o, { flows: samples });
    })()
      .catch((e: unknown) => log(`flow report failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (reporting = false));
  }, o.flowPeriodMs ?? 15_000);
  const done = watch();
  return {
    done,
    async stop() {
      stopped = true;
      clearInterval(resync);
      clearInterval(split);
      clearInterval(flows);
      clearInterval(healthResend);
      health?.stop();
      await applying;
      await o.flowLogs?.stop();
    },
  };
}
