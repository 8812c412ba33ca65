/**
 * Preloaded into a bench's weft server (`node --import`): counts the
 * PostgreSQL statements the server sends and its round trips, and writes the
 * counts to the file named by WEFT_BENCH_PG_COUNTS every 100 ms.
 *
 * A round trip is a statement sent while no statement of the process is
 * awaiting its answer. So for calls made one at a time, with nothing else
 * going on, round trips per call is the number of times a call waits for
 * PostgreSQL: statements sent together on a pipelined connection (or in
 * parallel on several) count once. The server's own timers (the scheduler's,
 * the change-log poll) add a little; the bench subtracts an idle interval.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';

export interface PgCounts {
  statements: number;
  roundTrips: number;
}

const file = process.env.WEFT_BENCH_PG_COUNTS;
if (file) {
  const counts: PgCounts = { statements: 0, roundTrips: 0 };
  let inFlight = 0;
  const query = pg.Client.prototype.query as (this: pg.Client, ...a: unknown[]) => unknown;
  (pg.Client.prototype as { query: unknown }).query = function (this: pg.Client, ...a: unknown[]) {
    counts.statements++;
    if (inFlight === 0) counts.roundTrips++;
    inFlight++;
    const done = () => void inFlight--;
    const r = query.apply(this, a);
    if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(done, done);
    else done();
    return r;
  };
  setInterval(() => writeFileSync(file, JSON.stringify(counts)), 100).unref();
}
