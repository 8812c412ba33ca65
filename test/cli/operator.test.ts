/**
 * What an operator meets around `weft up`, `weft down` and `weft exec` on the
 * sim data plane (no namespaces, no root): the data dir's lock, precise
 * errors, honest reports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { canUseLinux } from '../../src/region/up.js';
import { engineName, freshDatabase, run, WEFT, type Creds } from '../helpers/region.js';

/** Runs weft; a process still running after `ms` is killed and reported as such (code -1). */
function runFor(args: string[], ms: number) {
  return new Promise<{ code: number; stdout: string; stderr: string; killed: boolean }>((ok) => {
    const p = spawn(process.execPath, [WEFT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      p.kill('SIGTERM');
    }, ms);
    p.on('close', (code) => {
      clearTimeout(timer);
      ok({ code: code ?? -1, stdout, stderr, killed });
    });
  });
}

/** A pid no process has any more. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0']);
  await new Promise((ok) => p.on('exit', ok));
  return p.pid!;
}

describe(`weft up, down and exec for an operator (${engineName()})`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-ops-'));
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let dbArgs: string[] = [];
  const upArgs = () => ['up', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', '1', '--dataplane', 'sim', ...dbArgs];

  before(async () => {
    db = await freshDatabase();
    dbArgs = db ? ['--database', db.url] : [];
  });
  after(async () => {
    await run(['down', '--data-dir', dataDir]);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second weft up on a data dir whose region runs, and weft down still stops it', async () => {
    const first = await run([...upArgs(), '--detach']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    // Detached, there is no terminal for Ctrl-C: the output and the log say how to stop it.
    const log = readFileSync(join(dataDir, 'logs', 'up.log'), 'utf8');
    for (const text of [first.stdout, log]) {
      assert.match(text, new RegExp(`^  stop +weft down --data-dir ${dataDir}$`, 'm'));
      assert.doesNotMatch(text, /Ctrl-C/);
    }
    const creds = readFileSync(join(dataDir, 'credentials.json'), 'utf8');
    const runJson = readFileSync(join(dataDir, 'run.json'), 'utf8');
    const { pid } = JSON.parse(runJson) as { pid: number };

    for (const detach of [[], ['--detach']]) {
      const second = await runFor([...upArgs(), ...detach], 20_000);
      assert.ok(!second.killed, `the second weft up ${detach.join('')} did not stop: ${second.stdout}`);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`a region is already running in ${dataDir} \\(weft up, pid ${pid}\\)`));
      assert.match(second.stderr, /weft down --data-dir/);
      assert.equal(readFileSync(join(dataDir, 'credentials.json'), 'utf8'), creds, 'credentials.json untouched');
      assert.equal(readFileSync(join(dataDir, 'run.json'), 'utf8'), runJson, 'run.json untouched');
    }

    const down = await run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`stopped process ${pid}`));
    assert.ok(!existsSync(join(dataDir, 'run.json')));
    assert.ok(!existsSync(join(dataDir, 'up.lock')), 'the lock is gone with the region');

    const again = await run(['down', '--data-dir', dataDir]);
    assert.equal(again.code, 1, 'a second weft down has nothing to stop');
    assert.match(again.stderr, new RegExp(`no region running in ${dataDir}`));
  });

  it('weft down on a data dir that never ran a region: exit 1, said so', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'weft-empty-'));
    try {
      const res = await run(['down', '--data-dir', empty]);
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stderr, new RegExp(`^weft: no region running in ${empty}`));
      assert.equal(res.stdout, '');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('weft down after a weft up that was killed: removes its run.json and says so, exit 0', async () => {
    const up = await run([...upArgs(), '--detach']);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const r = JSON.parse(readFileSync(join(dataDir, 'run.json'), 'utf8')) as { pid: number; agents: Record<string, number> };
    const pids = [r.pid, ...Object.values(r.agents)];
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    for (let i = 0; !pids.every(gone); i++) {
      assert.ok(i < 100, 'killed processes are gone within 10 s');
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const down = await run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /run\.json: none of its processes was running/);
  });

  it('takes over the lock of a weft up that died', async () => {
    writeFileSync(join(dataDir, 'up.lock'), `${await deadPid()}\n`);
    const up = await run([...upArgs(), '--detach']);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const { pid } = JSON.parse(readFileSync(join(dataDir, 'run.json'), 'utf8')) as { pid: number };
    assert.equal(Number(readFileSync(join(dataDir, 'up.lock'), 'utf8')), pid, 'the lock now holds the running weft up');
    const down = await run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
  });

  it('takes over a lock whose pid is now another program (not a weft up)', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    writeFileSync(join(dataDir, 'up.lock'), `${process.pid}\n`); // this test runner: alive, but no weft up
    const up = await run([...upArgs(), '--detach']);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    const down = await run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.stderr);
    assert.doesNotMatch(down.stdout, new RegExp(`stopped process ${process.pid}\\b`), 'weft down leaves that program alone');
  });
});

/** Namespaces whose names start with `prefix-`. */
async function namespaces(prefix: string): Promise<string[]> {
  const out = await new Promise<string>((ok) => {
    const p = spawn('ip', ['-j', 'netns', 'list'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let s = '';
    p.stdout.on('data', (d) => (s += d));
    p.on('close', () => ok(s));
  });
  return ((JSON.parse(out || '[]') as { name: string }[]) ?? []).map((n) => n.name).filter((n) => n.startsWith(`${prefix}-`));
}

describe('weft down counts the namespaces it removed (linux data plane, root)', { skip: !canUseLinux() && 'needs root on Linux' }, () => {
  it('reports as many as the region had', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'weft-down-'));
    try {
      const up = await run(['up', '--detach', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', '2', '--gateways', '0', '--lb-nodes', '0', '--dataplane', 'linux']);
      assert.equal(up.code, 0, up.stderr + up.stdout);
      const { prefix } = JSON.parse(readFileSync(join(dataDir, 'region.json'), 'utf8')) as { prefix: string };
      const had = await namespaces(prefix);
      assert.ok(had.length >= 3, `the fabric and two hosts: ${had.join(', ')}`);
      const down = await run(['down', '--data-dir', dataDir]);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stdout, new RegExp(`removed ${had.length} namespace\\(s\\) with prefix ${prefix}`));
      assert.deepEqual(await namespaces(prefix), []);
    } finally {
      await run(['down', '--data-dir', dataDir]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe(`weft exec names the instance it cannot run in (${engineName()})`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-exec-'));
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let mine = '';
  let theirs = '';

  /** One instance for the account `c`, RUNNING. */
  async function instanceOf(c: Creds) {
    const opts = { credential: { secretId: c.SecretId, secretKey: c.SecretKey }, region: 'local', profile: { httpProfile: { endpoint: c.Endpoint, protocol: 'http://' } } };
    const vpc = new VpcClient(opts);
    const cvm = new CvmClient(opts);
    const vpcId = (await vpc.CreateVpc({ VpcName: 'x', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    const subnet = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.1.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const id = (await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet } })).InstanceIdSet![0]!;
    for (let i = 0; (await cvm.DescribeInstances({ InstanceIds: [id] })).InstanceSet![0]!.InstanceState !== 'RUNNING'; i++) {
      assert.ok(i < 100, 'RUNNING within 20 s');
      await new Promise((ok) => setTimeout(ok, 200));
    }
    return id;
  }

  before(async () => {
    db = await freshDatabase();
    const dbArgs = db ? ['--database', db.url] : [];
    const up = await run(['up', '--detach', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', '1', '--dataplane', 'sim', ...dbArgs]);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    mine = await instanceOf(JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Creds);
    const other = await run(['account', 'create', '--data-dir', dataDir, '--name', 'other', ...dbArgs]);
    assert.equal(other.code, 0, other.stderr);
    theirs = await instanceOf(JSON.parse(other.stdout) as Creds);
  });
  after(async () => {
    await run(['down', '--data-dir', dataDir]);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an unknown instance or another account’s: exit 1 and a message naming it', async () => {
    for (const id of ['ins-zzzzzzzz', theirs]) {
      const res = await run(['exec', '--data-dir', dataDir, id, '--', 'true']);
      assert.equal(res.code, 1, `${id}: ${res.stderr}`);
      assert.match(res.stderr, new RegExp(`^weft: no instance ${id} in the account of ${join(dataDir, 'credentials.json')} \\(unknown, deleted, or another account's\\)`));
    }
  });

  it('an instance of the account without a namespace (the sim data plane): exit 1, said so', async () => {
    const res = await run(['exec', '--data-dir', dataDir, mine, '--', 'true']);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, new RegExp(`instance ${mine} \\(RUNNING\\) has no namespace \\S+-${mine} on this machine: the sim data plane runs no instances`));
  });

  it('something that is no instance ID: a usage error', async () => {
    const res = await run(['exec', '--data-dir', dataDir, 'vpc-12345678', '--', 'true']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /`vpc-12345678` is neither an instance ID/);
  });
});
