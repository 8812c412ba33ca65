/**
 * A stateless network ACL direction (ordered entries, the first match decides,
 * none matching drops) as the set of packets it accepts: non-overlapping
 * boxes of (peer address range × protocol range × destination port range),
 * loaded as the elements of one nft set `ipv4_addr . inet_proto .
 * inet_service` with interval flags, matched by one rule whatever the number
 * of entries. Pure.
 *
 * nft refuses overlapping elements in such a set ("File exists"), so the
 * ordered entries are decomposed first: every entry is a box; addresses and
 * protocols are cut into cells at every box edge (cells never straddle one);
 * in each (address, protocol) cell the port line is painted first-match by
 * the entries holding the cell, in order; and the accepted parts are merged
 * back into as few boxes as the cells allow — ports, then protocols, then
 * addresses. Linear in the cells times the entries that hold them: 1,000
 * entries take milliseconds.
 *
 * A box per entry: protocol all = 0-255 (every port), icmp = 1, tcp = 6, udp =
 * 17; ports only for tcp/udp (an empty list is every port), otherwise
 * 0-65535 — the set is matched with `th dport`, which for other protocols
 * reads bytes that mean nothing, so their boxes span every value.
 */
import type { AclRule } from '../../contract/host-document.js';
import { lastOf, parseCidr } from '../../core/cidr.js';

export type Interval = [number, number];

/** One element: every packet whose peer, protocol and destination port fall in these inclusive ranges. */
export interface AclBox {
  addr: Interval;
  proto: Interval;
  port: Interval;
}

export const PROTOCOL_NUMBERS: Record<AclRule['protocol'], Interval> = { all: [0, 255], icmp: [1, 1], tcp: [6, 6], udp: [17, 17] };
const ALL_PORTS: Interval = [0, 65535];

/** The boxes of one entry (a tcp/udp entry with several port ranges is several boxes). Throws on what cannot be expressed. */
export function entryBoxes(rule: AclRule, where = 'ACL entry'): AclBox[] {
  const c = parseCidr(rule.cidr, false);
  if (!c) throw new Error(`${where}: invalid CIDR ${JSON.stringify(rule.cidr)}`);
  const proto = PROTOCOL_NUMBERS[rule.protocol];
  if (!proto) throw new Error(`${where}: unknown protocol ${JSON.stringify(rule.protocol)}`);
  if (rule.action !== 'accept' && rule.action !== 'drop') throw new Error(`${where}: unknown action ${JSON.stringify(rule.action)}`);
  const addr: Interval = [c.base, lastOf(c)];
  const ported = rule.protocol === 'tcp' || rule.protocol === 'udp';
  const ports = ported && rule.ports.length ? rule.ports : [ALL_PORTS];
  return ports.map(([a, b]) => {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535) throw new Error(`${where}: invalid port range ${a}-${b}`);
    return { addr, proto, port: [lo, hi] as Interval };
  });
}

/** The first-match verdict for one packet: the reference the decomposition is held to. */
export function aclVerdict(rules: AclRule[], peer: number, proto: number, port: number): 'accept' | 'drop' {
  for (const r of rules) {
    const hit = entryBoxes(r).some((b) => inside(b.addr, peer) && inside(b.proto, proto) && inside(b.port, port));
    if (hit) return r.action;
  }
  return 'drop';
}

