/**
 * The state store: one Kysely schema over SQLite (embedded default, WAL) or
 * PostgreSQL (`postgres://…`). Reads use `db` directly. Every mutation goes
 * through `write()`, one transaction that also takes the next region revision
 * and appends what it changed to the change log.
 *
 * The revision is a single row that each writer increments as the last step
 * before commit (or earlier, when the transaction asks for it). On PostgreSQL
 * the row lock is then held until commit, so revisions are gapless and commit
 * in order: a reader that has seen revision N has seen everything up to N.
 * Taking it last keeps that lock — which serialises all writers — as short as
 * possible; on PostgreSQL the commit does not wait for the WAL flush under the
 * lock, and write() waits for durability after it (see there), so writers'
 * flushes overlap. On SQLite the single connection serialises writers anyway.
 */
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { currentRequestId, logger } from '../core/log.js';
import { migrate } from './migrations.js';
import { COMMIT_CHANNEL, listenForCommits } from './commit-notices.js';
import type { ChangesTable, DB } from './schema.js';

export type Engine = 'sqlite' | 'postgres';
export type Tx = Transaction<DB>;

export interface Change {
  account: string;
  kind: string;
  id: string;
  op: ChangesTable['op'];
  /** The API request that made it, if one did (core/log.ts). */
  requestId?: string;
}

export interface Write {
  readonly tx: Tx;
  /** This transaction's revision; taking it early holds the region-wide writer lock longer. */
  revision(): Promise<number>;
  readonly now: string;
  /** Records a changed resource in the change log of this revision. */
  changed(account: string, kind: string, id: string, op: Change['op']): void;
}

export interface Store {
  readonly db: Kysely<DB>;
  readonly engine: Engine;
  write<T>(fn: (w: Write) => Promise<T>): Promise<T>;
  revision(): Promise<number>;
  /** Calls `fn` with the new revision and what changed after each write this process commits. */
  onCommit(fn: (revision: number, changes: readonly Change[]) => void): () => void;
  /**
   * Calls `fn` when a commit of any process may be in the change log unread
   * (PostgreSQL's NOTIFY; commit-notices.ts), with its revision when known.
   * On SQLite the writers are this process's, which onCommit tells.
   */
  onNotice(fn: (revision: number | undefined) => void): () => void;
  /** Calls `fn` with how long each write() took, commit and durability wait included, and whether it committed (metrics). */
  onWriteTimed(fn: (seconds: number, ok: boolean) => void): () => void;
  close(): Promise<void>;
}

// PostgreSQL returns int8 as a string; revisions and counts fit a double.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * The PostgreSQL connections. A connection that the server ends (a restart,
 * a failover, pg_terminate_backend) emits 'error' — on the pool when idle, on
 * the client when in use; pg says to handle it, or the process dies of an
 * uncaught error. The pool drops that connection and opens another for the
 * next query, so a warning is all it takes; a query in flight still fails,
 * to its caller.
 */
function postgresPool(url: string): pg.Pool {
  // A server that is down refuses at once; one that does not answer (a partition) must not hold requests either.
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 3000 });
  pool.on('error', (e) => logger('store').warn({ err: e.message }, 'an idle PostgreSQL connection was ended by the server; the next query opens another'));
  // A connection in use when the server goes away emits 'error' too, besides failing its query (which its caller
  // hears of): the pool listens only to idle ones, and an unheard 'error' would end the process.
  pool.on('connect', (client) => client.on('error', (e) => logger('store').warn({ err: e.message }, 'a PostgreSQL connection in use was ended; its query fails to its caller')));
  return pool;
}

/**
 * Whether `e` says the store cannot be reached or is going away (connection
 * refused, reset, timed out; PostgreSQL's connection exceptions, shutdown,
 * starting up, too many connections), rather than that a statement is wrong:
 * the API answers ServiceUnavailable and the caller retries.
 */
export function storeUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code) || /^(08|57P0|53300)/.test(code))) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated unexpectedly/.test(message);
}

