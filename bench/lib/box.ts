/**
 * A region in a box for a bench: `weft up --detach --dataplane linux` on a
 * fresh data dir, official-SDK clients, commands inside the region's
 * namespaces, and `down()` (also registered for cleanup, so Ctrl-C or a
 * failure removes every namespace the bench made). Root only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client as ClbClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/clb/v20180317/clb_client.js';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import type { BenchModule, BenchOptions } from './module.js';
import { onCleanup, ROOT, tempDataDir, weft, weftOrThrow, type Credentials } from './server.js';

export const isRoot = process.getuid?.() === 0;

const NETPROBE = join(ROOT, 'dist/bench/lib/netprobe.js');

export interface Box {
  dataDir: string;
  prefix: string;
  vpc: VpcClient;
  cvm: CvmClient;
  clb: ClbClient;
  /** Agent pids by host (run.json). */
  agents: Record<string, number>;
  /** Runs a command inside a namespace of the region (`h1`, `ins-…`, `h2-vpc-…`: the part after the prefix). */
  exec(ns: string, cmd: string[], timeoutMs?: number): Promise<{ code: number; out: string; err: string }>;
  /** Starts a long-running command in a namespace; it is killed by its stopper, by down() and at cleanup. */
  spawnIn(ns: string, cmd: string[]): { child: ChildProcess; stop(): void };
  /** A netprobe.ts process in a namespace. */
  probe(ns: string): Promise<Probe>;
  /** Namespaces of the region that exist now. */
  namespaces(): string[];
  down(): Promise<void>;
}

export interface Probe {
  ask<T = Record<string, unknown>>(cmd: Record<string, unknown>, timeoutMs?: number): Promise<T & { ok: boolean; error?: string }>;
  stop(): void;
}

export const netnsList = () =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);

/**
 * `gateways`: weft up's default (2 when BIRD is there) unless given. `lbNodes`:
 * none unless asked for (weft up would start 2 whenever there are gateways),
 * so a bench that does not measure load balancers does not run LB nodes.
 */
