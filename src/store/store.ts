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
import { onClient, postgresPool, sender } from './postgres.js';
import { currentRequestId } from '../core/log.js';
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
   * (PostgreSQL's NOTIFY; commit-notices.ts), with a revision to read past when known.
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
 * Whether `e` says the store cannot be reached or is going away (connection
 * refused, reset, timed out; PostgreSQL's connection exceptions, shutdown,
 * starting up, too many connections), rather than that a statement is wrong:
 * the API answers ServiceUnavailable and the caller retries.
 */
export function storeUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code) || /^(08|57P0|53300)/.test(code))) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}

export async function openStore(url: string): Promise<Store> {
  const engine: Engine = /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
  const pool = engine === 'postgres' ? postgresPool(url) : undefined;
  const db = pool
    ? new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
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
      const { committed, log, result } = pool ? await pgWrite(pool, fn) : await sqliteWrite(db, fn);
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

interface Written<T> {
  committed: number;
  log: Change[];
  result: T;
}

/** The parts of a Write that do not depend on the engine: the clock, and the change log of this request. */
function writeContext(tx: Tx, revision: () => Promise<number>) {
  const log: Change[] = [];
  const now = new Date().toISOString();
  const requestId = currentRequestId() ?? '';
  const w: Write = { tx, revision, now, changed: (account, kind, id, op) => void log.push({ account, kind, id, op, ...(requestId ? { requestId } : {}) }) };
  return { w, log, now, requestId };
}

const takeRevision = (tx: Tx) =>
  tx
    .updateTable('meta')
    .set({ revision: sql`revision + 1` })
    .where('id', '=', 1)
    .returning('revision')
    .executeTakeFirstOrThrow()
    .then((r) => r.revision);

/** SQLite: one connection, so writers are serialised by it and round trips cost nothing. */
async function sqliteWrite<T>(db: Kysely<DB>, fn: (w: Write) => Promise<T>): Promise<Written<T>> {
  let committed = 0;
  let log: Change[] = [];
  const result = await db.transaction().execute(async (tx) => {
    let taken: Promise<number> | undefined;
    const c = writeContext(tx, () => (taken ??= takeRevision(tx)));
    log = c.log;
    const result = await fn(c.w);
    committed = await c.w.revision();
    if (log.length)
      await tx
        .insertInto('changes')
        .values(log.map((x) => ({ revision: committed, account: x.account, kind: x.kind, resource_id: x.id, op: x.op, at: c.now, request_id: c.requestId })))
        .execute();
    return result;
  });
  return { committed, log, result };
}

/**
 * PostgreSQL, on one pipelined connection (postgres.ts), in three phases:
 *
 * 1. BEGIN and `synchronous_commit = off` are sent unanswered, so they travel
 *    with the transaction's first statement.
 * 2. The handler's statements.
 * 3. One batch: the revision and the change log in one statement (`WITH …
 *    UPDATE meta … RETURNING` feeding `INSERT INTO changes`), COMMIT, and the
 *    durability wait. The revision row lock — which serialises all writers —
 *    is then held only while PostgreSQL runs that statement and the commit,
 *    never across a round trip to this process.
 *
 * The commit does not wait for the WAL flush (the lock would be held through
 * it, and writers would flush one at a time). Durable before anyone is told:
 * the batch's last statement runs in its own implicit transaction at the
 * session's synchronous commit, and takes a transaction ID, so it returns once
 * the WAL is flushed past its commit record, and so past this write's.
 * Concurrent writers' waits share flushes (group commit), outside the lock.
 */
async function pgWrite<T>(pool: pg.Pool, fn: (w: Write) => Promise<T>): Promise<Written<T>> {
  const client = await pool.connect();
  const tx = onClient(client) as unknown as Tx;
  const s = sender(client);
  let broken: Error | undefined;
  try {
    s.send('begin');
    s.send('set local synchronous_commit = off');
    let taken: Promise<number> | undefined;
    const c = writeContext(tx, () => (taken ??= takeRevision(tx)));
    let result: T;
    try {
      result = await fn(c.w);
      await s.settled();
    } catch (e) {
      await s.send('rollback').catch((r: unknown) => void (broken = r as Error));
      throw e;
    }
    const { log, now, requestId } = c;
    let revision: Promise<number>;
    if (taken || !log.length) {
      revision = c.w.revision();
      if (log.length) {
        const v = log.map((x) => [x.account, x.kind, x.id, x.op]);
        s.send(
          `insert into changes (revision, account, kind, resource_id, op, at, request_id)
           select $1::bigint, c.account, c.kind, c.resource_id, c.op, $2, $3 from ${valuesList(v.length, 4, 4)} as c(account, kind, resource_id, op)`,
          [await revision, now, requestId, ...v.flat()],
        );
      }
    } else {
      const v = log.map((x) => [x.account, x.kind, x.id, x.op]);
      revision = s
        .send<{ revision: number }>(
          `with r as (update meta set revision = revision + 1 where id = 1 returning revision)
           insert into changes (revision, account, kind, resource_id, op, at, request_id)
           select r.revision, c.account, c.kind, c.resource_id, c.op, $1, $2 from r, ${valuesList(v.length, 4, 3)} as c(account, kind, resource_id, op)
           returning revision`,
          [now, requestId, ...v.flat()],
        )
        .then((r) => Number(r.rows[0]!.revision));
    }
    s.send('commit');
    // Durable, then announced to the other replicas (commit-notices.ts) in the same statement. The payload is the
    // region's revision now, this write's or a later one: a hint to read the change log past it, never a lower one.
    s.send(`select pg_current_xact_id(), pg_notify('${COMMIT_CHANNEL}', (select revision from meta where id = 1)::text)`);
    try {
      await s.settled();
    } catch (e) {
      // A failed statement aborted the transaction; COMMIT then rolled it back. Make sure, and fail.
      await s.send('rollback').catch((r: unknown) => void (broken = r as Error));
      throw e;
    }
    return { committed: await revision, log, result };
  } finally {
    client.release(broken);
  }
}

/** `(values ($k, $k+1, …), …)` for `rows` rows of `columns` parameters, numbered from `first`. */
function valuesList(rows: number, columns: number, first: number): string {
  const out: string[] = [];
  for (let r = 0, n = first; r < rows; r++) {
    const cols: string[] = [];
    for (let c = 0; c < columns; c++) cols.push(`$${n++}`);
    out.push(`(${cols.join(', ')})`);
  }
  return `(values ${out.join(', ')})`;
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
