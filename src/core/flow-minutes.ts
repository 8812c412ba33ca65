/**
 * A gateway node's flow samples as per-minute figures, as pure functions.
 *
 * A node reports cumulative counters per NAT gateway and private address
 * (contract/agent-report.ts GatewayFlowSample). Two consecutive samples of one
 * node give the traffic of the time between them; that difference is spread
 * over the minutes it covers in proportion to the time in each, in whole
 * units whose sum is exactly the difference. A counter lower than before
 * means the node started counting again: what it counts now is all new. The
 * first sample of a node, and one more than MAX_GAP_MS after the one before,
 * only sets the base (nothing says when the traffic in between flowed). A
 * sample no later than the last one kept is a repeat and is dropped.
 * Connections are a gauge: a minute keeps the most seen in it.
 *
 * Summing over nodes is the reader's (the API sums each minute's node rows):
 * a gateway's traffic may move between nodes.
 */

export const MINUTE_MS = 60_000;
/** Beyond this between two samples, the difference is not attributed to any minute. */
export const MAX_GAP_MS = 10 * MINUTE_MS;

/** Cumulative counters of one node for one gateway and private address, read at `at` (epoch ms). */
export interface Counters {
  at: number;
  inBytes: number;
  outBytes: number;
  inPackets: number;
  outPackets: number;
  newConnections: number;
}

export interface Sample extends Counters {
  /** Conntrack entries when read. */
  connections: number;
}

/** One node's figures for the minute starting at `minute` (epoch ms). */
export interface MinuteFigures {
  minute: number;
  inBytes: number;
  outBytes: number;
  inPackets: number;
  outPackets: number;
  newConnections: number;
  /** The most conntrack entries seen in the minute. */
  connections: number;
}

const COUNTERS = ['inBytes', 'outBytes', 'inPackets', 'outPackets', 'newConnections'] as const;

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/**
 * `total` over the time (from, to], split by minute: [minute, amount] in time
 * order, whole amounts summing to `total` exactly.
 */
export function spreadOverMinutes(total: number, from: number, to: number): [number, number][] {
  const span = to - from;
  const out: [number, number][] = [];
  let given = 0;
  for (let m = minuteOf(from); m < to; m += MINUTE_MS) {
    const end = Math.min(to, m + MINUTE_MS);
    // The running share is rounded, not each piece: the pieces then add up to total.
    const upTo = end === to ? total : Math.round(total * ((end - from) / span));
    out.push([m, upTo - given]);
    given = upTo;
  }
  return out;
}

const zero = (minute: number): MinuteFigures => ({ minute, inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, newConnections: 0, connections: 0 });

/**
 * The minutes one node's new samples of one gateway and address add to, and
 * the counters to keep as the base for the next report (undefined only when
 * there was none and no sample came).
 */
export function flowMinutes(last: Counters | undefined, samples: readonly Sample[]): { minutes: MinuteFigures[]; last: Counters | undefined } {
  const byMinute = new Map<number, MinuteFigures>();
  const at = (minute: number) => byMinute.get(minute) ?? byMinute.set(minute, zero(minute)).get(minute)!;
  let base = last;
  for (const s of [...samples].sort((a, b) => a.at - b.at)) {
    if (base && s.at <= base.at) continue;
    const m = at(minuteOf(s.at));
    m.connections = Math.max(m.connections, s.connections);
    if (base && s.at - base.at <= MAX_GAP_MS)
      for (const k of COUNTERS) {
        const delta = s[k] >= base[k] ? s[k] - base[k] : s[k];
        for (const [minute, n] of spreadOverMinutes(delta, base.at, s.at)) at(minute)[k] += n;
      }
    const { connections: _c, ...counters } = s;
    base = counters;
  }
  return { minutes: [...byMinute.values()].sort((a, b) => a.minute - b.minute), last: base };
}
