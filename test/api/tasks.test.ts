import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/api/errors.js';
import { startTask } from '../../src/controller/tasks.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, startRegion, type TestRegion } from '../helpers/region.js';

describe(`DescribeVpcTaskResult through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  before(async () => {
    r = await startRegion();
    // The server's own store, opened beside it: tasks started here are what an asynchronous action would record.
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  it('reports a task of the account as RUNNING, then SUCCESS or FAILED with its output', async () => {
    const vpc = r.vpc();
    let release!: (v: string) => void;
    const ok = await startTask(store, r.admin.Uin, 'CreateNatGateway', randomUUID(), () => new Promise<string>((done) => (release = done)));
    const running = await vpc.DescribeVpcTaskResult({ TaskId: ok.id });
    assert.deepEqual([running.Status, running.Output, running.Result], ['RUNNING', '', []]);
    release('nat-12345678');
    await ok.done;
    const done = await vpc.DescribeVpcTaskResult({ TaskId: ok.id });
    assert.deepEqual([done.Status, done.Output], ['SUCCESS', 'nat-12345678']);
    assert.deepEqual((await vpc.DescribeVpcTaskResult({ TaskId: ok.id.toUpperCase() })).Status, 'SUCCESS', 'ids are case-insensitive UUIDs');

    const bad = await startTask(store, r.admin.Uin, 'CreateNatGateway', randomUUID(), async () => {
      throw new ApiError('ResourceInsufficient', 'No public address left.');
    });
    await bad.done;
    const failed = await vpc.DescribeVpcTaskResult({ TaskId: bad.id });
    assert.deepEqual([failed.Status, failed.Output], ['FAILED', 'ResourceInsufficient: No public address left.']);
  });

  it('answers ResourceNotFound for unknown and foreign tasks, and rejects what is not a task id', async () => {
    const other = await r.newAccount('task-tenant');
    const theirs = await startTask(store, other.Uin, 'CreateNatGateway', randomUUID(), async () => 'theirs');
    await theirs.done;
    const mine = await startTask(store, r.admin.Uin, 'CreateNatGateway', randomUUID(), async () => 'mine');
    await mine.done;
    const vpc = r.vpc();
    const them = r.vpc(other);
    assert.equal((await them.DescribeVpcTaskResult({ TaskId: theirs.id })).Output, 'theirs');

    const cases: [string, () => Promise<unknown>, string][] = [
      ['unknown id', () => vpc.DescribeVpcTaskResult({ TaskId: randomUUID() }), 'ResourceNotFound'],
      ['another account’s task', () => vpc.DescribeVpcTaskResult({ TaskId: theirs.id }), 'ResourceNotFound'],
      ['the other way round', () => them.DescribeVpcTaskResult({ TaskId: mine.id }), 'ResourceNotFound'],
      ['not a UUID', () => vpc.DescribeVpcTaskResult({ TaskId: 'task-1' }), 'InvalidParameterValue'],
      ['empty', () => vpc.DescribeVpcTaskResult({ TaskId: '' }), 'InvalidParameterValue'],
      ['missing', () => vpc.DescribeVpcTaskResult({} as { TaskId: string }), 'MissingParameter'],
    ];
    for (const [name, call, code] of cases) assert.equal(await errorCode(call()), code, name);
  });
});
