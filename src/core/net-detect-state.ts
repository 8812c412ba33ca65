/**
 * A NetDetect destination's state in Tencent's terms (NetDetectIpState:
 * State 0 success, -1 no route, -2 outbound ACL drop, -3 inbound ACL drop,
 * -4 other error; Delay in ms; PacketLossRate in %), from two witnesses
 * (docs/operations.md, "NetDetect"):
 *  - the packet tracer's verdict for the subnet's traffic on that path
 *    (what the configuration lets through, and why not);
 *  - the agents' latest probe figures (what the kernel carried).
 * The tracer decides the code when the configuration drops the traffic (the
 * probes leave from the router itself, which filters its own packets with no
 * ACL or security group, so only the tracer can say "ACL"); the probes decide it when the
 * configuration lets it through (a failed node, a cut link: every echo lost
 * is -4). Pure.
 */

/** The tracer's end codes (trace/model.ts EndCode) that are Tencent's -1, -2 and -3. */
const BY_TRACE: Record<string, number> = {
  'no-route': -1,
  blackhole: -1,
  'peering-no-link': -1,
  'tunnel-no-host': -1,
  'tunnel-no-vpc': -1,
  'acl-egress': -2,
  'acl-ingress': -3,
};

export interface TraceWitness {
  reaches: boolean;
  /** trace/model.ts EndCode. */
  code: string;
}

export interface ProbeWitness {
  sent: number;
  received: number;
  /** Mean round trip of the answered echoes. */
  rttMs?: number;
}

export interface IpState {
  State: number;
  /** Absent when no agent measured the path (see `netDetectIpState`). */
  Delay?: number;
  PacketLossRate?: number;
}

/**
 * `trace` absent: nothing to trace from (no running instance in the subnet);
 * `probe` absent: no agent measured it (no host carries the subnet, or no
 * round ran yet). Neither: -4 — nothing can say the path works. Delay is
 * rounded to whole ms (Tencent's type is an integer), at least 1 when any
 * echo came back (sub-millisecond is not 0 ms: 0 is reserved for "none").
 */
export function netDetectIpState(trace: TraceWitness | undefined, probe: ProbeWitness | undefined): IpState {
  if (trace && !trace.reaches) return { State: BY_TRACE[trace.code] ?? -4, Delay: 0, PacketLossRate: 100 };
  if (!probe) return { State: trace ? 0 : -4 };
  const sent = Math.max(probe.sent, 0);
  const received = Math.min(Math.max(probe.received, 0), sent);
  const loss = sent > 0 ? Math.round((100 * (sent - received)) / sent) : 100;
  if (received === 0) return { State: -4, Delay: 0, PacketLossRate: 100 };
  return { State: 0, Delay: Math.max(1, Math.round(probe.rttMs ?? 0)), PacketLossRate: loss };
}

/** Several hosts' figures for one destination, as one: echoes summed, round trip weighted by the answers. */
export function mergeProbes(probes: readonly ProbeWitness[]): ProbeWitness | undefined {
  if (!probes.length) return undefined;
  const sent = probes.reduce((n, p) => n + p.sent, 0);
  const received = probes.reduce((n, p) => n + p.received, 0);
  const answered = probes.filter((p) => p.received > 0 && p.rttMs !== undefined);
  const weight = answered.reduce((n, p) => n + p.received, 0);
  const merged: ProbeWitness = { sent, received };
  if (weight > 0) merged.rttMs = answered.reduce((n, p) => n + p.rttMs! * p.received, 0) / weight;
  return merged;
}
