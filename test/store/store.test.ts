/**
 * The store's write path on the engine under test (SQLite, or PostgreSQL when
 * WEFT_TEST_DATABASE is set): concurrent writers get gapless revisions in
 * commit order, each with its change-log rows, told once to onCommit
 * listeners after commit; a failed write leaves nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { nameContains } from '../../src/api/common.js';
import { openStore, type Store } from '../../src/store/store.js';
import { freshDatabase } from '../helpers/region.js';

const engine = process.env.WEFT_TEST_DATABASE ? 'postgres' : 'sqlite';

describe(`store writes (${engine})`, () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  before(async () => {
    const pgDb = await freshDatabase();
    if (pgDb) {
      store = await openStore(pgDb.url);
      cleanup = () => pgDb.drop();
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'weft-store-'));
      store = await openStore(join(dir, 'weft.db'));
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  after(async () => {
    await store.close();
    await cleanup();
  });

  const changesOf = async () =>
    (await store.db.selectFrom('changes').select(['revision', 'resource_id']).orderBy('revision').orderBy('resource_id').execute()).map(
      (c) => `${c.revision}:${c.resource_id}`,
    );

  test('concurrent writers: gapless revisions, one change-log entry set each, listeners told once', async () => {
    const start = await store.revision();
    const told: number[] = [];
    const stop = store.onCommit((r) => told.push(r));
    const n = 40;
    const revisions = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.write(async (w) => {
          // Half of them take the revision early (the writer holds the lock for its whole transaction).
          const early = i % 2 ? await w.revision() : undefined;
          w.changed('acct', 'vpc', `vpc-${String(i).padStart(3, '0')}`, 'create');
          w.changed('acct', 'subnet', `subnet-${String(i).padStart(3, '0')}`, 'create');
          return { i, early };
        }),
      ),
    );
    stop();
    const after = await store.revision();
    assert.equal(after, start + n, 'one revision per write');
    assert.deepEqual([...told].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => start + i + 1), 'every revision told once');
    const rows = await store.db.selectFrom('changes').select(['revision', 'resource_id']).where('revision', '>', start).execute();
    assert.equal(rows.length, 2 * n, 'two change rows per write');
    const byRevision = new Map<number, string[]>();
    for (const r of rows) byRevision.set(r.revision, [...(byRevision.get(r.revision) ?? []), r.resource_id]);
    assert.equal(byRevision.size, n, 'each write its own revision');
    for (const ids of byRevision.values()) assert.equal(new Set(ids.map((id) => id.slice(-3))).size, 1, 'a revision holds one write’s changes');
    for (const r of revisions) if (r.early !== undefined) assert.ok(byRevision.get(r.early)?.includes(`vpc-${String(r.i).padStart(3, '0')}`), 'the early revision is the one logged');
  });

  test('a failed write leaves no revision and no change behind', async () => {
    const before = { revision: await store.revision(), changes: await changesOf() };
    await assert.rejects(
      store.write(async (w) => {
        w.changed('acct', 'vpc', 'vpc-doomed', 'create');
        await w.tx.insertInto('changes').values({ revision: 0, account: 'acct', kind: 'vpc', resource_id: 'vpc-doomed', op: 'create', at: w.now }).execute();
        throw new Error('refused');
      }),
      /refused/,
    );
    assert.equal(await store.revision(), before.revision);
    assert.deepEqual(await changesOf(), before.changes);
  });

  test('a write with no change still takes a revision', async () => {
    const start = await store.revision();
    await store.write(async () => ({}));
    assert.equal(await store.revision(), start + 1);
  });

  test('outlives pooled connections the server ends (a restart, a failover)', { skip: engine !== 'postgres' && 'SQLite has no server connections' }, async () => {
    // Several connections in the pool, then the server ends every one but the asking one: the idle ones emit
    // 'error' on the pool, which must not be an uncaught error (the process would die), and the next queries work.
    await Promise.all(Array.from({ length: 6 }, () => store.write(async () => ({}))));
    const ended = await sql<{ n: number }>`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(store.db);
    assert.ok(ended.rows[0]!.n >= 1, 'some idle connection was ended');
    await new Promise((ok) => setTimeout(ok, 200));
    const start = await store.revision();
    await Promise.all(Array.from({ length: 4 }, () => store.write(async () => ({}))));
    assert.equal(await store.revision(), start + 4);
  });

  test("a column added while running (another replica's migration) fails a connection's prepared select once, then it works", { skip: engine !== 'postgres' && 'SQLite statements are prepared per process, and its schema changes only at start' }, async () => {
    await sql`create table prep_probe (a text)`.execute(store.db);
    await sql`insert into prep_probe values ('x')`.execute(store.db);
    const read = () => store.db.selectFrom('prep_probe' as never).selectAll().where('a' as never, '=', 'x' as never).execute() as Promise<Record<string, unknown>[]>;
    await Promise.all(Array.from({ length: 8 }, read)); // prepared on the pooled connections
    await sql`alter table prep_probe add column b text`.execute(store.db);
    let failed = 0;
    let last: Record<string, unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      try {
        last = await read();
      } catch (e) {
        assert.equal((e as { code?: string }).code, '0A000', String(e));
        failed++;
      }
    }
    assert.ok(failed <= 8, `${failed} failures: at most one per pooled connection`);
    assert.deepEqual(last, [{ a: 'x', b: null }]);
  });

  test('name filters can use a trigram index on PostgreSQL', { skip: engine !== 'postgres' && 'the SQLite test below checks its FTS5 index' }, async () => {
    const indexes = await sql<{ indexname: string }>`select indexname from pg_indexes where indexname like '%_name_trgm' order by indexname`.execute(store.db);
    assert.deepEqual(indexes.rows.map((r) => r.indexname), ['instances_name_trgm', 'security_groups_name_trgm', 'subnets_name_trgm', 'vpcs_name_trgm']);
    // The filter's own SQL (nameContains) is what the index must serve; without a seq scan to fall back on, the plan shows it.
    const plan = await store.db.transaction().execute(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx);
      const q = tx.selectFrom('vpcs').select('id').where(nameContains('name', 'prod-web')).compile();
      return (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${q.sql.replace(/\$1/, "'%prod-web%'")}`).execute(tx)).rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /Bitmap Index Scan on vpcs_name_trgm/, plan);
  });

  test('name filters use an FTS5 trigram index on SQLite, and find what the scan finds', { skip: engine === 'sqlite' ? false : 'the PostgreSQL test above checks its trigram index' }, async () => {
    const search = { db: store.db, table: 'vpcs' as const };
    const names = ['Prod-Web-1', 'prod-web-22', 'PROD-db', 'staging_web', '50%-off', 'web', 'Ünïcode-wéb', 'a\\b-web'];
    await store.write(async (w) => {
      for (const [i, name] of names.entries())
        await w.tx.insertInto('vpcs').values({ id: `vpc-fts${String(i).padStart(5, '0')}`, account: 'fts', name, cidr: '10.0.0.0/16', is_default: 0, enable_multicast: 0, dns_servers: '[]', domain_name: '', created_at: w.now, vni: 90_000 + i }).execute();
      // Renamed and deleted rows leave the index as the table is.
      await w.tx.updateTable('vpcs').set({ name: 'renamed-web' }).where('id', '=', 'vpc-fts00005').execute();
      await w.tx.deleteFrom('vpcs').where('id', '=', 'vpc-fts00002').execute();
    });
    const found = async (text: string, s?: typeof search) =>
      (await store.db.selectFrom('vpcs').select('id').where('account', '=', 'fts').where(nameContains('name', text, s)).orderBy('id').execute()).map((r) => r.id);
    for (const text of ['web', 'WEB-', 'prod-web', 'renamed', 'db', '50%', '_web', 'a\\b', 'ünï', 'éb', 'nothing'])
      assert.deepEqual(await found(text, search), await found(text), `"${text}" through the index as by the scan`);
    const q = store.db.selectFrom('vpcs').select('id').where(nameContains('name', 'prod-web', search)).compile();
    const rows = (await sql.raw<{ detail: string }>(`explain query plan ${q.sql.replace('?', "'%prod-web%'")}`).execute(store.db)).rows.map((r) => r.detail);
    assert.ok(rows.some((d) => /vpcs_name_fts VIRTUAL TABLE INDEX 0:L/.test(d)), rows.join('\n'));
    await store.db.deleteFrom('vpcs').where('account', '=', 'fts').execute();
  });

  test('a commit is announced to the other processes on the store (PostgreSQL NOTIFY), with its revision', { skip: engine === 'postgres' ? false : 'on SQLite one process writes, and onCommit tells it' }, async () => {
    // Another process's handle on the same database: its own pool and its own listening connection.
    const url = (await store.db.selectNoFrom(sql<string>`current_database()`.as('d')).executeTakeFirstOrThrow()).d;
    const base = new URL(process.env.WEFT_TEST_DATABASE!);
    base.pathname = `/${url}`;
    const replica = await openStore(base.toString());
    try {
      const heard: (number | undefined)[] = [];
      const stop = replica.onNotice((r) => heard.push(r));
      // The listening connection announces itself once connected (anything may have been missed before).
      for (let i = 0; !heard.includes(undefined); i++) {
        assert.ok(i < 200, 'the listening connection connects');
        await new Promise((ok) => setTimeout(ok, 25));
      }
      const revision = await store.write(async (w) => {
        w.changed('acct', 'vpc', 'vpc-notified', 'create');
        return w.revision();
      });
      for (let i = 0; !heard.includes(revision); i++) {
        assert.ok(i < 200, `revision ${revision} announced (heard ${heard.join()})`);
        await new Promise((ok) => setTimeout(ok, 25));
      }
      stop();
    } finally {
      await replica.close();
    }
  });
});
