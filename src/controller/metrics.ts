/**
 * The controller's Prometheus metrics (GET /metrics on the API address;
 * docs/operations.md lists them). One prom-client Registry per controller,
 * not the library's global one: tests run several controllers in a process,
 * and each must export only its own figures.
 *
 * Pushed as things happen: API requests (server.ts `observe`), store writes
 * (Store.onWriteTimed), instance counters (instance-counters.ts), drift
 * repairs (`recordDriftRepairs`, for the reconciliation). Read at scrape
 * time (collect callbacks): the revision, each host's compiled and applied
 * revision and lag, agents connected.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Totals } from '../core/instance-counters.js';

export interface HostLag {
  host: string;
  /** Revision of the document the controller gives the host now. */
  compiled: number;
  /** Revision the host's agent last reported applied. */
  applied: number;
  /** Seconds since the compiled document became current, while the host has not applied it; else 0. */
  lagSeconds: number;
}

export interface MetricSources {
  revision(): Promise<number>;
  hostLag(): Promise<HostLag[]>;
  agentsConnected(): number;
}

export type Metrics = ReturnType<typeof createMetrics>;

const INSTANCE_COUNTERS: [keyof Totals, string, string][] = [
  ['inBytes', 'weft_instance_in_bytes_total', 'Bytes the instance received (its port veth, kernel counters)'],
  ['outBytes', 'weft_instance_out_bytes_total', 'Bytes the instance sent'],
  ['inPackets', 'weft_instance_in_packets_total', 'Packets the instance received'],
  ['outPackets', 'weft_instance_out_packets_total', 'Packets the instance sent'],
  ['sgDropPackets', 'weft_instance_sg_drop_packets_total', 'Packets from or to the instance its security groups dropped'],
  ['aclDropPackets', 'weft_instance_acl_drop_packets_total', 'Packets from or to the instance a network ACL dropped'],
];

const EIP_COUNTERS = [
  ['inBytes', 'weft_eip_in_bytes_total', 'Bytes the internet sent to the EIP through the gateway node'],
  ['outBytes', 'weft_eip_out_bytes_total', "Bytes the EIP's instance sent to the internet through the gateway node"],
  ['inPackets', 'weft_eip_in_packets_total', 'Packets to the EIP through the gateway node'],
  ['outPackets', 'weft_eip_out_packets_total', 'Packets from the EIP through the gateway node'],
] as const;

export function createMetrics() {
  const registry = new Registry();
  let sources: MetricSources | undefined;

  const apiRequests = new Counter({ name: 'weft_api_requests_total', help: 'API requests by action and answer (error code, or OK)', labelNames: ['action', 'code'], registers: [registry] });
  const apiLatency = new Histogram({
    name: 'weft_api_request_duration_seconds',
    help: 'API request latency, signature check to answer, by action and answer',
    labelNames: ['action', 'code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const storeWrites = new Histogram({
    name: 'weft_store_write_duration_seconds',
    help: 'Store write transactions, start to durable commit, by outcome (committed or failed)',
    labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'weft_revision',
    help: "The region's current revision (one per committed write)",
    registers: [registry],
    async collect() {
      if (sources) this.set(await sources.revision());
    },
  });
  const lagGauges = {
    compiled: new Gauge({ name: 'weft_host_compiled_revision', help: 'Revision of the document the controller gives the host', labelNames: ['host'], registers: [registry] }),
    applied: new Gauge({ name: 'weft_host_applied_revision', help: "Revision the host's agent reported applied", labelNames: ['host'], registers: [registry] }),
    revisions: new Gauge({ name: 'weft_host_distribution_lag_revisions', help: 'Compiled minus applied revision (0: the host runs its document)', labelNames: ['host'], registers: [registry] }),
    seconds: new Gauge({
      name: 'weft_host_distribution_lag_seconds',
      help: 'Seconds since the host document changed while the host has not applied it (0: up to date)',
      labelNames: ['host'],
      registers: [registry],
    }),
  };
  // One read per scrape fills all four; the first gauge's collect does it.
  const compiledCollect = async () => {
    if (!sources) return;
    const lags = await sources.hostLag();
    for (const g of Object.values(lagGauges)) g.reset();
    for (const l of lags) {
      lagGauges.compiled.set({ host: l.host }, l.compiled);
      lagGauges.applied.set({ host: l.host }, l.applied);
      lagGauges.revisions.set({ host: l.host }, Math.max(0, l.compiled - l.applied));
      lagGauges.seconds.set({ host: l.host }, l.lagSeconds);
    }
  };
  new Gauge({
    name: 'weft_agents_connected',
    help: 'Agents that polled for their document in the last minute',
    registers: [registry],
    collect() {
      if (sources) this.set(sources.agentsConnected());
    },
  });
  const driftRepairs = new Counter({ name: 'weft_drift_repairs_total', help: 'Drift the agents found and repaired, per host', labelNames: ['host'], registers: [registry] });
  const instance = Object.fromEntries(
    INSTANCE_COUNTERS.map(([field, name, help]) => [field, new Counter({ name, help, labelNames: ['instance', 'host'], registers: [registry] })]),
  ) as Record<keyof Totals, Counter<'instance' | 'host'>>;
  const eip = Object.fromEntries(
    EIP_COUNTERS.map(([field, name, help]) => [field, new Counter({ name, help, labelNames: ['eip', 'host'], registers: [registry] })]),
  ) as Record<(typeof EIP_COUNTERS)[number][0], Counter<'eip' | 'host'>>;
  const conntrack = new Gauge({ name: 'weft_conntrack_entries', help: 'Conntrack entries per VPC router namespace (nf_conntrack_count)', labelNames: ['host', 'vpc'], registers: [registry] });

  return {
    registry,
    /** What the scrape-time gauges read; set once the controller has its store and distribution. */
    setSources(s: MetricSources) {
      sources = s;
    },
    observeApi(action: string, code: string, seconds: number) {
      apiRequests.inc({ action, code });
      apiLatency.observe({ action, code }, seconds);
    },
    observeStoreWrite(seconds: number, ok: boolean) {
      storeWrites.observe({ outcome: ok ? 'committed' : 'failed' }, seconds);
    },
    /** For the reconciliation: `n` drifts found and repaired on `host`. */
    recordDriftRepairs(host: string, n: number) {
      if (n > 0) driftRepairs.inc({ host }, n);
    },
    /** What an instance counted since its previous reading. */
    addInstance(instanceId: string, host: string, d: Totals) {
      // Incremented by 0 too: the series exists from the first figures on.
      for (const [field] of INSTANCE_COUNTERS) instance[field].inc({ instance: instanceId, host }, d[field]);
    },
    /** An instance its host no longer reports (deleted, moved): its series go, so deleted instances do not pile up. */
    removeInstance(instanceId: string, host: string) {
      for (const [field] of INSTANCE_COUNTERS) instance[field].remove({ instance: instanceId, host });
    },
    /** What an EIP carried through gateway node `host` since its previous reading. */
    addEip(publicIp: string, host: string, d: Totals) {
      for (const [field] of EIP_COUNTERS) eip[field].inc({ eip: publicIp, host }, d[field]);
    },
    removeEip(publicIp: string, host: string) {
      for (const [field] of EIP_COUNTERS) eip[field].remove({ eip: publicIp, host });
    },
    setConntrack(host: string, vpc: string, entries: number) {
      conntrack.set({ host, vpc }, entries);
    },
    removeConntrack(host: string, vpc: string) {
      conntrack.remove({ host, vpc });
    },
    /** The text exposition (Content-Type in `contentType`). */
    async render(): Promise<string> {
      await compiledCollect();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}
