/**
 * Splitting an EIP's limit over the gateway nodes that carry it, in
 * proportion to what each carried (source document 001: "every 5 s the
 * traffic is summed and the EIP's quota re-split by each box's share").
 * Pure.
 *
 * A node's weight is what it sent, raised by a quarter when it held packets
 * back (it could have sent more: a node whose flows are capped would
 * otherwise never win back share, since it only ever sends its share). Each
 * node keeps a floor of 2 % of an even split, so a node that carried nothing
 * can start at once. The shares always add up to the limit.
 */
export interface NodeUsage {
  node: string;
  bytes: number;
  saturated: boolean;
}

const FLOOR = 0.02;
const SATURATED_BOOST = 1.25;

export function splitLimit(limitBps: number, usage: readonly NodeUsage[]): Map<string, number> {
  const out = new Map<string, number>();
  const n = usage.length;
  if (!n) return out;
  const weights = usage.map((u) => Math.max(0, u.bytes) * (u.saturated ? SATURATED_BOOST : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const floor = (FLOOR * limitBps) / n;
  usage.forEach((u, i) => out.set(u.node, total > 0 ? floor + ((limitBps - n * floor) * weights[i]!) / total : limitBps / n));
  return out;
}
