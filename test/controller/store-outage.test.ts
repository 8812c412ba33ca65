/**
 * PostgreSQL unavailable under load (issue 13 item 7): a controller on a
 * PostgreSQL of the test's own (initdb in a temporary directory, its own port;
 * the machine's server is never touched) keeps answering while the database
 * is stopped for 10 s — every request gets its answer or Tencent's
 * ServiceUnavailable, none hangs and nothing crashes — and once the database
 * is back, writes work again and the client's retries with their ClientToken
 * leave exactly one instance per token.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import type { CredentialsFile as Creds } from '../../src/controller/controller.js';
import { freePort } from '../../src/region/controllers.js';
import { engineName, spawnServer } from '../helpers/region.js';
import type { ChildProcess } from 'node:child_process';

const pgBin = (() => {
  const base = '/usr/lib/postgresql';
  const version = existsSync(base) ? readdirSync(base).sort().at(-1) : undefined;
  return version ? join(base, version, 'bin') : undefined;
})();
const skip =
  engineName() !== 'postgres'
    ? 'runs in the PostgreSQL pass'
    : !pgBin || !existsSync(join(pgBin, 'initdb'))
      ? 'no PostgreSQL server binaries (initdb) to run a private cluster with'
      : process.getuid?.() !== 0
        ? 'needs root to run a private PostgreSQL cluster as the postgres user'
        : false;

describe(`the controller while PostgreSQL is down (${engineName()})`, { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pg-outage-'));
  const cluster = join(dir, 'cluster');
  const dataDir = join(dir, 'weft');
  let port = 0;
  let server: ChildProcess | undefined;
  let endpoint = '';
  let creds: Creds;
  const pgCtl = (...args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(pgBin!, 'pg_ctl'), '-D', cluster, ...args], { stdio: 'pipe', timeout: 60_000 });
  const startPg = () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', join(dir, 'pg.log'), '-w', 'start');
  const stopPg = () => pgCtl('-m', 'fast', '-w', 'stop');

  before(async () => {
    if (skip) return;
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    execFileSync('runuser', ['-u', 'postgres', '--', join(pgBin!, 'initdb'), '-D', cluster, '-A', 'trust', '-U', 'postgres'], { stdio: 'pipe' });
    port = await freePort('127.0.0.1');
    startPg();
    const s = await spawnServer(['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--database', `postgres://postgres@127.0.0.1:${port}/postgres`, '--rate-limit', '0']);
    server = s.proc;
    endpoint = s.endpoint;
    creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Creds;
  });
  after(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (existsSync(join(cluster, 'postmaster.pid'))) stopPg();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers ServiceUnavailable at once while it is down, and writes resume when it is back, each token once', async () => {
    const profile = { httpProfile: { endpoint, protocol: 'http://', reqTimeout: 20 } };
    const credential = { secretId: creds.SecretId, secretKey: creds.SecretKey };
    const vpc = new VpcClient({ credential, region: 'local', profile });
    const cvm = new CvmClient({ credential, region: 'local', profile });
    const vpcId = (await vpc.CreateVpc({ VpcName: 'outage', CidrBlock: '10.9.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.9.0.0/20', Zone: 'local-1' })).Subnet!.SubnetId!;
    const ask = (token: string) =>
      cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, ClientToken: token, InstanceName: token }).then(
        () => 'OK',
        (e: { code?: string; message?: string }) => e.code ?? `no code: ${e.message}`,
      );

    // Writes four at a time, while PostgreSQL goes away for 10 s and comes back.
    const answers = new Map<string, string>();
    let n = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 4 }, () => `outage-${n++}`);
        const got = await Promise.all(batch.map(ask));
        batch.forEach((t, i) => answers.set(t, got[i]!));
        await new Promise((ok) => setTimeout(ok, 100)); // bounded: some 30 writes a second, well under the instance quota
      }
    })();
    const answered = async (k: number) => {
      for (let i = 0; answers.size < k; i++) await new Promise((ok) => setTimeout(ok, 50));
    };
    await answered(8);
    stopPg();
    const downAt = answers.size;
    await new Promise((ok) => setTimeout(ok, 10_000));
    const duringOutage = [...answers.values()].slice(downAt);
    startPg();
    const backAt = answers.size;
    for (let i = 0; ![...answers.values()].slice(backAt).includes('OK'); i++) {
      assert.ok(i < 600, `writes work again within 30 s of PostgreSQL coming back: ${[...answers.values()].slice(downAt - 2).join()}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    stop = true;
    await load;

    assert.ok(duringOutage.length >= 8, `requests kept being answered during the outage (${duringOutage.length})`);
    assert.ok(duringOutage.includes('ServiceUnavailable'), duringOutage.join());
    const codes = new Set(answers.values());
    assert.deepEqual([...codes].filter((c) => c !== 'OK' && c !== 'ServiceUnavailable'), [], 'every answer is OK or ServiceUnavailable');
    assert.equal(server!.exitCode, null, 'the controller is still running');

    // The client retries what failed, with the same tokens.
    for (const [t, code] of answers) if (code !== 'OK') assert.equal(await ask(t), 'OK', t);
    const all = await cvm.DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], Limit: 100, Offset: 0 });
    const total = all.TotalCount!;
    const names = new Set(all.InstanceSet!.map((i) => i.InstanceName));
    for (let offset = 100; offset < total; offset += 100) {
      const page = await cvm.DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], Limit: 100, Offset: offset });
      for (const i of page.InstanceSet!) names.add(i.InstanceName);
    }
    assert.equal(total, answers.size, 'one instance per token: none lost, none twice');
    assert.deepEqual(names, new Set(answers.keys()));
  });
});
