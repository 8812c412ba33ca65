/**
 * Per-host distribution lag for the metrics: the revision of the document the
 * controller gives each host against the revision its agent reported
 * applied, and how long the host has been behind (since the commit that made
 * its current document, from the change log).
 */
import type { Store } from '../store/store.js';
import type { Distribution } from './distribution.js';
import type { HostLag } from './metrics.js';

export async function hostLag(store: Store, distribution: Pick<Distribution, 'compile'>, now = Date.now()): Promise<HostLag[]> {
  const hosts = await store.db.selectFrom('hosts').select(['id', 'applied_revision']).orderBy('id').execute();
  const docs = await Promise.all(hosts.map((h) => distribution.compile(h.id)));
  const behind = hosts.map((h, i) => ({ host: h.id, compiled: docs[i]?.revision ?? 0, applied: Number(h.applied_revision) }));
  const revisions = [...new Set(behind.filter((b) => b.compiled > b.applied).map((b) => b.compiled))];
  const at = new Map<number, string>();
  if (revisions.length)
    for (const r of await store.db.selectFrom('changes').select(['revision', 'at']).where('revision', 'in', revisions).execute()) at.set(Number(r.revision), r.at);
  return behind.map((b) => {
    const since = b.compiled > b.applied ? Date.parse(at.get(b.compiled) ?? '') : NaN;
    return { ...b, lagSeconds: Number.isFinite(since) ? Math.max(0, (now - since) / 1000) : 0 };
  });
}
