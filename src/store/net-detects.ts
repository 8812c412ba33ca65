/**
 * Network detections and probe figures in the store: the SQL the NetDetect
 * actions, the probe report endpoint and the readers for `weft status` and
 * /metrics share. Probe figures are not desired state: the report endpoint
 * writes them outside the revision and the change log. They are bounded by
 * construction: one row per (detection, destination, probing host) and one
 * per ordered host pair, each the latest; a detection's rows go with it.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, NetDetectResultsTable, NetDetectsTable } from './schema.js';
import type { Store } from './store.js';

type Reader = Kysely<DB>;
export type NetDetectRow = Selectable<NetDetectsTable>;
export type NetDetectResultRow = Selectable<NetDetectResultsTable>;

/** Results older than this (the probing host's clock against the controller's) are not a detection's state: that host no longer probes it. */
export const RESULT_FRESH_MS = 60_000;

export async function saveNetDetectResults(db: Reader, hostId: string, rows: readonly Omit<NetDetectResultRow, 'host_id'>[]): Promise<void> {
  if (!rows.length) return;
  await db
    .insertInto('net_detect_results')
    .values(rows.map((r) => ({ ...r, host_id: hostId })))
    .onConflict((oc) =>
      oc.columns(['net_detect_id', 'ip', 'host_id']).doUpdateSet({
        sent: (eb) => eb.ref('excluded.sent'),
        received: (eb) => eb.ref('excluded.received'),
        rtt_ms: (eb) => eb.ref('excluded.rtt_ms'),
        at: (eb) => eb.ref('excluded.at'),
      }),
    )
    .execute();
}

/** The results of these detections, every probing host. */
export async function netDetectResults(db: Reader, ids: readonly string[]): Promise<NetDetectResultRow[]> {
  if (!ids.length) return [];
  return db.selectFrom('net_detect_results').selectAll().where('net_detect_id', 'in', [...ids]).execute();
}

export async function saveUnderlayLinks(db: Reader, fromHost: string, rows: readonly { to_host: string; sent: number; received: number; rtt_ms: number | null; at: string }[]): Promise<void> {
  if (!rows.length) return;
  await db
    .insertInto('underlay_links')
    .values(rows.map((r) => ({ ...r, from_host: fromHost })))
    .onConflict((oc) =>
      oc.columns(['from_host', 'to_host']).doUpdateSet({
        sent: (eb) => eb.ref('excluded.sent'),
        received: (eb) => eb.ref('excluded.received'),
        rtt_ms: (eb) => eb.ref('excluded.rtt_ms'),
        at: (eb) => eb.ref('excluded.at'),
      }),
    )
    .execute();
}

/** One host pair's latest underlay probe: loss as a fraction (0–1), mean round trip (null: nothing answered). */
export interface UnderlayLink {
  from: string;
  to: string;
  lossRate: number;
  rttMs: number | null;
  /** When the probing host measured it (ISO 8601). */
  at: string;
}

/**
 * Underlay full-link monitoring: the latest figures of every host pair that
 * probes (from → to, both host IDs), sorted. For `weft status` and /metrics
 * (metrics.ts underlayGauges).
 */
export async function underlayLinks(store: Pick<Store, 'db'>): Promise<UnderlayLink[]> {
  const rows = await store.db.selectFrom('underlay_links').selectAll().orderBy('from_host').orderBy('to_host').execute();
  return rows.map((r) => ({
    from: r.from_host,
    to: r.to_host,
    lossRate: r.sent > 0 ? (r.sent - Math.min(r.received, r.sent)) / r.sent : 1,
    rttMs: r.rtt_ms === null ? null : Number(r.rtt_ms),
    at: r.at,
  }));
}

/** Removes a detection's figures with it. */
export async function deleteNetDetectResults(db: Reader, id: string): Promise<void> {
  await db.deleteFrom('net_detect_results').where('net_detect_id', '=', id).execute();
}

/** Figures of a host that is gone (no longer in `hosts`): dropped when a report arrives, so nothing grows with churn. */
export async function pruneUnderlayLinks(db: Reader): Promise<void> {
  await sql`delete from underlay_links where from_host not in (select id from hosts) or to_host not in (select id from hosts)`.execute(db);
}
