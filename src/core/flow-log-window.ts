/**
 * Flow-log records of one capture window (docs/operations.md "Flow logs").
 * Pure: the agent's shell (agent/flow-logs.ts) feeds it what the kernel's own
 * tools print — conntrack-tools' entries (`conntrack -L -o id,extended` at the
 * end of the window, `conntrack -E -e DESTROY` during it) for accepted flows,
 * ulogd2's JSON of the NFLOG'd security-group and ACL drops for rejected
 * packets — and gets back one record per direction of a 5-tuple, per covered
 * interface, with the window's packets and bytes.
 *
 * Conntrack counters are totals since the flow began: a window's figures are
 * the difference from the counters the previous window ended with, kept per
 * conntrack ID. A flow that ended during the window is counted from its
 * DESTROY event's final counters.
 */
import type { FlowLogCapture, FlowLogRecord } from '../contract/flow-logs.js';

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** One conntrack entry: its kernel ID, protocol number, and each direction with its counters. */
export interface CtEntry {
  id: string;
  protocol: number;
  orig: Tuple & { packets: number; bytes: number };
  reply: Tuple & { packets: number; bytes: number };
}

/** The counters a window ended with for one entry; `missed`: windows it has been seen in neither list. */
export interface CtCounters {
  op: number;
  ob: number;
  rp: number;
  rb: number;
  missed?: number;
}

/** A packet a security group or ACL dropped, as ulogd2's JSON output plugin prints it. */
export interface DroppedPacket extends Tuple {
  protocol: number;
  bytes: number;
  /** Where it was dropped (the log prefix): `out` at the sender's egress, `in` at the receiver's ingress. */
  side: 'in' | 'out';
}

export type ReportedRecord = FlowLogRecord & { flowLogId: string };

/**
 * One line of `conntrack -L -o id,extended` or `conntrack -E -o id,extended`:
 * `[DESTROY] ipv4 2 tcp 6 117 TIME_WAIT src=… dst=… sport=… dport=… packets=5
 * bytes=10268 src=… … packets=3 bytes=164 [ASSURED] id=2255182359`. The first
 * src/dst/sport/dport/packets/bytes are the original direction, the second the
 * reply; the conntrack ID is the last `id=` (ICMP's echo ID is spelt the same,
 * before it). Undefined for anything else (headers, summaries, IPv6, entries
 * without counters, which accounting off gives).
 */
export function parseConntrackLine(line: string): CtEntry | undefined {
  const tokens = line.trim().split(/\s+/);
  const family = tokens.indexOf('ipv4');
  if (family < 0) return undefined;
  const protocol = Number(tokens[family + 3]);
  if (!Number.isInteger(protocol)) return undefined;
  const dirs: Record<string, string>[] = [{}, {}];
  let id: string | undefined;
  for (const t of tokens.slice(family + 4)) {
    const eq = t.indexOf('=');
    if (eq < 0) continue;
    const k = t.slice(0, eq);
    const v = t.slice(eq + 1);
    if (k === 'id') id = v;
    if (!['src', 'dst', 'sport', 'dport', 'packets', 'bytes'].includes(k)) continue;
    const d = dirs[0]![k] === undefined ? dirs[0]! : dirs[1]!;
    d[k] ??= v;
  }
  const [o, r] = dirs as [Record<string, string>, Record<string, string>];
  if (!id || !o.src || !o.dst || !r.src || !r.dst || o.packets === undefined || r.packets === undefined) return undefined;
  const dir = (d: Record<string, string>) => ({ src: d.src!, dst: d.dst!, sport: Number(d.sport ?? 0), dport: Number(d.dport ?? 0), packets: Number(d.packets), bytes: Number(d.bytes ?? 0) });
  return { id, protocol, orig: dir(o), reply: dir(r) };
}

/** One line of ulogd2's JSON output (NFLOG → BASE → IP2STR → JSON); undefined for anything not an IPv4 packet. */
export function parseUlogdLine(line: string): DroppedPacket | undefined {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const src = j.src_ip;
  const dst = j.dest_ip;
  if (typeof src !== 'string' || typeof dst !== 'string' || src.includes(':')) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const side = j['oob.prefix'] === 'out' ? 'out' : 'in';
  return { src, dst, sport: num(j.src_port), dport: num(j.dest_port), protocol: num(j['ip.protocol']), bytes: num(j['ip.totlen']) || num(j['raw.pktlen']), side };
}

interface Flow extends Tuple {
  protocol: number;
  packets: number;
  bytes: number;
  action: 'ACCEPT' | 'REJECT';
  /** A rejected packet is charged to one port: the sender's (out) or the receiver's (in). */
  side?: 'in' | 'out';
}

