/**
 * The flow logs a host captures in one VPC's router (docs/operations.md "Flow
 * logs"): each enabled flow log of the VPC that covers one of the host's
 * ports, with those ports' addresses and ENI IDs. Pure; the loader reads the
 * rows (load.ts, store/flow-logs.ts enabledFlowLogs).
 */
import type { FlowLogCapture } from '../contract/flow-logs.js';
import type { Port } from '../contract/host-document.js';

export interface FlowLogSpanRow {
  id: string;
  account: string;
  vpc_id: string;
  resource_type: string;
  resource_id: string;
  traffic_type: string;
}

const byIp = (a: { ip: string }, b: { ip: string }) => {
  const n = (ip: string) => ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  return n(a.ip) - n(b.ip);
};

/**
 * Captures for a VPC's local ports, sorted by flow log ID. `eniOf`: instance
 * ID → ENI ID. A flow log whose resource has no port here (another subnet,
 * an instance elsewhere or gone) is left out: the host has nothing of it.
 */
export function flowLogCaptures(rows: readonly FlowLogSpanRow[], vpcId: string, ports: readonly Port[], eniOf: ReadonlyMap<string, string>): FlowLogCapture[] {
  const out: FlowLogCapture[] = [];
  for (const r of [...rows].filter((x) => x.vpc_id === vpcId).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const covered = ports.filter((p) =>
      r.resource_type === 'VPC' ? true : r.resource_type === 'SUBNET' ? p.subnetId === r.resource_id : eniOf.get(p.instanceId) === r.resource_id,
    );
    if (!covered.length) continue;
    if (r.traffic_type !== 'ACCEPT' && r.traffic_type !== 'REJECT' && r.traffic_type !== 'ALL') continue;
    out.push({
      flowLogId: r.id,
      accountId: r.account,
      trafficType: r.traffic_type,
      interfaces: covered.map((p) => ({ ip: p.ip, eniId: eniOf.get(p.instanceId) ?? '' })).sort(byIp),
    });
  }
  return out;
}
