/**
 * Controller replicas sharing one store. Each replica has a row in
 * `controllers` holding a lease in the store's clock, renewed every
 * `renewMs`; a replica whose lease has run out is gone (killed, or cut off
 * from the store) and another replica takes its tasks over (task-runner.ts).
 * The store's clock, not the replicas', so replicas on machines whose clocks
 * differ agree on who is alive. PostgreSQL (made highly available by the
 * tools its users already run) is the only shared truth: Weft runs no
 * consensus of its own.
 *
 * A replica's ID is stable across its restarts (kept in its data dir), so a
 * restarted replica recognises the tasks its earlier process left and
 * resumes them at once instead of waiting for its old lease to run out.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type RawBuilder } from 'kysely';
import { logger } from '../core/log.js';
import { newId } from '../core/ids.js';
import type { ControllersTable } from '../store/schema.js';
import type { Engine, Store } from '../store/store.js';

/** How long a replica stays alive without renewing (WEFT_REPLICA_LEASE_MS for failure drills); renewed five times per lease. */
export const LEASE_MS = Number(process.env.WEFT_REPLICA_LEASE_MS) || 10_000;
const RENEW_MS = LEASE_MS / 5;
const log = logger('replicas');

/** The store's clock in ms since the epoch, as SQL. */
export const storeNowMs = (engine: Engine): RawBuilder<number> =>
  engine === 'postgres' ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8` : sql<number>`(unixepoch('subsec') * 1000)`;

/** This data dir's replica ID (`ctl-` and 8 characters), made on first start; `name` sets it instead. */
export function replicaId(dataDir: string, name?: string): string {
  const file = join(dataDir, 'replica-id');
  if (name) {
    writeFileSync(file, name + '\n');
    return name;
  }
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = newId('ctl');
  writeFileSync(file, id + '\n');
  return id;
}

export type Replica = Pick<ControllersTable, 'id' | 'endpoint' | 'agent_endpoint' | 'pid' | 'started_at'> & { alive: boolean };

/** The replicas the store knows, alive or not (`weft status`, DescribeRegionStatus). */
export async function listReplicas(store: Store): Promise<Replica[]> {
  const rows = await store.db
    .selectFrom('controllers')
    .select(['id', 'endpoint', 'agent_endpoint', 'pid', 'started_at', sql<number>`case when lease_until > ${storeNowMs(store.engine)} then 1 else 0 end`.as('alive')])
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, alive: Number(r.alive) === 1 }));
}

/** IDs of the replicas whose lease holds now. */
export async function liveReplicaIds(store: Store): Promise<Set<string>> {
  const rows = await store.db.selectFrom('controllers').select('id').where('lease_until', '>', storeNowMs(store.engine)).execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * Registers this replica and keeps its lease; `onBeat` runs after each
 * renewal (the task runner's adoption pass). A renewal that fails (the store
 * is away) is retried on the next beat.
 */
export async function joinReplicas(
  store: Store,
  me: { id: string; endpoint: string; agentEndpoint?: string },
  o: { leaseMs?: number; renewMs?: number; onBeat?: () => Promise<void> } = {},
) {
  const leaseMs = o.leaseMs ?? LEASE_MS;
  const until = sql<number>`${storeNowMs(store.engine)} + ${leaseMs}`;
  const row = { endpoint: me.endpoint, agent_endpoint: me.agentEndpoint ?? null, pid: process.pid, started_at: new Date().toISOString() };
  // Not a resource: no revision, so replicas coming and going leave the region's revision alone.
  await store.db
    .insertInto('controllers')
    .values({ id: me.id, ...row, lease_until: until })
    .onConflict((c) => c.column('id').doUpdateSet({ ...row, lease_until: until }))
    .execute();
  let stopped = false;
  let beating: Promise<void> = Promise.resolve();
  const beat = async () => {
    try {
      await store.db.updateTable('controllers').set({ lease_until: until }).where('id', '=', me.id).execute();
      await o.onBeat?.();
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not renew this replica\'s lease; retrying');
    }
  };
  const timer = setInterval(() => {
    if (!stopped) beating = beating.then(beat);
  }, o.renewMs ?? RENEW_MS);
  timer.unref();
  return {
    id: me.id,
    /** Runs a beat now (tests, and the first adoption pass at start). */
    beat: () => (beating = beating.then(beat)),
    /** Stops renewing and gives the lease up, so others take over at once. */
    async leave() {
      stopped = true;
      clearInterval(timer);
      await beating;
      await store.db.updateTable('controllers').set({ lease_until: 0 }).where('id', '=', me.id).execute();
    },
    /** Stops renewing but keeps the row as it is (a crash, for tests). */
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
