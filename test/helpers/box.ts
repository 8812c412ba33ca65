/**
 * A region in a box for a test: `weft up --detach` on a fresh data dir (and a
 * fresh PostgreSQL database when WEFT_TEST_DATABASE is set), official-SDK
 * clients, `exec` inside instances, and `down()` that removes everything.
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ClbClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/clb/v20180317/clb_client.js';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { freshDatabase, run, type Creds } from './region.js';

export const isRoot = process.getuid?.() === 0;

import { until } from './until.js';

export { until };

export interface Box {
  dataDir: string;
  prefix: string;
  /** The box's store: its PostgreSQL URL, or its SQLite file. */
  database: string;
  vpc: VpcClient;
  cvm: CvmClient;
  clb: ClbClient;
  /** Runs a command inside an instance; resolves with its exit code and output. */
  exec(instanceId: string, cmd: string[], timeoutMs?: number): Promise<{ code: number; out: string }>;
  /** Starts a long-running command inside an instance; returns a stopper. */
  spawnIn(instanceId: string, cmd: string[]): () => void;
  /** A new tenant account (`weft account create`), on the box's store whichever engine it is. */
  newAccount(name: string): Promise<Creds>;
  down(): Promise<void>;
}

/**
 * `gateways`, `lbNodes`: the edge (gateway nodes, LB nodes, their agents and
 * BIRD) only for the tests of the public network and the load balancers; the
 * others run without it, as lighter boxes. `extra`: more `weft up` options.
 */
export async function startBox(hosts = 3, env: Record<string, string> = {}, gateways = 0, lbNodes = 0, dataplane: 'linux' | 'sim' = 'linux', extra: string[] = []): Promise<Box> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-box-'));
  const db = await freshDatabase();
  const args = ['up', '--detach', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', String(hosts), '--gateways', String(gateways), '--lb-nodes', String(lbNodes), '--dataplane', dataplane, ...extra];
  const r = await run([...args, ...(db ? ['--database', db.url] : [])], env);
  if (r.code !== 0) throw new Error(`weft up failed (${r.code}): ${r.stderr}${r.stdout}`);
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Creds;
  const { prefix } = JSON.parse(readFileSync(join(dataDir, 'region.json'), 'utf8')) as { prefix: string };
  const opts = {
    credential: { secretId: creds.SecretId, secretKey: creds.SecretKey },
    region: 'local',
    profile: { httpProfile: { endpoint: creds.Endpoint, protocol: 'http://', reqTimeout: 30 } },
  };
  const stoppers = new Set<() => void>();
  return {
    dataDir,
    prefix,
    database: db?.url ?? join(dataDir, 'weft.db'),
    vpc: new VpcClient(opts),
    cvm: new CvmClient(opts),
    clb: new ClbClient(opts),
    exec: (id, cmd, timeoutMs = 10_000) =>
      new Promise((ok) => {
        const p = spawn('ip', ['netns', 'exec', `${prefix}-${id}`, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('close', (code) => ok({ code: code ?? -1, out }));
      }),
    async newAccount(name) {
      const r = await run(['account', 'create', '--data-dir', dataDir, '--name', name]); // the data dir knows its store, SQLite or PostgreSQL
      if (r.code !== 0) throw new Error(`weft account create failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout) as Creds;
    },
    spawnIn(id, cmd) {
      const p = spawn('ip', ['netns', 'exec', `${prefix}-${id}`, ...cmd], { stdio: 'ignore' });
      const stop = () => p.kill('SIGKILL');
      stoppers.add(stop);
      return stop;
    },
    async down() {
      for (const s of stoppers) s();
      const d = await run(['down', '--data-dir', dataDir]);
      if (d.code !== 0) console.error(`weft down: ${d.stderr}`);
      await db?.drop();
      const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.startsWith(`${prefix}-`));
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .filter((l) => l.includes(`/${prefix}-`));
      const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(prefix));
      rmSync(dataDir, { recursive: true, force: true });
      if (left.length) throw new Error(`weft down left namespaces behind: ${left.join(', ')}`);
      if (mounts.length) throw new Error(`weft down left mounts behind: ${mounts.join('; ')}`);
      if (links.length) throw new Error(`weft down left links in the machine's namespace: ${links.join('; ')}`);
    },
  };
}

/**
 * A VPC (10.0.0.0/16) with subnet 10.0.1.0/24 in local-1, a security group
 * open both ways, and one instance there, RUNNING: what a test of the public
 * network starts from.
 */
export async function openInstance(box: Box, name: string): Promise<{ vpcId: string; subnetId: string; instanceId: string; privateIp: string }> {
  const vpcId = (await box.vpc.CreateVpc({ VpcName: name, CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const subnetId = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: name, CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const sg = (await box.vpc.CreateSecurityGroupWithPolicies({
    GroupName: name,
    GroupDescription: 'open both ways',
    SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
  })).SecurityGroup!.SecurityGroupId!;
  const instanceId = (await box.cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, SecurityGroupIds: [sg], InstanceCount: 1 }))
    .InstanceIdSet![0]!;
  const inst = await until('RUNNING', async () => {
    const i = (await box.cvm.DescribeInstances({ InstanceIds: [instanceId] })).InstanceSet![0]!;
    return i.InstanceState === 'RUNNING' && i;
  }, 60_000);
  return { vpcId, subnetId, instanceId, privateIp: inst.PrivateIpAddresses![0]! };
}

/** Runs `cmd` in namespace `where` in the background; resolves with its output (stdout and stderr) when it exits. */
export function background(where: string, cmd: string[], timeoutMs = 60_000): Promise<string> {
  const p = spawn('ip', ['netns', 'exec', where, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  return new Promise<string>((ok) => p.on('close', () => ok(out)));
}

/** The next hops (sorted) of router namespace `router`'s route to `prefix` (`inet`, `fab`: the part after the prefix). */
export function routerVia(box: Box, router: string, prefix: string): string[] {
  const out = execFileSync('ip', ['-n', `${box.prefix}-${router}`, '-j', 'route', 'show', prefix], { encoding: 'utf8' });
  const routes = JSON.parse(out) as { gateway?: string; nexthops?: { gateway: string }[] }[];
  return routes.flatMap((r) => r.nexthops?.map((n) => n.gateway) ?? (r.gateway ? [r.gateway] : [])).sort();
}

/** The failure drill: each of the two gateways fails for 2 s and recovers in turn, until both routers use it again. */
export async function failEachGateway(box: Box): Promise<void> {
  const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
  for (const gw of ['gw1', 'gw2']) {
    await pause(1500);
    assert.equal((await run(['node', 'fail', '--data-dir', box.dataDir, gw])).code, 0, `weft node fail ${gw}`);
    await pause(2000);
    assert.equal((await run(['node', 'recover', '--data-dir', box.dataDir, gw])).code, 0, `weft node recover ${gw}`);
    await until(`${gw} back`, async () => routerVia(box, 'inet', '198.51.100.0/24').length === 2 && routerVia(box, 'fab', '100.64.255.1').length === 2, 15_000);
  }
}
