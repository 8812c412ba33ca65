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

  test('name filters can use a trigram index on PostgreSQL', { skip: engine !== 'postgres' && 'SQLite has no index for a substring LIKE: name filters scan there' }, async () => {
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
});
