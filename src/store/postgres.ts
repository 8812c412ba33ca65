/**
 * PostgreSQL connections for the store, shaped for few round trips.
 *
 * A write is a handful of short statements, and on a machine that runs the
 * server and PostgreSQL side by side each round trip costs more than the
 * statement: a socket write, a backend wake-up, a reply, an event-loop turn.
 * So:
 *
 * - Connections run in pipeline mode (pg ≥ 8.23): a statement is sent
 *   without waiting for the one before it to be answered. A write sends its
 *   BEGIN with its first statement, and its change-log statement, COMMIT and
 *   durability wait as one batch (store.ts, `pgWrite` below). Statements are
 *   still answered in order, one Sync each, so an error fails its own
 *   statement and, inside a transaction, every later one.
 * - Statements with parameters are named prepared statements: PostgreSQL parses
 *   and plans each distinct text once per connection instead of on every call.
 *   The API issues a few hundred texts over and over; IN-lists of varying length
 *   make more, so only the first `MAX_NAMED` distinct texts get names.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { logger } from '../core/log.js';
import type { DB } from './schema.js';

const MAX_NAMED = 2000;
const names = new Map<string, string>();

/** The name of a statement text, or undefined once the table is full. */
function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (!name && names.size < MAX_NAMED) {
    name = `w${names.size}`;
    names.set(text, name);
  }
  return name;
}

/**
 * A pg client that prepares parameterised statements by name (see above).
 * A prepared `select *` fails once its table gains a column (another
 * replica's migration): PostgreSQL answers "cached plan must not change result
 * type" to every later use of that name on this connection. That statement
 * fails; the client then moves to a new generation of names, which are
 * prepared afresh on their next use.
 */
class PreparingClient extends pg.Client {
  private generation = 0;
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values) && values.length && callback === undefined) {
      const name = statementName(config);
      if (name) {
        const generation = this.generation;
        return (super.query({ name: `${name}g${generation}`, text: config, values }) as Promise<unknown>).catch((e: unknown) => {
          if ((e as { code?: string }).code === '0A000' && this.generation === generation) this.generation++;
          throw e;
        });
      }
    }
    return super.query(config, values, callback);
  }
}

/**
 * The pool. A connection that the server ends (a restart, a failover,
 * pg_terminate_backend) emits 'error' — on the pool when idle, on the client
 * when in use; pg says to handle it, or the process dies of an uncaught error.
 * The pool drops that connection and opens another for the next query, so a
 * warning is all it takes; a query in flight still fails, to its caller.
 */
export function postgresPool(url: string): pg.Pool {
  // A server that is down refuses at once; one that does not answer (a partition) must not hold requests either.
  const pool = new pg.Pool({ connectionString: url, max: 8, Client: PreparingClient, pipeline: true, connectionTimeoutMillis: 3000 } as pg.PoolConfig);
  pool.on('error', (e) => logger('store').warn({ err: e.message }, 'an idle PostgreSQL connection was ended by the server; the next query opens another'));
  // The pool listens to idle connections only; one in use that is ended would otherwise end the process.
  pool.on('connect', (client) => client.on('error', (e) => logger('store').warn({ err: e.message }, 'a PostgreSQL connection in use was ended; its query fails to its caller')));
  return pool;
}

/** A Kysely that runs every query on one checked-out client (a write's transaction), cached per client. */
const bound = new WeakMap<pg.PoolClient, Kysely<DB>>();
export function onClient(client: pg.PoolClient): Kysely<DB> {
  let db = bound.get(client);
  if (!db) {
    // Kysely releases its connection after each query outside its own transactions; this one stays checked out.
    const pinned = { query: client.query.bind(client), release() {} };
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: { connect: async () => pinned, end: async () => {} } as never }) });
    bound.set(client, db);
  }
  return db;
}

/**
 * Sends statements on a pipelined client without waiting for their answers;
 * `settled()` waits for all of them and rethrows the first failure. A failure
 * is caught as it happens (so it is never an unhandled rejection) and kept.
 */
export function sender(client: pg.PoolClient) {
  const sent: Promise<unknown>[] = [];
  let failure: { e: unknown } | undefined;
  return {
    send<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
      const p = (values ? client.query<R>(text, values) : client.query<R>(text)) as Promise<pg.QueryResult<R>>;
      sent.push(p.catch((e: unknown) => void (failure ??= { e })));
      return p;
    },
    async settled(): Promise<void> {
      await Promise.all(sent);
      if (failure) throw failure.e;
    },
  };
}