const tupleKey = (f: Tuple & { protocol: number }) => `${f.protocol} ${f.src} ${f.sport} ${f.dst} ${f.dport}`;

function add(into: Map<string, Flow>, f: Flow) {
  if (f.packets <= 0 && f.bytes <= 0) return;
  const k = `${f.action} ${f.side ?? ''} ${tupleKey(f)}`;
  const had = into.get(k);
  if (had) {
    had.packets += f.packets;
    had.bytes += f.bytes;
  } else into.set(k, { ...f });
}

export interface WindowInput {
  captures: readonly FlowLogCapture[];
  /** Unix seconds. */
  start: number;
  end: number;
  /** Counters the previous window ended with, by conntrack ID. */
  prev: ReadonlyMap<string, CtCounters>;
  /** Entries that ended during the window (DESTROY events), with their final counters. */
  destroyed: readonly CtEntry[];
  /** The table at the end of the window; undefined when no capture wants accepted flows. */
  live: readonly CtEntry[] | undefined;
  /** Packets dropped by a security group or ACL during the window. */
  rejected: readonly DroppedPacket[];
  /** Some of the window's data was lost (a capture process died, events overflowed): records say SKIPDATA. */
  lossy?: boolean;
}

/** The window's records (sorted), and the counters the next window starts from. */
export function windowRecords(w: WindowInput): { records: ReportedRecord[]; counters: Map<string, CtCounters> } {
  const flows = new Map<string, Flow>();
  const counters = new Map<string, CtCounters>();
  const seen = new Set<string>();
  const delta = (e: CtEntry) => {
    seen.add(e.id);
    const p = w.prev.get(e.id);
    const d = (now: number, before = 0) => Math.max(0, now - before);
    add(flows, { ...e.orig, protocol: e.protocol, packets: d(e.orig.packets, p?.op), bytes: d(e.orig.bytes, p?.ob), action: 'ACCEPT' });
    add(flows, { ...e.reply, protocol: e.protocol, packets: d(e.reply.packets, p?.rp), bytes: d(e.reply.bytes, p?.rb), action: 'ACCEPT' });
  };
  for (const e of w.destroyed) delta(e);
  for (const e of w.live ?? []) {
    if (seen.has(e.id)) continue; // an ID the kernel reused after a DESTROY this window: counted already
    delta(e);
    counters.set(e.id, { op: e.orig.packets, ob: e.orig.bytes, rp: e.reply.packets, rb: e.reply.bytes });
  }
  // An entry in neither list may have ended with its DESTROY event still on its way: keep its base one more window.
  if (w.live) for (const [id, c] of w.prev) if (!seen.has(id) && !c.missed) counters.set(id, { ...c, missed: 1 });
  for (const r of w.rejected) add(flows, { ...r, packets: 1, action: 'REJECT' });
  // An accepted flow is both ends' (two ports of this host may both be covered); a rejected packet, the dropping side's.
  const ends = (f: Flow) => (f.side === 'out' ? [f.src] : f.side === 'in' ? [f.dst] : f.src === f.dst ? [f.src] : [f.src, f.dst]);

  const records: ReportedRecord[] = [];
  const status = w.lossy ? 'SKIPDATA' : 'OK';
  for (const c of w.captures) {
    const eniOf = new Map(c.interfaces.map((i) => [i.ip, i.eniId]));
    for (const f of flows.values()) {
      if (f.action === 'ACCEPT' ? c.trafficType === 'REJECT' : c.trafficType === 'ACCEPT') continue;
      for (const ip of ends(f)) {
        const eni = eniOf.get(ip);
        if (eni === undefined) continue;
        records.push({
          flowLogId: c.flowLogId,
          version: 2,
          'account-id': c.accountId,
          'interface-id': eni,
          srcaddr: f.src,
          dstaddr: f.dst,
          srcport: f.sport,
          dstport: f.dport,
          protocol: f.protocol,
          packets: f.packets,
          bytes: f.bytes,
          start: w.start,
          end: w.end,
          action: f.action,
          'log-status': status,
        });
      }
    }
  }
  records.sort((a, b) => cmp(a.flowLogId, b.flowLogId) || cmp(a['interface-id'], b['interface-id']) || cmp(a.action, b.action) || cmp(tupleKey(rec(a)), tupleKey(rec(b))));
  return { records, counters };
}

const rec = (r: FlowLogRecord) => ({ protocol: r.protocol, src: r.srcaddr, dst: r.dstaddr, sport: r.srcport, dport: r.dstport });
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Which kinds of traffic a set of captures wants. */
export const wants = (captures: readonly FlowLogCapture[]) => ({
  accepted: captures.some((c) => c.trafficType !== 'REJECT'),
  rejected: captures.some((c) => c.trafficType !== 'ACCEPT'),
});
