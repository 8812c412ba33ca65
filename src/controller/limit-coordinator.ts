/**
 * The controller's side of distributed EIP limits: gateway nodes report what
 * each EIP sent through them every few seconds (LimitReport); each gets back
 * its share of each EIP's limit (core/limit-split.ts).
 *
 * Nodes ask at different moments, so a share computed now must not count on
 * another node giving up share it still holds: the coordinator remembers what
 * it granted each node, and a node's new share is at most what the others
 * leave (the limit minus their grants). A node whose share shrinks gets less
 * at once; the others take it up at their next report. The grants never add
 * up to more than the limit. A node of the cluster that has not reported yet
 * holds the even share its document gives it; one that stopped reporting
 * keeps what it was granted (its kernel still enforces it). A new limit
 * starts over from the even split. Kept in memory: after a controller restart
 * the nodes fall back to their documents' even split.
 */
import type { LimitReport, LimitShares } from '../contract/limit-usage.js';
import { splitLimit } from '../core/limit-split.js';

/** A node that has not reported an EIP for this long is left out of the split (it keeps its grant). */
const STALE_MS = 15_000;

interface NodeState {
  bytes: number;
  saturated: boolean;
  at: number;
  granted: number;
}

export function createLimitCoordinator(now = () => Date.now()) {
  const byEip = new Map<string, { limitBps: number; nodes: Map<string, NodeState> }>();

  /** Records `hostId`'s report and answers its shares. Throws on a malformed report. */
  function report(hostId: string, r: LimitReport): LimitShares {
    if (!r || !Array.isArray(r.eips) || !Number.isInteger(r.nodes) || r.nodes < 1) throw new Error('a limit report is { nodes, eips: [...] }');
    for (const u of r.eips)
      if (typeof u.publicIp !== 'string' || !Number.isFinite(u.limitBps) || u.limitBps <= 0 || !Number.isFinite(u.bytes) || u.bytes < 0)
        throw new Error(`malformed usage ${JSON.stringify(u)}`);
    const t = now();
    const shares: Record<string, number> = {};
    for (const u of r.eips) {
      let eip = byEip.get(u.publicIp);
      if (!eip || eip.limitBps !== u.limitBps) byEip.set(u.publicIp, (eip = { limitBps: u.limitBps, nodes: new Map() }));
      const even = u.limitBps / r.nodes;
      const me = eip.nodes.get(hostId) ?? { bytes: 0, saturated: false, at: t, granted: even };
      Object.assign(me, { bytes: u.bytes, saturated: !!u.saturated, at: t });
      eip.nodes.set(hostId, me);
      const fresh = [...eip.nodes].filter(([, x]) => t - x.at <= STALE_MS).sort(([a], [b]) => (a < b ? -1 : 1));
      const stale = [...eip.nodes.values()].filter((x) => t - x.at > STALE_MS);
      const silent = Math.max(0, r.nodes - eip.nodes.size) * even;
      const held = silent + stale.reduce((a, x) => a + x.granted, 0);
      const target = splitLimit(Math.max(0, u.limitBps - held), fresh.map(([node, x]) => ({ node, bytes: x.bytes, saturated: x.saturated }))).get(hostId)!;
      const others = [...eip.nodes].filter(([h]) => h !== hostId).reduce((a, [, x]) => a + x.granted, 0) + silent;
      me.granted = Math.max(0, Math.min(target, u.limitBps - others));
      shares[u.publicIp] = Math.round(me.granted);
    }
    return { shares };
  }
  return { report };
}
