/**
 * Placement: every instance without a host is placed on the host of its zone
 * that has the fewest instances (spreading within the zone). Level-triggered:
 * it runs after commits and on a timer, and places whatever is unplaced —
 * including instances created before any host of their zone existed.
 */
import type { Store } from '../store/store.js';

export interface HostLoad {
  id: string;
  zone: string;
  instances: number;
}

/** Pure: hosts for `zones` (one per instance, in order), least loaded first; undefined where a zone has no host. */
export function choose(hosts: readonly HostLoad[], zones: readonly string[]): (string | undefined)[] {
  const load = new Map(hosts.map((h) => [h.id, h.instances]));
  return zones.map((zone) => {
    const candidates = hosts.filter((h) => h.zone === zone);
    if (!candidates.length) return undefined;
    const best = candidates.reduce((a, b) => (load.get(b.id)! < load.get(a.id)! || (load.get(b.id) === load.get(a.id) && b.id < a.id) ? b : a));
    load.set(best.id, load.get(best.id)! + 1);
    return best.id;
  });
}

export function startScheduler(store: Store, intervalMs = 2000) {
  let running = false;
  let again = false;
  async function placeAll() {
    if (running) return void (again = true);
    running = true;
    try {
      do {
        again = false;
        // Only an instance whose zone has a host can be placed; the others wait (without a write).
        const placeable = await store.db
          .selectFrom('instances')
          .innerJoin('hosts', 'hosts.zone', 'instances.zone')
          .select('instances.id')
          .where('instances.host_id', 'is', null)
          .where('hosts.role', '=', 'host')
          .limit(1)
          .execute();
        if (!placeable.length) continue;
        await store.write(async (w) => {
          const todo = await w.tx.selectFrom('instances').select(['id', 'zone', 'account']).where('host_id', 'is', null).orderBy('created_at').orderBy('id').execute();
          // Gateways carry public traffic, never instances.
          const hosts = await w.tx.selectFrom('hosts').select(['id', 'zone']).where('role', '=', 'host').execute();
          const counts = await w.tx
            .selectFrom('instances')
            .select(['host_id', (eb) => eb.fn.countAll<number>().as('n')])
            .where('host_id', 'is not', null)
            .groupBy('host_id')
            .execute();
          const n = new Map(counts.map((c) => [c.host_id, Number(c.n)]));
          const picks = choose(hosts.map((h) => ({ ...h, instances: n.get(h.id) ?? 0 })), todo.map((t) => t.zone));
          for (const [i, inst] of todo.entries()) {
            const host = picks[i];
            if (!host) continue;
            await w.tx.updateTable('instances').set({ host_id: host, placed_revision: await w.revision() }).where('id', '=', inst.id).execute();
            w.changed(inst.account, 'instance', inst.id, 'update');
          }
        });
      } while (again);
    } catch (e) {
      console.error('scheduler:', e);
    } finally {
      running = false;
    }
  }
  // Only new instances and hosts can make placement possible.
  const unsubscribe = store.onCommit((_, changes) => {
    if (changes.some((c) => (c.kind === 'instance' && c.op === 'create') || c.kind === 'host')) void placeAll();
  });
  const timer = setInterval(() => void placeAll(), intervalMs);
  void placeAll();
  return {
    placeAll,
    stop() {
      unsubscribe();
      clearInterval(timer);
    },
  };
}
