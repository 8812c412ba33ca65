/**
 * A load balancer's data path on an LB node (docs/load-balancers.md), pure.
 *
 * In each VPC router of the node, `table ip weftlb`:
 *
 *   map listeners { ipv4_addr . inet_proto . inet_service : verdict }   VIP . proto . port → goto the listener's chain
 *   map l_<listener> { slot : ipv4_addr . inet_service }               the listener's Maglev table (core/maglev.ts; typeof numgen … : ip daddr . <proto> dport)
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

/** Tables computed lately, by their inputs: an agent plans every few seconds, the inputs rarely change. */
const computed = new Map<string, { table: Int32Array; values: string[] }>();

/**
 * The listener's Maglev table (slot → index into `tableBackends(l)`, -1:
 * none), and per slot the map value the kernel holds (`ip . port`, '' for
 * none). Memoised by its inputs.
 */
export function listenerTable(l: Listener): { table: Int32Array; values: string[] } {
  const backends = tableBackends(l);
  const key = `${l.tableSize} ${backends.map((t) => `${t.ip}:${t.port}*${t.weight}`).join(',')}`;
  let hit = computed.get(key);
  if (!hit) {
    const table = maglevTable(backends.map((t) => ({ key: `${t.ip}:${t.port}`, weight: t.weight })), l.tableSize);
    const names = backends.map((t) => `${t.ip} . ${t.port}`);
    hit = { table, values: Array.from(table, (b) => (b >= 0 ? names[b]! : '')) };
    if (computed.size >= 256) computed.delete(computed.keys().next().value!);
    computed.set(key, hit);
  }
  return hit;
}

/** What the kernel holds for one VPC's load balancers, as the node applied it (kept by the driver between applies). */
export interface LbApplied {
  /** The digest in weftlbd's comment. */
  digest: string;
  /** Everything but the maps' contents: when it is unchanged, maps are updated slot by slot. */
  shape: string;
  /** Per map: the value of each slot. */
  maps: Map<string, string[]>;
}

const wanted = new Map<string, { text: string; applied: LbApplied }>();

/** The tables for one VPC: text, digest, and what the node holds once it is loaded. Undefined without load balancers. Memoised by the VPC's load balancers. */
export function lbWant(vpc: VpcContext): { text: string; applied: LbApplied } | undefined {
  const lbs = vpc.loadBalancers ?? [];
  if (!lbs.length) return undefined;
  const key = JSON.stringify(lbs);
  const known = wanted.get(key);
  if (known) return known;
  const want = buildWant(lbs);
  if (wanted.size >= 64) wanted.delete(wanted.keys().next().value!);
  wanted.set(key, want);
  return want;
}

function buildWant(lbs: NonNullable<VpcContext['loadBalancers']>): { text: string; applied: LbApplied } {
  const shape = [`table ip ${LB_TABLE} {`];
  const maps = new Map<string, string[]>();
  const entries: string[] = [];
  const chains: string[] = [];
  for (const lb of lbs) {
    if (parseIp(lb.vip) === undefined) throw new Error(`${lb.loadBalancerId}: invalid VIP ${JSON.stringify(lb.vip)}`);
    for (const l of lb.listeners) {
      if (!/^lbl-[a-z0-9]+$/.test(l.listenerId)) throw new Error(`invalid listener ID ${JSON.stringify(l.listenerId)}`);
      maps.set(mapName(l), listenerTable(l).values);
      shape.push(`  map ${mapName(l)} {`, `    typeof numgen inc mod 2 : ip daddr . ${l.protocol} dport`, '  }'); // the data's port type must agree with the chain's protocol
      entries.push(`${lb.vip} . ${l.protocol} . ${l.port} : goto ${l.listenerId}`);
      chains.push(`  chain ${l.listenerId} {`, `    meta l4proto ${l.protocol} dnat ip to ${flowHashExpr(l.tableSize)} map @${mapName(l)}`, '  }');
    }
  }
  shape.push('  map listeners {', '    type ipv4_addr . inet_proto . inet_service : verdict');
  if (entries.length) shape.push(`    elements = { ${entries.join(', ')} }`);
  shape.push('  }');
  shape.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    ip daddr . meta l4proto . th dport vmap @listeners', '  }');
  shape.push(...chains, '}');
  const shapeText = shape.join('\n');
  const hash = createHash('sha256').update(shapeText);
  for (const [name, values] of maps) hash.update(`\n${name} ${values.join(',')}`);
  const applied: LbApplied = { digest: `weft ${hash.digest('hex').slice(0, 16)}`, shape: shapeText, maps };
  const fills = [...maps].flatMap(([name, values]) => elementLines('add', name, values.flatMap((v, slot) => (v ? [`${slot} : ${v}`] : []))));
  return { text: [shapeText, ...fills].join('\n'), applied };
}

/** `add|delete element` lines for a map, in batches (one line of 65537 elements is fine for nft, but not for a reader). */
function elementLines(op: 'add' | 'delete', map: string, elements: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elements.length; i += 4096) out.push(`${op} element ip ${LB_TABLE} ${map} { ${elements.slice(i, i + 4096).join(', ')} }`);
  return out;
}

const digestTable = (digest: string) => [`table ip ${LB_DIGEST_TABLE} {`, `  comment "${digest}"`, '}'];
const drop = (t: string) => [`table ip ${t}`, `delete table ip ${t}`];

/**
 * The `nft -f` lines that make the router's LB tables match (none when they
 * do), in one transaction. When the kernel holds what this node last applied
 * (`applied`, its digest the kernel's) and only the maps' contents differ,
 * only the slots that changed are rewritten — a backend change moves about
 * 1/N of the slots (core/maglev.ts) and takes milliseconds, not the ~0.5 s of
 * loading a 65537-slot map; otherwise both tables are replaced.
 */
export function planLbTable(vpc: VpcContext, actualDigest: string | undefined, applied?: LbApplied): string[] {
  const want = lbWant(vpc);
  if (want?.applied.digest === actualDigest) return [];
  if (!want) return actualDigest === undefined ? [] : [...drop(LB_TABLE), ...drop(LB_DIGEST_TABLE)];
  if (applied && applied.digest === actualDigest && applied.shape === want.applied.shape) {
    const lines: string[] = [];
    for (const [name, values] of want.applied.maps) {
      const old = applied.maps.get(name)!;
      const gone: string[] = [];
      const added: string[] = [];
      for (let slot = 0; slot < values.length; slot++) {
        if (old[slot] === values[slot]) continue;
        if (old[slot]) gone.push(String(slot));
        if (values[slot]) added.push(`${slot} : ${values[slot]}`);
      }
      lines.push(...elementLines('delete', name, gone), ...elementLines('add', name, added));
    }
    return [...lines, ...drop(LB_DIGEST_TABLE), ...digestTable(want.applied.digest)];
  }
  return [...drop(LB_TABLE), ...drop(LB_DIGEST_TABLE), ...want.text.split('\n'), ...digestTable(want.applied.digest)];
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
