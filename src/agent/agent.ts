/**
 * The host agent: long-polls its host's document and hands each one to the
 * reconcile loop (reconcile-loop.ts): one apply in flight, the newest
 * document next; a jittered full audit that repairs drift and reports it;
 * status reports that are sent again until the controller takes them. It
 * keeps no state of its own on disk: a restarted agent fetches the whole
 * document and the driver adopts what the kernel has (its first apply reads
 * everything). While it runs it holds its document, so a controller replica
 * it fails over to resumes it and sends changes as deltas
 * (controller-link.ts).
 */
import type { HostDocument } from '../contract/host-document.js';
import type { LimitUsage } from '../contract/limit-usage.js';
import type { GatewayFlowSample, LbHealthReport } from '../contract/agent-report.js';
import { fetchDocument, sendFlows, sendHealth, sendLimitUsage, sendReport, type LinkOptions } from './controller-link.js';
import { logger } from '../core/log.js';
import type { HealthMonitor } from './health-checks.js';
import { startInstanceCounters, type CounterReader } from './instance-counters.js';
import { createReconcileLoop, type AuditOutcome } from './reconcile-loop.js';

export { formatTimings } from './reconcile-loop.js';

/** Mean time between audits by default: drift is repaired within 15 s in a region in a box (docs/reconcile.md). */
export const DEFAULT_AUDIT_MS = 8000;

export interface Driver {
  /** Makes the data plane match the document; returns how many changes it made (and, optionally, where the time went, in ms). */
  apply(doc: HostDocument): Promise<{ changes: number; timings?: Record<string, number> }>;
  /** Reads the whole data plane back against `doc` (applied before) and repairs what differs; absent, an apply stands in. */
  audit?(doc: HostDocument): Promise<AuditOutcome>;
  /** On a gateway node: what each EIP with a split limit sent since the last call (none elsewhere). */
  limitUsage?(): Promise<LimitUsage[]>;
  /** Takes this node's shares of the EIPs' limits (bit/s), from the controller's re-split of `limits` (each EIP's limit as reported). */
  setLimitShares?(shares: Record<string, number>, limits: Record<string, number>): Promise<void>;
  /** On a gateway node: the flow monitor's counters of the NAT gateways it carries. */
  flowSamples?(): Promise<GatewayFlowSample[]>;
}

export interface AgentOptions extends LinkOptions {
  driver: Driver;
  /** Mean time between full audits (jittered ±25 %); 0: none. */
  auditMs?: number;
  /** The former fixed resync period, now the audit period (auditMs wins). */
  resyncMs?: number;
  /** How often a gateway node reports EIP usage for the limits' re-split (source document 001: every 5 s). */
  limitPeriodMs?: number;
  /** How often a gateway node reports the flow monitor's counters (the API answers per minute). */
  flowPeriodMs?: number;
  /** On an LB node: its health checks, made from the report callback the agent gives (health-checks.ts). */
  health?: (report: (r: LbHealthReport) => void) => HealthMonitor;
  /** The agent's log (default: JSON lines, core/log.ts); `fields` go beside the message. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** NetDetect and underlay probes (probes.ts), started with a reader of the agent's current document. */
  probes?: (document: () => HostDocument | undefined) => { stop(): void };
  /** Reads the host's per-instance kernel counters for /metrics and GetMonitorData (instance-counters.ts). */
  counters?: CounterReader;
  counterPeriodMs?: number;
  /** Flow-log capture (flow-logs.ts): told each applied document, stopped with the agent. */
  flowLogs?: { update(doc: HostDocument): void; stop(): Promise<void> };
}

export function runAgent(o: AgentOptions) {
  const agentLog = logger('agent', { host: o.hostId });
  const log = o.log ?? ((m: string, fields: Record<string, unknown> = {}) => agentLog.info(fields, m));
  let stopped = false;
  let doc: HostDocument | undefined;
  let digest = '';
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

  const loop = createReconcileLoop({
    driver: o.driver,
    send: (r) => sendReport(o, r),
    log,
    // Health checks start once their namespaces exist (a probe process that died comes back here too).
    afterApply: (d) => {
      health?.update(d);
      o.flowLogs?.update(d);
    },
    auditMs: o.auditMs ?? o.resyncMs ?? DEFAULT_AUDIT_MS,
  });

  async function watch() {
    let backoff = 250;
    while (!stopped) {
      try {
        const next = await fetchDocument(o, digest, 25, doc ? { document: doc, digest } : null);
        backoff = 250;
        if (next) {
          doc = next.document;
          digest = next.digest;
          loop.set(doc, digest, next.requestIds);
        }
      } catch (e) {
        if (stopped) break;
        log(`controller unreachable (${e instanceof Error ? e.message : String(e)}); retrying in ${backoff} ms`);
        await new Promise((ok) => setTimeout(ok, backoff));
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

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
  const probes = o.probes?.(() => doc);
  const counters = o.counters && startInstanceCounters(o, o.counters, () => doc, log, o.counterPeriodMs);
  const done = watch();
  return {
    done,
    loop,
    async stop() {
      stopped = true;
      clearInterval(split);
      clearInterval(flows);
      clearInterval(healthResend);
      counters?.stop();
      health?.stop();
      probes?.stop();
      await loop.stop();
      await o.flowLogs?.stop();
    },
  };
}
