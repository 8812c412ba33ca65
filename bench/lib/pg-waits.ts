/**
 * Samples what a database's active PostgreSQL backends are waiting for
 * (pg_stat_activity), to tell lock waits from I/O and CPU. Every 20 ms while
 * running; the tally says, per state, how many backend-samples were in it.
 */
import pg from 'pg';

export interface WaitTally {
  samples: number;
  /** "Lock:transactionid", "IO:WALSync", "Client:ClientRead", "running" (no wait event) … → backend-samples. */
  waits: Record<string, number>;
}

export async function sampleWaits(url: string, database: string): Promise<{ stop(): Promise<WaitTally> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const tally: WaitTally = { samples: 0, waits: {} };
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await c.query<{ w: string | null; n: number }>(
        `SELECT wait_event_type || ':' || wait_event AS w, count(*)::int AS n FROM pg_stat_activity
         WHERE datname = $1 AND state = 'active' AND pid <> $2 GROUP BY 1`,
        [database, pid],
      );
      tally.samples++;
      for (const row of r.rows) tally.waits[row.w ?? 'running'] = (tally.waits[row.w ?? 'running'] ?? 0) + row.n;
      await new Promise((ok) => setTimeout(ok, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await c.end();
      return tally;
    },
  };
}
