/**
 * An LB node's health checks (docs/load-balancers.md): what to probe, from
 * the document, and who probes it. On the linux data plane one probe process
 * per VPC router namespace (health-probe.ts, started with `ip netns exec`, so
 * its sockets are the router's: it reaches the VPC's instances over the
 * tunnel from the node's health-check address); on the sim data plane there
 * are no packets, and every target is reported alive.
 *
 * Either way the node reports the whole current state (LbHealthReport) when
 * any verdict changes; the controller decides what leaves the tables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LbHealthReport } from '../contract/agent-report.js';
import type { HealthCheckSpec, HostDocument } from '../contract/host-document.js';
import { lbHealthSource } from '../core/region.js';
import { stableJson } from '../core/stable-json.js';

export interface ProbeSet {
  source: string;
  probes: { listenerId: string; ip: string; port: number; spec: HealthCheckSpec }[];
}

/** Per VPC: what this LB node probes (listeners with health checks on, every registered target). */
export function probeSets(doc: HostDocument): Map<string, ProbeSet> {
  const sets = new Map<string, ProbeSet>();
  if (doc.role !== 'lb' || !doc.lbNode) return sets;
  for (const vpc of doc.vpcs) {
    const probes = (vpc.loadBalancers ?? []).flatMap((lb) =>
      lb.listeners.flatMap((l) => (l.healthCheck ? l.targets.map((t) => ({ listenerId: l.listenerId, ip: t.ip, port: t.port, spec: l.healthCheck! })) : [])),
    );
    if (probes.length) sets.set(vpc.vpcId, { source: lbHealthSource(doc.lbNode), probes });
  }
  return sets;
}

type Status = LbHealthReport['targets'][number];

export interface HealthMonitor {
  /** The document changed: probe what it says. */
  update(doc: HostDocument): void;
  stop(): void;
}

/** Calls `report` with the merged state of every VPC whenever it changes. */
function merger(report: (r: LbHealthReport) => void) {
  const byVpc = new Map<string, Status[]>();
  let last = '';
  return {
    set(vpcId: string, targets: Status[] | undefined) {
      if (targets) byVpc.set(vpcId, targets);
      else byVpc.delete(vpcId);
      const merged = { targets: [...byVpc.values()].flat() };
      const text = stableJson(merged);
      if (text !== last) {
        last = text;
        report(merged);
      }
    },
  };
}

const PROBE = fileURLToPath(new URL('./health-probe.js', import.meta.url));

/**
 * The linux data plane's prober: one long-lived process per VPC router
 * namespace (`nsOf(vpcId)`), fed the VPC's probe set on stdin whenever it
 * changes, its verdict lines read back. A process that dies is started again
 * at the next update (the agent resyncs every few seconds).
 */
export function probeProcesses(nsOf: (vpcId: string) => string, report: (r: LbHealthReport) => void, log: (m: string) => void): HealthMonitor {
  const procs = new Map<string, { child: ChildProcess; sent: string }>();
  const merge = merger(report);
  const start = (vpcId: string) => {
    const child = spawn('ip', ['netns', 'exec', nsOf(vpcId), process.execPath, PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        merge.set(vpcId, (JSON.parse(line) as LbHealthReport).targets);
      } catch {
        log(`health probe of ${vpcId} said something that is not a report: ${line.slice(0, 200)}`);
      }
    });
    child.on('exit', (code) => {
      if (procs.get(vpcId)?.child === child) procs.delete(vpcId);
      if (code) log(`health probe of ${vpcId} exited with ${code}`);
    });
    child.stdin!.on('error', () => undefined); // a probe that died: restarted at the next update
    const p = { child, sent: '' };
    procs.set(vpcId, p);
    return p;
  };
  return {
    update(doc) {
      const sets = probeSets(doc);
      for (const [vpcId, p] of procs)
        if (!sets.has(vpcId)) {
          procs.delete(vpcId);
          p.child.kill();
          merge.set(vpcId, undefined);
        }
      for (const [vpcId, set] of sets) {
        const p = procs.get(vpcId) ?? start(vpcId);
        const line = JSON.stringify(set);
        if (p.sent !== line) {
          p.child.stdin!.write(line + '\n');
          p.sent = line;
        }
      }
    },
    stop() {
      for (const p of procs.values()) p.child.kill();
      procs.clear();
    },
  };
}

/** The sim data plane's: no packets to probe with, so every target of a checked listener is alive. */
export function simHealth(report: (r: LbHealthReport) => void): HealthMonitor {
  const merge = merger(report);
  return {
    update(doc) {
      merge.set('all', [...probeSets(doc).values()].flatMap((s) => s.probes.map(({ listenerId, ip, port }) => ({ listenerId, ip, port, status: 'Alive' as const }))));
    },
    stop() {},
  };
}
