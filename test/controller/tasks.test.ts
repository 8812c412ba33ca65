/** The persisted task runner against a real store: SQLite, or PostgreSQL when WEFT_TEST_DATABASE is set. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/api/errors.js';
import { RESTARTED_OUTPUT, runTask, startTask } from '../../src/controller/tasks.js';
import { createTaskRunner } from '../../src/controller/task-runner.js';
import { joinReplicas } from '../../src/controller/replicas.js';
import { recordRunningTask } from '../../src/store/tasks.js';
import { until as waitUntil } from '../helpers/until.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, freshDatabase } from '../helpers/region.js';

/** A fresh, empty database for this file, and how to remove it. */
async function freshStoreUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await freshDatabase();
  if (db) return db;
  const dir = mkdtempSync(join(tmpdir(), 'weft-tasks-'));
  return { url: join(dir, 'weft.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

const none = { resumed: 0, failed: 0 };

const until = (ok: () => Promise<boolean>) => waitUntil('the task', ok, 10_000, 20);

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe(`persisted tasks (${engineName()})`, () => {
  let db: { url: string; drop(): Promise<void> };
  let store: Store;
  before(async () => {
    db = await freshStoreUrl();
    store = await openStore(db.url);
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  const row = (id: string, s = store) => s.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('records RUNNING at once, then SUCCESS with the output of the work', async () => {
    const id = randomUUID();
    const gate = deferred<string>();
    let started = false;
    const t = await startTask(store, '100000000001', 'CreateThing', id, async () => {
      started = true;
      return gate.promise;
    });
    assert.equal(t.id, id);
    assert.equal(started, false, 'the work runs after startTask has returned');
    const running = await row(id);
    assert.deepEqual(
      { account: running.account, action: running.action, status: running.status, output: running.output },
      { account: '100000000001', action: 'CreateThing', status: 'RUNNING', output: null },
    );
    assert.match(running.created_at, /^\d{4}-\d\d-\d\dT/);
    // Still running while the work waits.
    await new Promise((ok) => setTimeout(ok, 20));
    assert.equal(started, true);
    assert.equal((await row(id)).status, 'RUNNING');
    gate.resolve('made thing-1');
    assert.equal(await t.done, 'SUCCESS');
    const done = await row(id);
    assert.deepEqual([done.status, done.output], ['SUCCESS', 'made thing-1']);
  });

  it('records an empty output for work that returns nothing', async () => {
    const t = await startTask(store, '100000000001', 'Noop', randomUUID(), async () => {});
    assert.equal(await t.done, 'SUCCESS');
    assert.deepEqual([(await row(t.id)).status, (await row(t.id)).output], ['SUCCESS', '']);
  });

  it('records FAILED with the Tencent error of the work', async () => {
    const t = await startTask(store, '100000000001', 'CreateThing', randomUUID(), async () => {
      throw new ApiError('ResourceInsufficient', 'No room left in subnet-12345678.');
    });
    assert.equal(await t.done, 'FAILED');
    const r = await row(t.id);
    assert.deepEqual([r.status, r.output], ['FAILED', 'ResourceInsufficient: No room left in subnet-12345678.']);
  });

  it('records an unexpected error as InternalError without leaking its details', async () => {
    const original = console.error;
    console.error = () => {}; // the runner logs the real error; keep the test output clean
    try {
      const t = await startTask(store, '100000000001', 'CreateThing', randomUUID(), async () => {
        throw new Error('connection to 10.9.9.9 refused: secret detail');
      });
      assert.equal(await t.done, 'FAILED');
      const r = await row(t.id);
      assert.equal(r.status, 'FAILED');
      assert.match(r.output!, new RegExp(`^InternalError: .*${t.id}`));
      assert.doesNotMatch(r.output!, /secret detail|10\.9\.9\.9/);
    } finally {
      console.error = original;
    }
  });

  it('refuses a second task under the same RequestId and leaves the first alone', async () => {
    const id = randomUUID();
    const first = await startTask(store, '100000000001', 'A', id, async () => 'first');
    await assert.rejects(startTask(store, '100000000001', 'B', id, async () => 'second'));
    assert.equal(await first.done, 'SUCCESS');
    assert.deepEqual([(await row(id)).action, (await row(id)).output], ['A', 'first']);
  });

  /** An LB node that has reported and is behind: an 'lb' task waits for it until it catches up. */
  async function laggingLbNode(id: string) {
    await store.db
      .insertInto('hosts')
      .values({ id, zone: 'local-1', underlay: '100.64.9.9', role: 'lb', token_hash: 'x', applied_revision: 0, reported_at: new Date().toISOString(), report: null, created_at: new Date().toISOString() })
      .execute();
    return { catchUp: () => store.db.updateTable('hosts').set({ applied_revision: 1e12 }).where('id', '=', id).execute(), remove: () => store.db.deleteFrom('hosts').where('id', '=', id).execute() };
  }
  const recordRunning = (id: string) => store.write((w) => recordRunningTask(w, '100000000002', 'CreateListener', id));

  it('a task whose replica died is resumed by one other replica, and only its ending counts', async () => {
    const node = await laggingLbNode('lb-tasks-1');
    const a = await joinReplicas(store, { id: 'ctl-a', endpoint: '127.0.0.1:1' }, { renewMs: 3_600_000 });
    const b = await joinReplicas(store, { id: 'ctl-b', endpoint: '127.0.0.1:2' }, { renewMs: 3_600_000 });
    const c = await joinReplicas(store, { id: 'ctl-c', endpoint: '127.0.0.1:3' }, { renewMs: 3_600_000 });
    const [runA, runB, runC] = [createTaskRunner(store, 'ctl-a'), createTaskRunner(store, 'ctl-b'), createTaskRunner(store, 'ctl-c')];
    try {
      const id = randomUUID();
      await recordRunning(id);
      const first = runA.run(id, { kind: 'lb', lbIds: [] });
      await until(async () => (await row(id)).owner === 'ctl-a');
      assert.deepEqual(JSON.parse((await row(id)).work!), { kind: 'lb', lbIds: [] }, 'the work is in the row, for whoever resumes it');
      assert.deepEqual([await runB.adopt(), await runC.adopt()], [none, none], "a live replica's task is left alone");

      // ctl-a stops renewing (a crash): once its lease is out, B and C race to adopt; one resumes it.
      a.stop();
      await store.db.updateTable('controllers').set({ lease_until: 0 }).where('id', '=', 'ctl-a').execute();
      const adopted = await Promise.all([runB.adopt(), runC.adopt()]);
      assert.equal(adopted[0].resumed + adopted[1].resumed, 1, 'resumed exactly once');
      const owner = (await row(id)).owner!;
      assert.ok(['ctl-b', 'ctl-c'].includes(owner));
      assert.equal((await row(id)).status, 'RUNNING');

      await node.catchUp();
      await until(async () => (await row(id)).status === 'SUCCESS');
      // ctl-a's process was not dead after all: its work ends too, but the task is no longer its to record.
      await first.done;
      assert.deepEqual([(await row(id)).owner, (await row(id)).status], [owner, 'SUCCESS']);
    } finally {
      a.stop();
      await Promise.all([b.leave(), c.leave()]);
      await node.remove();
    }
  });

  it("a restarted replica resumes its earlier process's tasks at once", async () => {
    const node = await laggingLbNode('lb-tasks-2');
    const id = randomUUID();
    try {
      await recordRunning(id);
      void createTaskRunner(store, 'ctl-r').run(id, { kind: 'lb', lbIds: [] }); // the earlier process, which then dies
      await until(async () => (await row(id)).owner === 'ctl-r');
      const again = createTaskRunner(store, 'ctl-r');
      const r = await joinReplicas(store, { id: 'ctl-r', endpoint: '127.0.0.1:4' }, { renewMs: 3_600_000 });
      try {
        assert.deepEqual(await again.adopt(), { resumed: 1, failed: 0 }, 'its lease is alive (the new process renewed it), the task is still resumed');
        assert.ok(again.running().has(id));
        await node.catchUp();
        await until(async () => (await row(id)).status === 'SUCCESS');
      } finally {
        await r.leave();
      }
    } finally {
      await node.remove();
    }
  });

  it('fails what nobody can resume: no work recorded by a dead replica, or unclaimed past the grace', async () => {
    const runner = createTaskRunner(store, 'ctl-d');
    const noWork = randomUUID();
    await recordRunning(noWork);
    await store.db.updateTable('tasks').set({ owner: 'ctl-gone' }).where('id', '=', noWork).execute();
    const fresh = randomUUID();
    await recordRunning(fresh); // its action's replica is about to claim it
    const stale = randomUUID();
    await recordRunning(stale);
    await store.db.updateTable('tasks').set({ created_at: new Date(Date.now() - 60_000).toISOString() }).where('id', '=', stale).execute();

    assert.deepEqual(await runner.adopt(), { resumed: 0, failed: 2 });
    for (const id of [noWork, stale]) assert.deepEqual([(await row(id)).status, (await row(id)).output], ['FAILED', RESTARTED_OUTPUT]);
    assert.equal(RESTARTED_OUTPUT, 'controller restarted before the task finished');
    assert.deepEqual([(await row(fresh)).status, (await row(fresh)).owner], ['RUNNING', null], 'within the grace it is left for its claim');
    await store.db.updateTable('tasks').set({ status: 'SUCCESS' }).where('id', '=', fresh).execute();
  });

  it('a task another replica has ended stays as that one recorded it', async () => {
    const gate = deferred<string>();
    const id = randomUUID();
    await recordRunning(id);
    await store.db.updateTable('tasks').set({ owner: 'ctl-e' }).where('id', '=', id).execute();
    const t = runTask(store, id, () => gate.promise, 'ctl-e');
    await store.db.updateTable('tasks').set({ owner: 'ctl-f', status: 'FAILED', output: RESTARTED_OUTPUT }).where('id', '=', id).execute();
    gate.resolve('too late');
    assert.equal(await t.done, 'FAILED');
    assert.deepEqual([(await row(id)).status, (await row(id)).output], ['FAILED', RESTARTED_OUTPUT]);
  });
});
