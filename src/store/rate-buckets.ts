/**
 * The region's request budget per account, as token buckets in the store
 * (api/rate-limit.ts LeasedRateLimiter leases from them), so that the limit
 * holds for the region however many replicas serve it. The store's clock
 * refills them, so replicas whose clocks differ agree. PostgreSQL only: on
 * SQLite one process serves the region and keeps its buckets in memory.
 */
import { sql } from 'kysely';
import { storeNowMs } from '../controller/replicas.js';
import type { Store } from './store.js';

/** Takes up to `want` whole tokens from `account`'s bucket (refilled at `perSecond`, up to `burst`); answers how many it got. */
export async function leaseTokens(store: Store, account: string, want: number, perSecond: number, burst: number): Promise<number> {
  const now = storeNowMs(store.engine);
  for (let attempt = 0; ; attempt++) {
    // One statement: refill to now, take what there is up to `want`, under the row's lock.
    const { rows } = await sql<{ granted: number | string }>`
      with cur as (
        select account, least(${burst}::float8, tokens + greatest(0, ${now} - at) / 1000.0 * ${perSecond}::float8) as avail
        from rate_buckets where account = ${account} for update
      )
      update rate_buckets b set tokens = cur.avail - least(${want}::float8, floor(cur.avail)), at = ${now}
      from cur where b.account = cur.account
      returning least(${want}::float8, floor(cur.avail)) as granted`.execute(store.db);
    if (rows.length) return Number(rows[0]!.granted);
    if (attempt) throw new Error(`the request budget of account ${account} could not be created`);
    // The account's first request in this region: a full bucket.
    await store.db.insertInto('rate_buckets').values({ account, tokens: burst, at: now }).onConflict((c) => c.column('account').doNothing()).execute();
  }
}
