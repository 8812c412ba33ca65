/**
 * The weft command as a user runs it: help, the tccli-style API client with
 * credentials from the environment or a data dir, nested and dotted
 * parameters, JSON output, exit codes (0 ok, 1 API error, 2 usage error), and
 * the account commands against a running controller.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { ACTIONS } from '../../src/api/registry.js';
import { engineName, errorCode, ROOT, run, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

interface Json {
  [k: string]: unknown;
}
const json = (stdout: string) => JSON.parse(stdout) as Json;
const BIN = join(ROOT, 'bin/weft');

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe(`the weft command (${engineName()})`, () => {
  let r: TestRegion;
  let dbArgs: string[];
  /** Runs weft with no WEFT_* credentials in the environment. */
  const bare = (args: string[]) => run(args, { WEFT_SECRET_ID: '', WEFT_SECRET_KEY: '', WEFT_ENDPOINT: '', WEFT_REGION: '' });
  before(async () => {
    r = await startRegion();
    dbArgs = r.database ? ['--database', r.database] : [];
  });
  after(async () => r?.stop());

  it('bin/weft --help lists the services and every action', async () => {
    const res = await new Promise<{ code: number; stdout: string }>((ok) => {
      const p = spawn(BIN, ['--help']);
      let stdout = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.on('close', (code) => ok({ code: code ?? -1, stdout }));
    });
    assert.equal(res.code, 0);
    for (const s of new Set(ACTIONS.map((a) => a.service))) assert.match(res.stdout, new RegExp(`^${s}:$`, 'm'), `service ${s}`);
    for (const a of ACTIONS) assert.match(res.stdout, new RegExp(`^  ${a.name}$`, 'm'), `action ${a.name}`);
    assert.match(res.stdout, /server/);
    assert.match(res.stdout, /account/);
  });

  it('lists a service’s actions and an action’s parameters', async () => {
    const service = await r.weft(['vpc', '--help']);
    assert.equal(service.code, 0, service.stderr);
    assert.match(service.stdout, /^ {2}CreateVpc$/m);
    const action = await r.weft(['vpc', 'CreateVpc', '--help']);
    assert.equal(action.code, 0, action.stderr);
    assert.match(action.stdout, /--VpcName\s+String \(required\)/);
    assert.match(action.stdout, /--DnsServers\s+Array of String$/m);
  });

  it('creates a VPC with credentials from the environment and prints the Response as JSON', async () => {
    const res = await r.weft(['vpc', 'CreateVpc', '--VpcName', 'a', '--CidrBlock', '10.0.0.0/16']);
    assert.equal(res.code, 0, res.stderr);
    const out = json(res.stdout);
    const vpc = out.Vpc as { VpcId: string; VpcName: string; CidrBlock: string };
    assert.match(vpc.VpcId, /^vpc-[0-9a-z]{8}$/);
    assert.equal(vpc.CidrBlock, '10.0.0.0/16');
    assert.match(String(out.RequestId), /^[0-9a-f-]{36}$/);
    assert.equal((await r.vpc().DescribeVpcs({ VpcIds: [vpc.VpcId] })).VpcSet![0]!.VpcName, 'a', 'the SDK sees it');
  });

  it('creates a VPC with credentials from --data-dir, which win over the environment', async () => {
    const plain = await bare(['vpc', 'CreateVpc', '--VpcName', 'from-dir', '--CidrBlock', '10.1.0.0/16', '--data-dir', r.dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    const over = await r.weft(['vpc', 'DescribeVpcs', '--data-dir', r.dataDir], { WEFT_SECRET_ID: 'AKIDbogus', WEFT_SECRET_KEY: 'bogus' });
    assert.equal(over.code, 0, over.stdout + over.stderr);
    const env = await r.weft(['vpc', 'DescribeVpcs'], { WEFT_SECRET_ID: 'AKIDbogus', WEFT_SECRET_KEY: 'bogus' });
    assert.equal(env.code, 1, 'the bogus environment is really used without --data-dir');
    assert.equal((json(env.stdout).Error as Json).Code, 'AuthFailure.SecretIdNotFound');
  });

  it('takes nested values as JSON, dotted paths, --Name=value, and numbers typed as names', async () => {
    await r.weft(['vpc', 'CreateVpc', '--VpcName', 'needle', '--CidrBlock', '10.2.0.0/16', '--Tags.0.Key', 'env', '--Tags.0.Value', '2024']);
    await r.weft(['vpc', 'CreateVpc', '--VpcName=2024', '--CidrBlock=10.3.0.0/16', '--DnsServers.0', '10.3.0.2']);
    const ask = async (args: string[]) => {
      const res = await r.weft(['vpc', 'DescribeVpcs', ...args]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      return json(res.stdout) as { TotalCount: number; VpcSet: { VpcName: string; TagSet: unknown; DnsServerSet: string[] }[] };
    };
    const nested = await ask(['--Filters', '[{"Name":"vpc-name","Values":["needle"]}]']);
    assert.deepEqual(nested.VpcSet.map((v) => v.VpcName), ['needle']);
    assert.deepEqual(nested.VpcSet[0]!.TagSet, [{ Key: 'env', Value: '2024' }], 'Tags.0.Value 2024 stayed a string');
    const dotted = await ask(['--Filters.0.Name', 'vpc-name', '--Filters.0.Values.0', 'needle']);
    assert.deepEqual(dotted.VpcSet.map((v) => v.VpcName), ['needle']);
    const numeric = await ask(['--Filters.0.Name', 'vpc-name', '--Filters.0.Values.0', '2024']);
    assert.deepEqual(numeric.VpcSet.map((v) => [v.VpcName, v.DnsServerSet]), [['2024', ['10.3.0.2']]]);
    const paged = await ask(['--Limit', '1', '--Offset', '0']);
    assert.equal(paged.VpcSet.length, 1);
    assert.ok(paged.TotalCount >= 3);
  });

  it('exits 1 with the error as JSON when the API answers with an error', async () => {
    for (const [args, code] of [
      [['vpc', 'DeleteVpc', '--VpcId', 'vpc-zzzzzzzz'], 'ResourceNotFound'],
      [['vpc', 'CreateVpc', '--VpcName', 'x', '--CidrBlock', '8.8.8.0/24'], 'InvalidParameterValue'],
      [['vpc', 'CreateVpc', '--VpcName', 'x'], 'MissingParameter'],
      [['vpc', 'DescribeVpcs', '--Bogus', '1'], 'UnknownParameter'],
      [['vpc', 'DescribeVpcs', '--region', 'elsewhere'], 'UnsupportedRegion'],
    ] as const) {
      const res = await r.weft([...args]);
      assert.equal(res.code, 1, `${args.join(' ')}: ${res.stderr}`);
      assert.equal((json(res.stdout).Error as Json).Code, code, args.join(' '));
    }
  });

  it('exits 1 when the endpoint cannot be reached', async () => {
    const res = await r.weft(['vpc', 'DescribeVpcs', '--endpoint', `127.0.0.1:${await closedPort()}`]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /cannot call 127\.0\.0\.1:\d+/);
  });

  it('exits 2 on usage errors, before calling anything', async () => {
    for (const [args, why] of [
      [['vpc', 'CreateVpcs'], /no action `CreateVpcs`/],
      [['vpc'], /missing required argument/],
      [['vpc', 'CreateVpc', 'VpcName', 'a'], /expected --Param value/],
      [['vpc', 'CreateVpc', '--VpcName'], /--VpcName needs a value/],
      [['vpc', 'CreateVpc', '--Tags.0.Key', 'a', '--Tags.2.Key', 'b'], /Tags\.1.* missing/],
      [['vpc', 'CreateVpc', '--VpcName', 'a', '--VpcName', 'b'], /second time/],
      [['vpc', 'CreateVpc', '--__proto__.x', 'a'], /not a parameter name/],
      [['frobnicate'], /unknown command/],
      [['server', '--data-dir', r.dataDir, '--rate-limit', 'fast'], /--rate-limit/],
      [['server', '--data-dir', r.dataDir, '--zones', '0'], /--zones/],
      [['account', 'create', '--data-dir', r.dataDir], /--name/],
      [['account', 'create', '--data-dir', join(r.dataDir, 'nope'), '--name', 'x'], /master\.key not found/],
      [['account', 'quota', '--data-dir', r.dataDir, '--name', 'admin', '--set', 'vpcs=3'], /NAME=NUMBER/],
      [['account', 'quota', '--data-dir', r.dataDir, '--name', 'admin', '--set', 'vpc=-1'], /NAME=NUMBER/],
    ] as const) {
      const res = await r.weft([...args]);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, why, args.join(' '));
      assert.equal(res.stdout, '', `${args.join(' ')}: nothing on stdout`);
    }
    // A data dir with the master key but not the store: a forgotten --database must not create an empty store.
    const lonely = mkdtempSync(join(tmpdir(), 'weft-cli-'));
    try {
      copyFileSync(join(r.dataDir, 'master.key'), join(lonely, 'master.key'));
      const res = await run(['account', 'create', '--data-dir', lonely, '--name', 'x']);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /weft\.db not found, no PostgreSQL URL recorded.*Pass --database/);
      assert.ok(!existsSync(join(lonely, 'weft.db')), 'no stray store was created');
    } finally {
      rmSync(lonely, { recursive: true, force: true });
    }
    const noCreds = await bare(['vpc', 'DescribeVpcs']);
    assert.equal(noCreds.code, 2);
    assert.match(noCreds.stderr, /no credentials/);
  });

  it('account create prints credentials the official SDK can use, isolated from the admin (the data dir knows its store, also on PostgreSQL)', async () => {
    const recorded = join(r.dataDir, 'store-url');
    if (dbArgs.length) assert.equal(statSync(recorded).mode & 0o777, 0o600, 'the PostgreSQL URL is recorded for the owner only');
    else assert.ok(!existsSync(recorded), 'SQLite: nothing recorded, the store is weft.db');
    const res = await run(['account', 'create', '--data-dir', r.dataDir, '--name', 'carol']);
    assert.equal(res.code, 0, res.stderr);
    const c = json(res.stdout) as unknown as Creds;
    assert.deepEqual(Object.keys(c).sort(), ['AppId', 'Endpoint', 'Region', 'SecretId', 'SecretKey', 'Uin']);
    assert.equal(c.Endpoint, r.endpoint);
    assert.notEqual(c.Uin, r.admin.Uin);
    const sdk = new VpcClient({ credential: { secretId: c.SecretId, secretKey: c.SecretKey }, region: c.Region, profile: { httpProfile: { endpoint: c.Endpoint, protocol: 'http://' } } });
    assert.equal((await sdk.DescribeVpcs({})).TotalCount, 0, 'a new account sees none of the admin’s VPCs');
    await sdk.CreateVpc({ VpcName: 'carol', CidrBlock: '10.0.0.0/16' });
    assert.equal((await sdk.DescribeVpcs({})).TotalCount, 1);
    const again = await run(['account', 'create', '--data-dir', r.dataDir, '--name', 'carol']);
    assert.equal(again.code, 1, 'a taken name is refused');
    assert.match(again.stderr, /already exists/);
  });

  it('account quota --set takes effect on the next request, lowering or raising', async () => {
    const d = await r.newAccount('dave');
    const vpc = r.vpc(d);
    const quota = async (...set: string[]) => {
      const res = await run(['account', 'quota', '--data-dir', r.dataDir, '--name', 'dave', ...(set.length ? ['--set', ...set] : [])]);
      assert.equal(res.code, 0, res.stderr);
      return json(res.stdout);
    };
    assert.equal((await quota()).vpc, 20, 'the default');
    await vpc.CreateVpc({ VpcName: 'd1', CidrBlock: '10.0.0.0/16' }); // the server now caches dave's key
    assert.equal((await quota('vpc=1')).vpc, 1);
    assert.equal(await errorCode(vpc.CreateVpc({ VpcName: 'd2', CidrBlock: '10.0.0.0/16' })), 'LimitExceeded', 'lowered at once');
    assert.equal((await quota('vpc=3', 'securityGroup=7')).vpc, 3);
    await vpc.CreateVpc({ VpcName: 'd2', CidrBlock: '10.0.0.0/16' });
    await vpc.CreateVpc({ VpcName: 'd3', CidrBlock: '10.0.0.0/16' });
    assert.equal(await errorCode(vpc.CreateVpc({ VpcName: 'd4', CidrBlock: '10.0.0.0/16' })), 'LimitExceeded');
    const shown = await quota();
    assert.equal(shown.vpc, 3);
    assert.equal(shown.securityGroup, 7);
    assert.equal((await quota('vpc=100')).vpc, 100);
    await vpc.CreateVpc({ VpcName: 'd4', CidrBlock: '10.0.0.0/16' });
    assert.equal((await vpc.DescribeVpcs({})).TotalCount, 4);
    const unknown = await run(['account', 'quota', '--data-dir', r.dataDir, '--name', 'nobody', '--set', 'vpc=1']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no account named `nobody`/);
  });
});
