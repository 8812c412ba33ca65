/**
 * A load balancer's data path on an LB node (docs/load-balancers.md), pure.
 *
 * In each VPC router of the node, `table ip weftlb`:
 *
 *   map listeners { ipv4_addr . inet_proto . inet_service : verdict }   VIP . proto . port → goto the listener's chain
 *   map l_<listener> { slot : ipv4_addr . inet_service }               the listener's Maglev table (core/maglev.ts)
 *   chain prerouting { type nat hook prerouting priority dstnat
 *     ip daddr . meta l4proto . th dport vmap @listeners }
 *   chain <listener> { dnat to jhash(5-tuple) mod <size> map @l_<listener> }
 *
 * The nat hook sees only a flow's first packet: conntrack keeps its backend
 * for the rest (a node that meets a flow mid-stream picks it up loosely and
 * computes the same slot, hence the same backend, as the node it came from).
 * A listener with an empty table matches nothing: the packet reaches the VIP
 * on the router's lo, which refuses it.
 *
 * A 65537-slot map costs ~0.5 s to load and as much to list, so this table is
 * never listed: its digest lives in the comment of a companion table
 * (`ip weftlbd`, replaced in the same transaction), which lists in
 * milliseconds.
 */
import { createHash } from 'node:crypto';
import type { HostDocument, Listener, VpcContext } from '../../contract/host-document.js';
import { parseIp } from '../../core/cidr.js';
import { flowHashExpr, maglevTable } from '../../core/maglev.js';
import { lbHealthSource } from '../../core/region.js';
import type { RouteState } from './state.js';

export const LB_TABLE = 'weftlb';
export const LB_DIGEST_TABLE = 'weftlbd';
/** The VPC router's macvlan on the tunnel, with the node's own MAC: what it sends to the hosts carries it. */
export const LB_LINK = 'lb0';

const mapName = (l: Listener) => `l_${l.listenerId.replace(/-/g, '_')}`;

/** The listener's backends as the Maglev table sees them: weight > 0, not unhealthy. */
export const tableBackends = (l: Listener) => l.targets.filter((t) => t.weight > 0 && t.healthy !== false);

/** Slot → backend of every listener, by listener ID (what the node programs and the tracer reads). */
export function listenerTable(l: Listener): { table: Int32Array; backends: ReturnType<typeof tableBackends> } {
  const backends = tableBackends(l);
  return { table: maglevTable(backends.map((t) => ({ key: `${t.ip}:${t.port}`, weight: t.weight })), l.tableSize), backends };
}

/** The text of table ip weftlb for one VPC's load balancers ('' when it has none). */
export function lbTableText(vpc: VpcContext): string {
  const lbs = vpc.loadBalancers ?? [];
  if (!lbs.length) return '';
  const out = [`table ip ${LB_TABLE} {`];
  const entries: string[] = [];
  const chains: string[] = [];
  for (const lb of lbs) {
    if (parseIp(lb.vip) === undefined) throw new Error(`${lb.loadBalancerId}: invalid VIP ${JSON.stringify(lb.vip)}`);
    for (const l of lb.listeners) {
      if (!/^lbl-[a-z0-9]+$/.test(l.listenerId)) throw new Error(`invalid listener ID ${JSON.stringify(l.listenerId)}`);
      const { table, backends } = listenerTable(l);
      const elems: string[] = [];
      for (let slot = 0; slot < table.length; slot++) {
        const b = table[slot]!;
        if (b >= 0) elems.push(`${slot} : ${backends[b]!.ip} . ${backends[b]!.port}`);
      }
      out.push(`  map ${mapName(l)} {`, `    typeof numgen inc mod 2 : ip daddr . tcp dport`);
      if (elems.length) out.push(`    elements = { ${elems.join(', ')} }`);
      out.push('  }');
      entries.push(`${lb.vip} . ${l.protocol} . ${l.port} : goto ${l.listenerId}`);
      chains.push(`  chain ${l.listenerId} {`, `    meta l4proto ${l.protocol} dnat ip to ${flowHashExpr(l.tableSize)} map @${mapName(l)}`, '  }');
    }
  }
  out.push('  map listeners {', '    type ipv4_addr . inet_proto . inet_service : verdict');
  if (entries.length) out.push(`    elements = { ${entries.join(', ')} }`);
  out.push('  }');
  out.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    ip daddr . meta l4proto . th dport vmap @listeners', '  }');
  out.push(...chains, '}');
  return out.join('\n');
}

export const lbDigest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The `nft -f` lines that make the router's LB tables match (none when they
 * do): both tables replaced in one transaction, or removed.
 */
export function planLbTable(vpc: VpcContext, actualDigest: string | undefined): string[] {
  const text = lbTableText(vpc);
  const want = text ? `weft ${lbDigest(text)}` : undefined;
  if (want === actualDigest) return [];
  const drop = (t: string) => [`table ip ${t}`, `delete table ip ${t}`];
  if (!text) return [...drop(LB_TABLE), ...drop(LB_DIGEST_TABLE)];
  return [...drop(LB_TABLE), ...drop(LB_DIGEST_TABLE), ...text.split('\n'), `table ip ${LB_DIGEST_TABLE} {`, `  comment "${want}"`, '}'];
}

/** Addresses on the LB router's lo: its load balancers' VIPs (a VIP without a listener answers ping, refuses the rest) and this node's health-check source. */
export function lbLocalAddresses(vpc: VpcContext, doc: HostDocument): string[] {
  if (doc.role !== 'lb' || !vpc.loadBalancers) return [];
  return [...vpc.loadBalancers.map((l) => l.vip), ...(doc.lbNode ? [lbHealthSource(doc.lbNode)] : [])].map((ip) => `${ip}/32`);
}

/** Public VIPs the node routes into this VPC's router. */
export const publicVips = (vpc: VpcContext) => (vpc.loadBalancers ?? []).filter((l) => l.public).map((l) => l.vip);

/**
 * The LB node's own namespace: each public VIP as `blackhole VIP/32` in the
 * table BIRD announces from (`announceTable`), so the internet router sends
 * it to every live LB node (ECMP). `ip -batch` lines.
 */
export function planLbAnnouncements(doc: HostDocument, tableRoutes: readonly RouteState[], announceTable: number): string[] {
  const want = new Set(doc.vpcs.flatMap(publicVips).map((ip) => `${ip}/32`));
  const have = tableRoutes.filter((r) => Number(r.table) === announceTable);
  const lines: string[] = [];
  const right = new Set<string>();
  for (const r of have) {
    if (r.type === 'blackhole' && want.has(r.dst) && !(r.metric ?? 0) && !right.has(r.dst)) right.add(r.dst);
    else lines.push(`route del ${r.type === 'unicast' ? '' : `${r.type} `}${r.dst} table ${r.table}${r.metric ? ` metric ${r.metric}` : ''}`);
  }
  for (const dst of want) if (!right.has(dst)) lines.push(`route replace blackhole ${dst} proto static table ${announceTable}`);
  return lines;
}
