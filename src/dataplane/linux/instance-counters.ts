/**
 * Reads a host's per-instance counters from the kernel (core/instance-counters.ts
 * says what is counted where): the port veths' counters and the counting
 * table `inet weftmon` of each VPC router namespace, which it (re)writes when
 * the ports it counts are not the document's, and each namespace's
 * nf_conntrack_count. The driver neither writes nor reads that table.
 */
import type { HostDocument } from '../../contract/host-document.js';
import type { InstanceCounterReport, InstanceCounterSample } from '../../contract/agent-report.js';
import { countedPorts, eipCounters, eipTableScript, linkStats, monitorTableScript, portDrops, totalsOf, MONITOR_TABLE } from '../../core/instance-counters.js';
import { ipJson, nftApply, nftJson, sysctlRead } from './exec.js';
import { routerNs } from './names.js';

export function linuxCounterReader(prefix: string, hostName: string) {
  return async function read(doc: HostDocument): Promise<InstanceCounterReport> {
    const report: InstanceCounterReport = { instances: [], conntrack: [] };
    if (doc.role === 'gateway') report.eips = await readEips(doc);
    for (const vpc of doc.vpcs) {
      if (!vpc.ports.length) continue;
      const ns = routerNs(prefix, hostName, vpc.vpcId);
      try {
        const ifnames = vpc.ports.map((p) => p.ifname).sort();
        let listing = await nftJson(ns, ['list', 'table', 'inet', MONITOR_TABLE]).catch(() => [] as unknown[]);
        if (countedPorts(listing).join(' ') !== ifnames.join(' ')) {
          await nftApply(ns, monitorTableScript(ifnames));
          listing = await nftJson(ns, ['list', 'table', 'inet', MONITOR_TABLE]);
        }
        const drops = portDrops(listing);
        const links = linkStats(await ipJson(ns, ['-s', 'link', 'show']));
        const at = new Date().toISOString();
        for (const p of vpc.ports) {
          const link = links.get(p.ifname);
          if (!link) continue; // not made yet: the next apply makes it
          report.instances.push({ instanceId: p.instanceId, at, ...totalsOf(link, drops.get(p.ifname)) } satisfies InstanceCounterSample);
        }
        const ct = await sysctlRead(ns, ['net.netfilter.nf_conntrack_count']);
        const entries = Number(ct['net.netfilter.nf_conntrack_count']);
        if (Number.isFinite(entries)) report.conntrack.push({ vpcId: vpc.vpcId, entries });
      } catch {
        // The router namespace is not there yet (or is going): nothing to count in it this round.
      }
    }
    return report;
  };

  /** A gateway node's EIPs, from `ip weftmon` of each VPC router that carries some (rewritten when its EIPs change). */
  async function readEips(doc: HostDocument): Promise<NonNullable<InstanceCounterReport['eips']>> {
    const out: NonNullable<InstanceCounterReport['eips']> = [];
    for (const vpc of doc.vpcs) {
      const ips = (vpc.eips ?? []).map((e) => e.publicIp).sort();
      if (!ips.length) continue;
      const ns = routerNs(prefix, hostName, vpc.vpcId);
      try {
        let listing = await nftJson(ns, ['list', 'table', 'ip', MONITOR_TABLE]).catch(() => [] as unknown[]);
        if ([...eipCounters(listing).keys()].sort().join(' ') !== ips.join(' ')) {
          await nftApply(ns, eipTableScript(vpc.vni, ips));
          listing = await nftJson(ns, ['list', 'table', 'ip', MONITOR_TABLE]);
        }
        const at = new Date().toISOString();
        for (const [publicIp, t] of eipCounters(listing)) out.push({ publicIp, at, ...t });
      } catch {
        // The router namespace is not there yet (or is going).
      }
    }
    return out;
  }
}
