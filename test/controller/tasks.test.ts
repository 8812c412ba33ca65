/** The persisted task runner against a real store: SQLite, or PostgreSQL when WEFT_TEST_DATABASE is set. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/api/errors.js';
import { recoverTasks, RESTARTED_OUTPUT, startTask } from '../../src/controller/tasks.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, freshDatabase } from '../helpers/region.js';

/** A fresh, empty database for this file, and how to remove it. */
async function freshStoreUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await freshDatabase();
  if (db) return db;
  const dir = mkdtempSync(join(tmpdir(), 'weft-tasks-'));
  return { url: join(dir, 'weft.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

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

  it('recoverTasks fails what an earlier process left RUNNING, and only that', async () => {
    // "Process 1": its own store, a task that never finishes, then the process is gone.
    const process1 = await openStore(db.url);
    const orphan = randomUUID();
    await startTask(process1, '100000000002', 'Slow', orphan, () => new Promise<string>(() => {}));
    const finished = await startTask(process1, '100000000002', 'Quick', randomUUID(), async () => 'ok');
    assert.equal(await finished.done, 'SUCCESS');
    await process1.close();

    const failedBefore = await startTask(store, '100000000002', 'Bad', randomUUID(), async () => {
      throw new ApiError('InvalidParameterValue', 'nope');
    });
    await failedBefore.done;
    const runningBefore = await store.db.selectFrom('tasks').select('id').where('status', '=', 'RUNNING').execute();
    assert.deepEqual(runningBefore.map((t) => t.id), [orphan]);

    // "Process 2" starts and recovers.
    assert.equal(await recoverTasks(store), 1);
    const o = await row(orphan);
    assert.deepEqual([o.status, o.output], ['FAILED', RESTARTED_OUTPUT]);
    assert.equal(RESTARTED_OUTPUT, 'controller restarted before the task finished');
    assert.deepEqual([(await row(finished.id)).status, (await row(finished.id)).output], ['SUCCESS', 'ok']);
    assert.deepEqual([(await row(failedBefore.id)).status, (await row(failedBefore.id)).output], ['FAILED', 'InvalidParameterValue: nope']);
    assert.equal(await recoverTasks(store), 0, 'nothing left to recover');
  });

  it('a task failed by recovery stays failed even if its work settles later', async () => {
    const gate = deferred<string>();
    const t = await startTask(store, '100000000003', 'Late', randomUUID(), () => gate.promise);
    assert.equal(await recoverTasks(store), 1);
    gate.resolve('too late');
    assert.equal(await t.done, 'FAILED');
    const r = await row(t.id);
    assert.deepEqual([r.status, r.output], ['FAILED', RESTARTED_OUTPUT]);
  });
});