export async function startBox(label: string, hosts: number, quotas: string[] = [], gateways?: number, lbNodes = 0): Promise<Box> {
  const dataDir = tempDataDir(`dataplane-${label}`);
  let downed = false;
  const children = new Set<ChildProcess>();
  const down = async () => {
    if (downed) return;
    downed = true;
    unregister();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const r = await weft(['down', '--data-dir', dataDir]);
    if (r.code !== 0) throw new Error(`weft down --data-dir ${dataDir} failed (${r.code}): ${r.stderr || r.stdout}`);
  };
  // Registered before `up`, so a half-started region is removed too (down needs only region.json).
  const unregister = onCleanup(down);
  const r = await weft(['up', '--detach', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', String(hosts), '--dataplane', 'linux', ...(gateways === undefined ? [] : ['--gateways', String(gateways)]), '--lb-nodes', String(lbNodes)]);
  if (r.code !== 0) throw new Error(`weft up failed (${r.code}): ${r.stderr}${r.stdout}`);
  // Quotas before the first API call: the server caches an account's quotas for a few seconds.
  if (quotas.length) await weftOrThrow(['account', 'quota', '--data-dir', dataDir, '--name', 'admin', '--set', ...quotas]);
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
  const { prefix } = JSON.parse(readFileSync(join(dataDir, 'region.json'), 'utf8')) as { prefix: string };
  const { agents } = JSON.parse(readFileSync(join(dataDir, 'run.json'), 'utf8')) as { agents: Record<string, number> };
  const opts = {
    credential: { secretId: creds.SecretId, secretKey: creds.SecretKey },
    region: creds.Region,
    profile: { httpProfile: { endpoint: creds.Endpoint.replace(/^https?:\/\//, ''), protocol: 'http://', reqTimeout: 60 } },
  };
  const spawnIn = (ns: string, cmd: string[]) => {
    const child = spawn('ip', ['netns', 'exec', `${prefix}-${ns}`, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return { child, stop: () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) };
  };
  return {
    dataDir,
    prefix,
    agents,
    vpc: new VpcClient(opts),
    cvm: new CvmClient(opts),
    clb: new ClbClient(opts),
    exec: (ns, cmd, timeoutMs = 30_000) =>
      new Promise((ok) => {
        const p = spawn('ip', ['netns', 'exec', `${prefix}-${ns}`, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => ok({ code: code ?? -1, out, err }));
      }),
    spawnIn,
    async probe(ns) {
      const { child, stop } = spawnIn(ns, [process.execPath, NETPROBE]);
      const lines = createInterface({ input: child.stdout! });
      const waiting: ((line: string) => void)[] = [];
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      lines.on('line', (l) => waiting.shift()?.(l));
      return {
        stop,
        ask: (cmd, timeoutMs = 60_000) =>
          new Promise((ok, fail) => {
            const t = setTimeout(() => fail(new Error(`netprobe in ${ns}: no answer to ${JSON.stringify(cmd)} within ${timeoutMs} ms ${stderr}`)), timeoutMs);
            waiting.push((l) => {
              clearTimeout(t);
              ok(JSON.parse(l));
            });
            child.stdin!.write(JSON.stringify(cmd) + '\n');
          }),
      };
    },
    namespaces: () => netnsList().filter((n) => n.startsWith(`${prefix}-`)),
    down,
  };
}


/** Polls `f` every `everyMs` until it answers something truthy (returned); throws after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms: number, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
}

/** One iperf3 run from namespace `client` to a server on `address`:`port`: the receiver's Gbit/s. */
export async function iperfGbps(box: Box, client: string, address: string, o: { seconds: number; mss: number; port: number }): Promise<number> {
  const r = await box.exec(client, ['iperf3', '-c', address, '-p', String(o.port), '-t', String(o.seconds), '-O', '1', '-M', String(o.mss), '-J', '--connect-timeout', '3000'], (o.seconds + 20) * 1000);
  const j = JSON.parse(r.out) as { end?: { sum_received?: { bits_per_second: number } }; error?: string };
  if (j.error || !j.end?.sum_received) throw new Error(`iperf3 ${client} → ${address}: ${j.error ?? 'no summary'}`);
  return j.end.sum_received.bits_per_second / 1e9;
}

/**
 * Measures on a region `start` makes, whatever happens: a failure is said in
 * `result.error`, the region is taken down, and any of its namespaces left
 * behind are listed in `result.namespacesLeft`.
 */
export async function inRegion<R extends { error?: string; namespacesLeft: string[] }, G extends { box: Box }>(
  result: R,
  start: () => Promise<G>,
  measure: (region: G) => Promise<void>,
): Promise<R> {
  let region: G | undefined;
  try {
    region = await start();
    await measure(region);
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    const prefix = region?.box.prefix;
    await region?.box.down();
    if (prefix) result.namespacesLeft = netnsList().filter((n) => n.startsWith(`${prefix}-`));
  }
  return result;
}

/** A security group that lets everything in and out, for a bench's instances. */
export async function openGroup(box: Box): Promise<string> {
  return (await box.vpc.CreateSecurityGroupWithPolicies({
    GroupName: 'open',
    GroupDescription: 'bench',
    SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
  })).SecurityGroup!.SecurityGroupId!;
}

/** A bench module that needs root: skipped (said why) otherwise. */
export function rootBench<R extends { skipped?: string; namespacesLeft: string[] }>(
  name: string,
  description: string,
  needs: string,
  bench: (o: BenchOptions) => Promise<R>,
  report: (r: R) => string,
): BenchModule {
  return {
    name,
    description,
    async run(o) {
      const result = isRoot ? await bench(o) : ({ skipped: `needs root (${needs})`, namespacesLeft: [] } as unknown as R);
      return { report: report(result), json: result };
    },
  };
}
