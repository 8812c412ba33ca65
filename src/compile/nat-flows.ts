/**
 * A NAT gateway's flow monitor and QoS caps as its gateway document carries
 * them (NatGatewayRules.flowMonitor, .qos): the rows, read once for many
 * gateways (loadNatFlows, in the compiler's snapshot transaction), and the
 * fields made from one gateway's (natFlowRules, pure). A gateway with the
 * monitor off and no caps gets neither field, so its document is the same as
 * before these existed.
 */
import type { Kysely } from 'kysely';
import type { NatGatewayRules } from '../contract/host-document.js';
import { parseIp } from '../core/cidr.js';
import { monitoredGateways, qosOf } from '../store/gateway-flows.js';
import type { DB } from '../store/schema.js';

/** What the store keeps for one gateway's flow control. */
export interface NatFlowRows {
  monitor: boolean;
  qos: { private_ip: string; bandwidth: number }[];
}

/** The flow control rows of these gateways (every one of them is in the map). */
export async function loadNatFlows(db: Kysely<DB>, natIds: readonly string[]): Promise<Map<string, NatFlowRows>> {
  const out = new Map<string, NatFlowRows>(natIds.map((id) => [id, { monitor: false, qos: [] }]));
  const [monitored, qos] = await Promise.all([monitoredGateways(db, natIds), qosOf(db, natIds)]);
  for (const id of monitored) out.get(id)!.monitor = true;
  for (const q of qos) out.get(q.gateway_id)?.qos.push({ private_ip: q.private_ip, bandwidth: q.bandwidth });
  return out;
}

/** The document fields of one gateway's rows: `flowMonitor` when on, `qos` sorted by address when there are caps. */
export function natFlowRules(rows: NatFlowRows | undefined): Pick<NatGatewayRules, 'flowMonitor' | 'qos'> {
  const out: Pick<NatGatewayRules, 'flowMonitor' | 'qos'> = {};
  if (rows?.monitor) out.flowMonitor = true;
  if (rows?.qos.length)
    out.qos = rows.qos
      .map((q) => ({ privateIp: q.private_ip, bandwidthMbps: q.bandwidth }))
      .sort((a, b) => parseIp(a.privateIp)! - parseIp(b.privateIp)!);
  return out;
}