/** The accepted packets of an ordered entry list, as non-overlapping boxes sorted by address, protocol, port. */
export function aclBoxes(rules: AclRule[]): AclBox[] {
  const entries = rules.map((r, i) => ({ accept: r.action === 'accept', boxes: entryBoxes(r, `ACL entry ${i}`) }));
  const all = entries.flatMap((e) => e.boxes);
  if (!all.length) return [];
  const addrCells = gridOf(all.map((b) => b.addr), [0, 0xffffffff]);
  const protoCells = gridOf(all.map((b) => b.proto), [0, 255]);

  // Per address cell: per protocol cell, the accepted port ranges (adjacent cells merged). Cells never straddle
  // a box edge, so an entry that meets a cell covers it; the ports are then painted first-match, entry by entry.
  type Row = { proto: Interval; ports: Interval[] }[];
  const rows: { addr: Interval; row: Row }[] = [];
  for (const a of addrCells) {
    const here = entries
      .map((e) => ({ accept: e.accept, boxes: e.boxes.filter((b) => covers(b.addr, a)) }))
      .filter((e) => e.boxes.length);
    const row: Row = [];
    for (const p of protoCells) {
      const ports = paintPorts(here.map((e) => ({ accept: e.accept, ports: e.boxes.filter((b) => covers(b.proto, p)).map((b) => b.port) })));
      const last = row[row.length - 1];
      if (last && last.proto[1] + 1 === p[0] && sameIntervals(last.ports, ports)) last.proto = [last.proto[0], p[1]];
      else row.push({ proto: p, ports });
    }
    const kept = row.filter((r) => r.ports.length);
    const last = rows[rows.length - 1];
    if (last && last.addr[1] + 1 === a[0] && sameRow(last.row, kept)) last.addr = [last.addr[0], a[1]];
    else rows.push({ addr: a, row: kept });
  }
  return rows.flatMap(({ addr, row }) => row.flatMap(({ proto, ports }) => ports.map((port) => ({ addr, proto, port }))));
}

/** First match over one dimension: the ports the first entry holding each port accepts, sorted and merged. */
function paintPorts(entries: { accept: boolean; ports: Interval[] }[]): Interval[] {
  let open: Interval[] = [ALL_PORTS];
  const accepted: Interval[] = [];
  for (const e of entries) {
    for (const [lo, hi] of e.ports) {
      const next: Interval[] = [];
      for (const u of open) {
        if (hi < u[0] || lo > u[1]) {
          next.push(u);
          continue;
        }
        if (e.accept) accepted.push([Math.max(lo, u[0]), Math.min(hi, u[1])]);
        if (u[0] < lo) next.push([u[0], lo - 1]);
        if (hi < u[1]) next.push([hi + 1, u[1]]);
      }
      open = next;
    }
    if (!open.length) break;
  }
  return mergeAdjacent(accepted.sort((x, y) => x[0] - y[0]));
}

/** Cuts `span` at the edges of every interval: the cells, in order, covering it exactly. */
function gridOf(intervals: Interval[], span: Interval): Interval[] {
  const cuts = new Set<number>([span[0], span[1] + 1]);
  for (const [lo, hi] of intervals) cuts.add(lo).add(hi + 1);
  const edges = [...cuts].filter((x) => x >= span[0] && x <= span[1] + 1).sort((x, y) => x - y);
  const out: Interval[] = [];
  for (let i = 0; i + 1 < edges.length; i++) out.push([edges[i]!, edges[i + 1]! - 1]);
  return out;
}

function mergeAdjacent(cells: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const c of cells) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === c[0]) last[1] = c[1];
    else out.push([c[0], c[1]]);
  }
  return out;
}

const inside = ([lo, hi]: Interval, x: number) => x >= lo && x <= hi;
const covers = (outer: Interval, inner: Interval) => outer[0] <= inner[0] && inner[1] <= outer[1];
const sameIntervals = (a: Interval[], b: Interval[]) => a.length === b.length && a.every((x, i) => x[0] === b[i]![0] && x[1] === b[i]![1]);
const sameRow = (a: { proto: Interval; ports: Interval[] }[], b: { proto: Interval; ports: Interval[] }[]) =>
  a.length === b.length && a.every((x, i) => sameIntervals([x.proto], [b[i]!.proto]) && sameIntervals(x.ports, b[i]!.ports));

/** An address range as a prefix when it is exactly one, otherwise undefined. */
export function exactPrefix([lo, hi]: Interval): { base: number; len: number } | undefined {
  const size = hi - lo + 1;
  const bits = Math.log2(size);
  if (!Number.isInteger(bits) || lo % size !== 0) return undefined;
  return { base: lo, len: 32 - bits };
}
