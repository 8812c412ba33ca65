/**
 * The controller's side of distributed EIP limits: gateway nodes report what
 * each EIP sent through them every few seconds (LimitReport); each gets back
 * its share of each EIP's limit, split over the nodes that reported that EIP
 * recently (core/limit-split.ts). Kept in memory: after a controller restart
 * the nodes fall back to an even split until their next reports.
 */
import type { LimitReport, LimitShares } from '../contract/limit-usage.js';
import { splitLimit, type NodeUsage } from '../core/limit-split.js';

/** A node that has not reported an EIP for this long no longer carries it (it failed, or the EIP left). */
const STALE_MS = 15_000;

export function createLimitCoordinator(now = () => Date.now()) {
  const byEip = new Map<string, Map<string, NodeUsage & { at: number }>>();

  /** Records `hostId`'s report and answers its shares. Throws on a malformed report. */
  function report(hostId: string, r: LimitReport): LimitShares {
    if (!r || !Array.isArray(r.eips)) throw new Error('a limit report is { eips: [...] }');
    const t = now();
    const shares: Record<string, number> = {};
    for (const u of r.eips) {
      if (typeof u.publicIp !== 'string' || !Number.isFinite(u.limitBps) || u.limitBps <= 0 || !Number.isFinite(u.bytes) || u.bytes < 0)
        throw new Error(`malformed usage ${JSON.stringify(u)}`);
      const nodes = byEip.get(u.publicIp) ?? new Map();
      byEip.set(u.publicIp, nodes);
      nodes.set(hostId, { node: hostId, bytes: u.bytes, saturated: !!u.saturated, at: t });
      for (const [h, x] of nodes) if (t - x.at > STALE_MS) nodes.delete(h);
      const split = splitLimit(u.limitBps, [...nodes.values()].sort((a, b) => (a.node < b.node ? -1 : 1)));
      shares[u.publicIp] = Math.round(split.get(hostId)!);
    }
    return { shares };
  }
  return { report };
}
