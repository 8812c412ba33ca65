/**
 * The clb task runner (controller/lb-task.ts) on a store of its own, SQLite or
 * PostgreSQL: a task waits for every LB node that has reported, fails when one
 * has not applied the change in time (a creating load balancer stays
 * creating), and a later task that succeeds makes it normal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runLbTask } from '../../src/controller/lb-task.js';
import { recordRunningTask } from '../../src/store/tasks.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, freshDatabase } from '../helpers/region.js';

describe(`clb tasks (${engineName()})`, () => {
  let store: Store;
  let dir: string;
  let drop: (() => Promise<void>) | undefined;
  let n = 0;
  const taskId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-lbtask-'));
    const db = await freshDatabase();
    drop = db?.drop;
    store = await openStore(db?.url ?? join(dir, 'weft.db'));
    await store.write(async (w) => {
      await w.tx
        .insertInto('load_balancers')
        .values({ id: 'lb-aaaaaaaa', account: '1', name: 'a', type: 'INTERNAL', vpc_id: 'vpc-aaaaaaaa', subnet_id: 'subnet-aaaaaaaa', vip: '10.0.1.2', status: 0, bandwidth: null, project_id: 0, pass_to_target: 0, delete_protect: 0, task_id: 't', created_at: w.now })
        .execute();
      await w.tx
        .insertInto('hosts')
        .values({ id: 'lbx', zone: 'local-1', underlay: '100.64.2.9', role: 'lb', token_hash: '', applied_revision: 0, reported_at: w.now, report: null, created_at: w.now })
        .execute();
    });
  });
  after(async () => {
    await store?.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const begin = async () => {
    const id = taskId();
    await store.write((w) => recordRunningTask(w, '1', 'CreateListener', id));
    return id;
  };
  const row = async (id: string) => store.db.selectFrom('tasks').select(['status', 'output']).where('id', '=', id).executeTakeFirstOrThrow();
  const status = async () => (await store.db.selectFrom('load_balancers').select('status').where('id', '=', 'lb-aaaaaaaa').executeTakeFirstOrThrow()).status;

  it('fails when an LB node does not apply the change in time, and the load balancer stays creating', async () => {
    const id = await begin();
    assert.equal(await runLbTask(store, { taskId: id, lbIds: ['lb-aaaaaaaa'], timeoutMs: 300 }).done, 'FAILED');
    const t = await row(id);
    assert.match(t.output!, /^FailedOperation: LB node\(s\) lbx did not apply/);
    assert.equal(await status(), 0);
  });

  it('succeeds once every reporting LB node has applied it, making a creating load balancer normal', async () => {
    const id = await begin();
    const task = runLbTask(store, { taskId: id, lbIds: ['lb-aaaaaaaa'], timeoutMs: 10_000 });
    await new Promise((ok) => setTimeout(ok, 300));
    assert.equal((await row(id)).status, 'RUNNING', 'the node has not applied it');
    const rev = await store.revision();
    await store.db.updateTable('hosts').set({ applied_revision: rev }).where('id', '=', 'lbx').execute();
    assert.equal(await task.done, 'SUCCESS');
    assert.equal(await status(), 1);
    const changes = await store.db.selectFrom('changes').select(['kind', 'resource_id']).where('revision', '>', rev).execute();
    assert.deepEqual(changes.map((c) => `${c.kind}:${c.resource_id}`).sort(), ['load_balancer:lb-aaaaaaaa', 'vpc:vpc-aaaaaaaa']);
  });

  it('does not wait for LB nodes whose agent never reported', async () => {
    await store.db.updateTable('hosts').set({ reported_at: null, applied_revision: 0 }).where('id', '=', 'lbx').execute();
    const id = await begin();
    const rev = await store.revision();
    assert.equal(await runLbTask(store, { taskId: id, lbIds: ['lb-aaaaaaaa'], timeoutMs: 300 }).done, 'SUCCESS');
    const changes = await store.db.selectFrom('changes').select('kind').where('revision', '>', rev).execute();
    assert.deepEqual(changes, [], 'a normal load balancer: no change recorded');
  });
});
