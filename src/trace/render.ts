/** The tracer's results as text, for the CLI and the API's `Text` fields. Pure. */
import type { EndCode, TraceResult } from './model.js';
import type { ReachMatrix } from './reach.js';
import { describePacket } from './stages/stage.js';
import type { WhatIfResult } from './what-if.js';

function renderOne(r: TraceResult, indent: string): string[] {
  const lines: string[] = [];
  const from = r.source.instanceId ?? (r.source.internet ? `the internet (${r.source.ip})` : `the router of ${r.source.hostId}`);
  const lb = r.loadBalancer;
  const vip = lb && r.direction === 'request' && lb.vip === r.destination.ip ? ` (VIP of ${lb.loadBalancerId})` : '';
  const to = r.destination.instanceId ? `${r.destination.instanceId} (${r.destination.ip})` : `${r.destination.ip}${vip}`;
  const where = r.source.internet ? (r.source.vpcId ? ` (into ${r.source.vpcId})` : '') : ` in ${r.source.vpcId} on ${r.source.hostId}`;
  lines.push(`${indent}${r.direction} ${describePacket(r.packet)}: ${from}${where} → ${to}`);
  if (r.destination.note) lines.push(`${indent}  note: ${r.destination.note}`);
  const stageWidth = Math.max(0, ...r.hops.map((h) => h.stage.length));
  r.hops.forEach((h, i) => {
    lines.push(`${indent}  ${String(i + 1).padStart(2)}. ${h.hostId.padEnd(4)} ${h.stage.padEnd(stageWidth)}  ${h.result.padEnd(7)}  ${h.summary}`);
  });
  // The last hop usually says it all; repeat the reason only when it adds something.
  const said = r.hops.at(-1)?.summary === r.reason;
  lines.push(`${indent}  verdict: ${r.verdict.toUpperCase()} (${r.code})${said ? '' : ` — ${r.reason}`}`);
  if (lb?.action === 'balance' && lb.backend)
    lines.push(
      `${indent}  load balancer: ${lb.loadBalancerId} (VIP ${lb.vip}) on ${lb.lbNode} (node ${lb.node}), listener ${lb.listenerId}: Maglev slot ${lb.slot} of ${lb.tableSize} → backend ${lb.backend.ip}:${lb.backend.port} (${lb.backend.instanceId}), one of ${lb.backends} in the table`,
    );
  return lines;
}

export function renderTrace(r: TraceResult): string {
  const lines = renderOne(r, '');
  if (r.reply) lines.push(...renderOne(r.reply, ''));
  else if (r.replySkipped) lines.push(`reply: ${r.replySkipped}`);
  return lines.join('\n') + '\n';
}

/** One character per verdict code in the matrix. */
export const CELL: Record<EndCode, string> = {
  delivered: '✓',
  loopback: '-',
  'router-address': 'G',
  'anti-spoofing': 'S',
  'no-route': 'R',
  blackhole: 'B',
  'ttl-exceeded': 'T',
  'acl-egress': 'A',
  'acl-ingress': 'a',
  'egress-policy': 'E',
  'egress-default': 'e',
  'ingress-policy': 'I',
  'ingress-default': 'i',
  'tunnel-no-host': 'X',
  'tunnel-no-vpc': 'X',
  'tunnel-mac-mismatch': 'X',
  'peering-no-link': 'P',
  'no-request': '?',
  internet: 'O',
  'no-eip': 'N',
  'snat-no-rule': 'N',
  'dnat-no-rule': 'N',
  'lb-no-listener': 'L',
  'lb-no-backend': 'L',
};
const LEGEND: [string, string][] = [
  ['✓', 'delivered'],
  ['A', 'dropped by the source subnet\'s network ACL (egress)'],
  ['a', 'dropped by the destination subnet\'s network ACL (ingress)'],
  ['E', 'dropped by an egress policy'],
  ['e', 'egress: no policy matched (or no group)'],
  ['I', 'dropped by an ingress policy'],
  ['i', 'ingress: no policy matched (or no group)'],
  ['R', 'no route'],
  ['B', 'blackhole (next hops down)'],
  ['X', 'lost in the tunnel'],
  ['P', 'peering link missing'],
  ['G', 'router address'],
  ['S', 'anti-spoofing'],
  ['T', 'TTL exceeded'],
  ['O', 'out to the internet'],
  ['N', 'no EIP or NAT rule translates it'],
  ['L', 'a VIP without listener or backend: the LB node answers'],
  ['-', 'self'],
];

export function renderMatrix(m: ReachMatrix): string {
  const what = m.protocol === 'icmp' ? 'icmp' : `${m.protocol}/${m.port}`;
  const lines = [`${what} in ${m.vpcId}: ${m.reachable} of ${m.pairs} ordered pairs reachable (row = from, column = to)`];
  if (!m.instances.length) return `${lines[0]}\n(no instance of ${m.vpcId} has a port on a host)\n`;
  const label = (i: number) => `${String(i + 1).padStart(3)} ${m.instances[i]!.instanceId} ${m.instances[i]!.ip.padEnd(15)} ${m.instances[i]!.hostId.padEnd(4)}`;
  const width = label(0).length;
  const col = Math.max(2, String(m.instances.length).length + 1);
  lines.push(`${''.padEnd(width)} ${m.instances.map((_, j) => String(j + 1).padStart(col)).join('')}`);
  m.cells.forEach((row, i) => lines.push(`${label(i)} ${row.map((c) => (CELL[c] ?? '?').padStart(col)).join('')}`));
  const used = new Set(m.cells.flat().map((c) => CELL[c]));
  lines.push(`legend: ${LEGEND.filter(([ch]) => used.has(ch)).map(([ch, s]) => `${ch} ${s}`).join(' · ')}`);
  return lines.join('\n') + '\n';
}

export function renderWhatIf(w: WhatIfResult): string {
  const lines = [
    `what-if ${w.action} on ${w.securityGroupId} (changes ${w.directions.join(' and ') || 'nothing'}; bound to ${w.boundInstances.length} instance(s) with a port)`,
  ];
  for (const d of w.directions) lines.push(`  ${d}: ${w.before[d].length} → ${w.after[d].length} policies`);
  if (w.note) lines.push(`  ${w.note}`);
  const probes = w.probes.map((p) => (p.protocol === 'icmp' ? 'icmp' : `${p.protocol}/${p.port}`)).join(', ');
  lines.push(`checked ${w.flowsChecked} flow(s) (${probes || 'none'}): ${w.changes.length} would change`);
  for (const c of w.changes) {
    const what = c.protocol === 'icmp' ? 'icmp' : `${c.protocol}/${c.port}`;
    lines.push(`  ${c.from} (${c.fromIp}) → ${c.to} (${c.toIp}) ${what}: ${c.before.verdict} → ${c.after.verdict}`);
    lines.push(`      before: ${c.before.reason}`);
    lines.push(`      after:  ${c.after.reason}`);
  }
  return lines.join('\n') + '\n';
}
