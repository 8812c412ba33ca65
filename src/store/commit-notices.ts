/**
 * Commits of other replicas, as PostgreSQL tells them: every write sends
 * NOTIFY `weft_commits` with its revision once durable (store.ts), and one
 * connection per process LISTENs. The change log stays the source of truth:
 * a notice only says "read the log now" instead of at the next poll, so a
 * notice lost (the listening connection dropped, the server restarted) costs
 * latency, never a change. The connection is reopened after a loss, with a
 * backoff, and a reconnect itself is announced (anything may have been missed).
 */
import pg from 'pg';
import { logger } from '../core/log.js';

export const COMMIT_CHANNEL = 'weft_commits';
const log = logger('store');

export function listenForCommits(url: string, notice: (revision: number | undefined) => void): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 250;
  let timer: NodeJS.Timeout | undefined;

  async function connect() {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('error', (e) => lost(c, e));
    c.on('end', () => lost(c, new Error('the connection ended')));
    c.on('notification', (n) => notice(n.payload ? Number(n.payload) : undefined));
    try {
      await c.connect();
      await c.query(`listen ${COMMIT_CHANNEL}`);
    } catch (e) {
      lost(c, e);
      return;
    }
    if (closed) return void c.end().catch(() => {});
    client = c;
    retryMs = 250;
    notice(undefined); // commits made while nobody listened: read the log
  }

  function lost(c: pg.Client, e: unknown) {
    if (closed || (client && client !== c)) return;
    client = undefined;
    c.removeAllListeners('end');
    c.end().catch(() => {});
    log.warn({ err: e instanceof Error ? e.message : String(e), retryMs }, 'lost the commit notices connection; reconnecting');
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, 5000);
  }

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}
