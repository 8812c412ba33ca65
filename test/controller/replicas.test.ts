/**
 * Controller replicas on one PostgreSQL (issue 13 items 1 and 7): two
 * `weft server` processes with the region's master key serve the same
 * region. Read-your-writes across them, ClientToken idempotency across them,
 * a replica killed (SIGKILL) in the middle of a burst of writes with the
 * failed requests retried on the other (exact counts, no duplicates), a task
 * taken over after its owner dies, and the request budget held for the region.
 * PostgreSQL only: replicas share it, and SQLite serves one process.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import type { CredentialsFile as Creds } from '../../src/controller/controller.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, freshDatabase, spawnServer } from '../helpers/region.js';
import { until as waitUntil } from '../helpers/until.js';

const skip = engineName() === 'postgres' ? false : 'controller replicas share a PostgreSQL database (SQLite serves one process); this file runs in the PostgreSQL pass';
const LEASE_MS = 1500;

/** The waits here are for failovers: poll often. */
const until = <T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000) => waitUntil(what, f, ms, 50);

describe(`controller replicas (${engineName()})`, { skip }, () => {
  const key = randomBytes(32).toString('base64');
  const dirs: string[] = [];
  const procs = new Map<string, ChildProcess>();
  const endpoints = new Map<string, string>();
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let store: Store;
  let creds: Creds;

  /** Starts replica `name` (again, on its own data dir and port once it has them). */
  async function replica(name: string, extra: string[] = []) {
    const dir = join(tmpdir(), `weft-replica-${process.pid}-${name}`);
    if (!dirs.includes(dir)) dirs.push(dir);
    const listen = endpoints.get(name) ?? '127.0.0.1:0';
    const s = await spawnServer(['--data-dir', dir, '--listen', listen, '--database', db!.url, '--name', name, ...extra], { WEFT_MASTER_KEY: key, WEFT_REPLICA_LEASE_MS: String(LEASE_MS) });
    procs.set(name, s.proc);
    endpoints.set(name, s.endpoint);
    creds ??= JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as Creds;
    return s.endpoint;
  }
  const kill = async (name: string) => {
    const p = procs.get(name)!;
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((ok) => {
      p.once('exit', () => ok());
      p.kill('SIGKILL');
    });
  };
  const profile = (name: string) => ({ httpProfile: { endpoint: endpoints.get(name)!, protocol: 'http://', reqTimeout: 30 } });
  const vpc = (name: string) => new VpcClient({ credential: { secretId: creds.SecretId, secretKey: creds.SecretKey }, region: 'local', profile: profile(name) });
  const cvm = (name: string) => new CvmClient({ credential: { secretId: creds.SecretId, secretKey: creds.SecretKey }, region: 'local', profile: profile(name) });

  let vpcId: string;
  let subnetId: string;
  before(async () => {
    if (skip) return;
    db = await freshDatabase();
    await replica('ctl-a', ['--rate-limit', '0']);
    await replica('ctl-b', ['--rate-limit', '0']);
    store = await openStore(db!.url);
    vpcId = (await vpc('ctl-a').CreateVpc({ VpcName: 'replicas', CidrBlock: '10.8.0.0/16' })).Vpc!.VpcId!;
    subnetId = (await vpc('ctl-b').CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.8.0.0/20', Zone: 'local-1' })).Subnet!.SubnetId!;
  });
  after(async () => {
    for (const name of procs.keys()) await kill(name);
    await store?.close();
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('both serve the API with the same credentials, and each reads what the other just wrote', async () => {
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = i % 2 ? ['ctl-a', 'ctl-b'] : ['ctl-b', 'ctl-a'];
      const id = (await vpc(writer!).CreateSecurityGroup({ GroupName: `ryw-${i}`, GroupDescription: 'read your writes' })).SecurityGroup!.SecurityGroupId!;
      const seen = await vpc(reader!).DescribeSecurityGroups({ SecurityGroupIds: [id] });
      assert.equal(seen.TotalCount, 1, `${reader} sees ${id} written through ${writer} at once`);
      await vpc(reader!).DeleteSecurityGroup({ SecurityGroupId: id });
      assert.equal((await vpc(writer!).DescribeSecurityGroups({ SecurityGroupIds: [id] })).TotalCount, 0, `${writer} sees the delete through ${reader} at once`);
    }
  });

  it('a ClientToken acts once across replicas, also when both get it at the same time', async () => {
    const run = (name: string, token: string) => cvm(name).RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, ClientToken: token });
    const first = await run('ctl-a', 'replica-token-1');
    const again = await run('ctl-b', 'replica-token-1');
    assert.deepEqual(again.InstanceIdSet, first.InstanceIdSet);
    const [x, y] = await Promise.all([run('ctl-a', 'replica-token-2'), run('ctl-b', 'replica-token-2')]);
    assert.deepEqual(x.InstanceIdSet, y.InstanceIdSet);
    const all = await cvm('ctl-a').DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], Limit: 100 });
    assert.equal(all.TotalCount, 2);
    await cvm('ctl-b').TerminateInstances({ InstanceIds: [...first.InstanceIdSet!, ...x.InstanceIdSet!] });
  });

  it('a replica killed mid-burst: what failed is retried on the other with its token, and exactly one instance per token is made', async () => {
    const tokens = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    const ask = (name: string, token: string) => cvm(name).RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, ClientToken: token, InstanceName: token });
    let answered = 0;
    const failed: string[] = [];
    const burst = (async () => {
      // Eight at a time against ctl-a, which dies part way.
      for (let i = 0; i < tokens.length; i += 8)
        await Promise.all(
          tokens.slice(i, i + 8).map((t) =>
            ask('ctl-a', t).then(
              () => void answered++,
              () => void failed.push(t),
            ),
          ),
        );
    })();
    await until('some writes answered', async () => answered >= 10);
    await kill('ctl-a');
    await burst;
    assert.ok(failed.length > 0, 'some requests failed with ctl-a');
    assert.ok(answered > 0);
    // The client retries what failed on ctl-b with the same tokens (some of them committed before the kill).
    const ids = new Map<string, string[]>();
    for (const t of tokens) ids.set(t, (await ask('ctl-b', t)).InstanceIdSet!);
    const all = await cvm('ctl-b').DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], Limit: 100 });
    assert.equal(all.TotalCount, tokens.length, 'one instance per token: none lost, none twice');
    assert.deepEqual(new Set(all.InstanceSet!.map((i) => i.InstanceName)), new Set(tokens));
    assert.deepEqual(new Set(all.InstanceSet!.map((i) => i.InstanceId)), new Set([...ids.values()].flat()));
    await cvm('ctl-b').TerminateInstances({ InstanceIds: [...ids.values()].flat().slice(0, 100) });
    await replica('ctl-a', ['--rate-limit', '0']);
  });

  it("a task is taken over by the other replica once its owner's lease runs out", async () => {
    // A gateway node that reported and lags: CreateNatGateway's task waits for it.
    const now = new Date().toISOString();
    await store.db.insertInto('hosts').values({ id: 'gw-replicas', zone: '', underlay: '100.64.9.1', role: 'gateway', token_hash: 'x', applied_revision: 0, reported_at: now, report: null, created_at: now }).execute();
    try {
      const made = await vpc('ctl-a').CreateNatGateway({ NatGatewayName: 'takeover', VpcId: vpcId, AddressCount: 1 });
      const natId = made.NatGatewaySet![0]!.NatGatewayId!;
      const task = await store.db.selectFrom('tasks').select(['id', 'owner']).where('action', '=', 'CreateNatGateway').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      assert.equal(task.owner, 'ctl-a');
      await kill('ctl-a');
      const owner = await until('ctl-b adopting the task', async () => {
        const r = await store.db.selectFrom('tasks').select('owner').where('id', '=', task.id).executeTakeFirstOrThrow();
        return r.owner === 'ctl-b' && r.owner;
      });
      assert.equal(owner, 'ctl-b');
      assert.equal((await vpc('ctl-b').DescribeVpcTaskResult({ TaskId: task.id })).Status, 'RUNNING');
      await store.db.updateTable('hosts').set({ applied_revision: 1e12 }).where('id', '=', 'gw-replicas').execute();
      await until('the gateway AVAILABLE', async () => (await vpc('ctl-b').DescribeNatGateways({ NatGatewayIds: [natId] })).NatGatewaySet![0]!.State === 'AVAILABLE');
      assert.equal((await vpc('ctl-b').DescribeVpcTaskResult({ TaskId: task.id })).Status, 'SUCCESS');
      await vpc('ctl-b').DeleteNatGateway({ NatGatewayId: natId });
    } finally {
      await store.db.deleteFrom('hosts').where('id', '=', 'gw-replicas').execute();
    }
    await replica('ctl-a', ['--rate-limit', '0']);
  });

  it("an account's request budget is the region's, not each replica's", async () => {
    // Two more replicas limited to 20 requests/s per account (burst 40), on the same store.
    await replica('ctl-c', ['--rate-limit', '20']);
    await replica('ctl-d', ['--rate-limit', '20']);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        vpc(i % 2 ? 'ctl-c' : 'ctl-d')
          .DescribeVpcs({})
          .then(
            () => 'OK',
            (e: { code?: string }) => e.code ?? String(e),
          ),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const ok = answers.filter((c) => c === 'OK').length;
    assert.ok(answers.every((c) => c === 'OK' || c === 'RequestLimitExceeded'), answers.join());
    // Per replica it would be up to 40 each (80); the region's bucket holds 40 plus what refills meanwhile.
    assert.ok(ok <= 40 + Math.ceil(20 * seconds) + 1, `${ok} admitted in ${seconds.toFixed(2)} s`);
    assert.ok(ok >= 20, `${ok} admitted`);
  });
});
