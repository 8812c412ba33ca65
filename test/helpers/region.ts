/**
 * Starts a real `weft server` process for a test, on SQLite (default) or on a
 * fresh PostgreSQL database when WEFT_TEST_DATABASE=postgres://… is set, and
 * hands out official-SDK clients for its accounts. Everything it made is
 * removed by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client as ClbClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/clb/v20180317/clb_client.js';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import pg from 'pg';
import type { CredentialsFile as Creds } from '../../src/controller/controller.js';
import { openStore } from '../../src/store/store.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
export const WEFT = join(ROOT, 'dist/src/cli/main.js');

export type { Creds };

export interface TestRegion {
  dataDir: string;
  endpoint: string;
  admin: Creds;
  database?: string;
  vpc(creds?: Pick<Creds, 'SecretId' | 'SecretKey'>): VpcClient;
  cvm(creds?: Pick<Creds, 'SecretId' | 'SecretKey'>): CvmClient;
  clb(creds?: Pick<Creds, 'SecretId' | 'SecretKey'>): ClbClient;
  newAccount(name: string): Promise<Creds>;
  weft(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export const engineName = () => (process.env.WEFT_TEST_DATABASE ? 'postgres' : 'sqlite');

export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const base = process.env.WEFT_TEST_DATABASE;
  if (!base) return undefined;
  const name = `weft_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function run(args: string[], env: Record<string, string> = {}, input?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((ok) => {
    const p = spawn(process.execPath, [WEFT, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) p.stdin.end(input);
    p.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}

/** `weft server ARGS` (with `env` added), once it says its endpoint; rejects with its stderr if it exits first. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<{ proc: ChildProcess; endpoint: string }> {
  const proc = spawn(process.execPath, [WEFT, 'server', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const endpoint = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /endpoint\s+http:\/\/(\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    proc.once('exit', (code) => fail(new Error(`weft server exited with ${code}: ${err}`)));
  });
  return { proc, endpoint };
}

export async function startRegion(extra: string[] = []): Promise<TestRegion> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-test-'));
  const db = await freshDatabase();
  const dbArgs = db ? ['--database', db.url] : [];
  let proc: ChildProcess | undefined;
  let endpoint = '';

  async function launch(listen: string) {
    const s = await spawnServer(['--data-dir', dataDir, '--listen', listen, ...dbArgs, ...extra]);
    proc = s.proc;
    endpoint = s.endpoint;
  }
  await launch('127.0.0.1:0');
  const admin = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Creds;

  const profile = () => ({ httpProfile: { endpoint, protocol: 'http://', reqTimeout: 30 } });
  const cred = (c?: Pick<Creds, 'SecretId' | 'SecretKey'>) => ({ secretId: (c ?? admin).SecretId, secretKey: (c ?? admin).SecretKey });
  const stopProc = async () => {
    if (!proc || proc.exitCode !== null) return;
    const p = proc;
    await new Promise<void>((ok) => {
      p.once('exit', () => ok());
      p.kill('SIGTERM');
    });
  };

  return {
    dataDir,
    get endpoint() {
      return endpoint;
    },
    admin,
    database: db?.url,
    vpc: (c) => new VpcClient({ credential: cred(c), region: 'local', profile: profile() }),
    cvm: (c) => new CvmClient({ credential: cred(c), region: 'local', profile: profile() }),
    clb: (c) => new ClbClient({ credential: cred(c), region: 'local', profile: profile() }),
    async newAccount(name) {
      const r = await run(['account', 'create', '--data-dir', dataDir, '--name', name, ...dbArgs]);
      if (r.code !== 0) throw new Error(`account create failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Creds;
    },
    weft: (args, env = {}) => run(args, { WEFT_ENDPOINT: endpoint, WEFT_SECRET_ID: admin.SecretId, WEFT_SECRET_KEY: admin.SecretKey, ...env }),
    async restart() {
      const port = endpoint.split(':').pop()!;
      await stopProc();
      await launch(`127.0.0.1:${port}`);
    },
    async stop() {
      await stopProc();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The Tencent error of a rejected SDK call (fails the test if the call succeeds). */
export async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const { code, message } = e as { code?: string; message: string };
    if (code) return { code, message };
    throw e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * A table-driven refusal check: the call fails with `code` (and a message
 * matching `message`), and `state()` — what the actions under test write — is
 * the same after it as before.
 */
export function refusalCheck<S>(state: () => Promise<S>) {
  return async (name: string, call: () => Promise<unknown>, code: string, message?: RegExp) => {
    const before = await state();
    const e = await errorOf(call());
    if (e.code !== code) throw new Error(`${name}: expected ${code}, got ${e.code}: ${e.message}`);
    if (message && !message.test(e.message)) throw new Error(`${name}: the message ${JSON.stringify(e.message)} does not match ${message}`);
    const now = await state();
    if (JSON.stringify(now) !== JSON.stringify(before)) throw new Error(`${name}: the refused call wrote something`);
  };
}

/** The Tencent error code of a rejected SDK call (fails the test if the call succeeds). */
export const errorCode = async (p: Promise<unknown>): Promise<string> => (await errorOf(p)).code;

/** The field names of an interface of the official vpc models, read from its .d.ts. */
export function modelFields(name: string): string[] {
  const text = readFileSync(join(ROOT, 'node_modules/tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.d.ts'), 'utf8');
  const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(text)![1]!;
  return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]!).sort();
}

/** Lets a test pass what the SDK's types would not (wrong types, missing or unknown fields). */
export const loose = <T>(v: unknown) => v as T;

/**
 * The official SDK's generic client for the vpc service: Weft's extension
 * actions (TraceVpcFlow …) have no method on the typed VpcClient.
 */
export const vpcCommonClient = (endpoint: string, c: Pick<Creds, 'SecretId' | 'SecretKey'>, reqTimeout = 30) =>
  new CommonClient(endpoint, '2017-03-12', { credential: { secretId: c.SecretId, secretKey: c.SecretKey }, region: 'local', profile: { httpProfile: { protocol: 'http://', reqTimeout } } });

/**
 * What the tracer's API tests start from: a server, its store (to register
 * hosts and nodes as weft up does), vpc clients of the admin and of a second
 * account (bob), and a VPC 10.0.0.0/16 with subnet 10.0.1.0/24 in local-1 and
 * a group that accepts TCP `port` from anywhere and sends anything. Stop it
 * with `close()`.
 */
export async function tracedRegion(group: { name: string; port: string }) {
  const r = await startRegion();
  const store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
  const api = vpcCommonClient(r.endpoint, r.admin);
  const bob = vpcCommonClient(r.endpoint, await r.newAccount('bob'));
  const vpc = r.vpc();
  const vpcId = (await vpc.CreateVpc({ VpcName: 'app', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const sg = (await vpc.CreateSecurityGroupWithPolicies({
    GroupName: group.name,
    GroupDescription: `${group.name} from anywhere`,
    SecurityGroupPolicySet: {
      Ingress: [{ Protocol: 'TCP', Port: group.port, CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
    },
  })).SecurityGroup!.SecurityGroupId!;
  const close = async () => {
    await store.close();
    await r.stop();
  };
  return { r, store, api, bob, vpcId, subnetId, sg, close };
}