export async function openStore(url: string): Promise<Store> {
  const engine: Engine = /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
  const db =
    engine === 'postgres'
      ? new Kysely<DB>({ dialect: new PostgresDialect({ pool: postgresPool(url) }) })
      : new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(openSqlite(url)) }) });
  try {
    await migrate(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const listeners = new Set<(revision: number, changes: readonly Change[]) => void>();
  const timers = new Set<(seconds: number, ok: boolean) => void>();
  const notices = new Set<(revision: number | undefined) => void>();
  let listening: { close(): Promise<void> } | undefined;
  const store: Store = {
    db,
    engine,
    async write(fn) {
      let committed = 0;
      const log: Change[] = [];
      const result = await db.transaction().execute(async (tx) => {
        // The revision row lock is held until commit; a synchronous commit holds it through the WAL
        // flush as well, so writers would flush one at a time. Commit without waiting, and wait below.
        if (engine === 'postgres') await sql`set local synchronous_commit = off`.execute(tx);
        let taken: Promise<number> | undefined;
        const revision = () =>
          (taken ??= tx
            .updateTable('meta')
            .set({ revision: sql`revision + 1` })
            .where('id', '=', 1)
            .returning('revision')
            .executeTakeFirstOrThrow()
            .then((r) => r.revision));
        const now = new Date().toISOString();
        const requestId = currentRequestId() ?? '';
        const result = await fn({ tx, revision, now, changed: (account, kind, id, op) => void log.push({ account, kind, id, op, ...(requestId ? { requestId } : {}) }) });
        if (!taken && log.length && engine === 'postgres') {
          // Revision and change log in one statement: the lock then lasts one statement and the commit.
          const values = sql.join(log.map((c) => sql`(${c.account}, ${c.kind}, ${c.id}, ${c.op})`));
          const { rows } = await sql<{ revision: number | string }>`
            with r as (update meta set revision = revision + 1 where id = 1 returning revision)
            insert into changes (revision, account, kind, resource_id, op, at, request_id)
            select r.revision, c.account, c.kind, c.resource_id, c.op, ${now}, ${requestId} from r, (values ${values}) as c(account, kind, resource_id, op)
            returning revision`.execute(tx);
          committed = Number(rows[0]!.revision);
          return result;
        }
        committed = await revision();
        if (log.length)
          await tx
            .insertInto('changes')
            .values(log.map((c) => ({ revision: committed, account: c.account, kind: c.kind, resource_id: c.id, op: c.op, at: now, request_id: requestId })))
            .execute();
        return result;
      });
      // Durable before anyone is told: a synchronous commit that writes a commit record (it takes a
      // transaction ID) returns once the WAL is flushed past it, and so past this write's commit.
      // Concurrent writers' waits share flushes (group commit), outside the lock.
      // The same statement tells the other replicas (commit-notices.ts): one round trip for both.
      if (engine === 'postgres') await sql`select pg_current_xact_id(), pg_notify(${COMMIT_CHANNEL}, ${String(committed)})`.execute(db);
      for (const l of listeners) l(committed, log);
      return result;
    },
    onCommit(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    onNotice(fn) {
      if (engine === 'postgres') listening ??= listenForCommits(url, (r) => notices.forEach((n) => n(r)));
      notices.add(fn);
      return () => void notices.delete(fn);
    },
    onWriteTimed(fn) {
      timers.add(fn);
      return () => void timers.delete(fn);
    },
    async revision() {
      const r = await db.selectFrom('meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
      return r.revision;
    },
    async close() {
      await listening?.close();
      await db.destroy();
    },
  };
  // Every write timed, committed or not (weft_store_write_duration_seconds).
  const untimed = store.write;
  store.write = async (fn) => {
    const t0 = performance.now();
    let ok = false;
    try {
      const result = await untimed(fn);
      ok = true;
      return result;
    } finally {
      for (const t of timers) t((performance.now() - t0) / 1000, ok);
    }
  };
  return store;
}

function openSqlite(path: string): Database.Database {
  const file = path.replace(/^sqlite:(\/\/)?/, '');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const d = new Database(file);
  d.pragma('journal_mode = WAL');
  d.pragma('synchronous = NORMAL'); // durable across process crashes; WAL fsyncs at checkpoints
  d.pragma('foreign_keys = ON');
  d.pragma('busy_timeout = 5000');
  return d;
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and
 * the API issues the same few hundred SQL texts over and over.
 */
function withStatementCache(d: Database.Database) {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => void d.close(),
    prepare(text: string) {
      let st = cache.get(text);
      if (!st) {
        if (cache.size >= 2000) cache.clear(); // IN-lists of varying length make new texts
        st = d.prepare(text);
        cache.set(text, st);
      }
      return st;
    },
  };
}
