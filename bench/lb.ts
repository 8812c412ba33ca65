/**
 * The CLB bench (issue 10): Weft's load balancer against nginx (stream module)
 * and HAProxy (mode tcp) from Debian's packages, side by side on the same
 * backends, client and LB nodes, in one region in a box (root; 2 hosts, no
 * gateways, 2 LB nodes).
 *
 * The data path is the same for all three: the client's packets to the VIP go
 * over the fabric's ECMP to either LB node's VPC router namespace
 * (`<prefix>-lbN-<vpcId>`, the VIP on its lo). There Weft's CLB DNATs a new
 * flow by the listener's Maglev table (nftables) to a backend, and the replies
 * come back through the same node. nginx and HAProxy run in that same
 * namespace on BOTH nodes, listening on the VIP at other ports and proxying to
 * the same backends (round robin; their upstream connections leave from the
 * node's own address, see `source`, and the hosts send the replies back to
 * the node that sent the SYN, as for the CLB's flows).
 * Each at its defaults for a TCP balancer: nginx `worker_processes auto`,
 * HAProxy its default threads (one per CPU) and `option splice-auto`:
 *
 *   VIP:80   CLB listener → 3 backends :8080      VIP:5201 CLB listener → b1:5201 (iperf3)
 *   VIP:8081 nginx        → the same              VIP:5211 nginx        → b1:5201
 *   VIP:8082 HAProxy      → the same              VIP:5212 HAProxy      → b1:5201
 *   direct   the client to the backends themselves (no LB): the reference
 *
 *   rate         new connections per second: a Node loop in the client with N
 *                connections at a time, each connect → read the backend's few
 *                bytes → close, for T seconds; the three (and direct)
 *                interleaved, rotated each round
 *   throughput   iperf3 -c VIP through each to ONE backend (control and data
 *                connections must meet the same iperf3 server)
 *   propagation  ModifyTargetWeight / DeregisterTargets / RegisterTargets →
 *                each LB node's table changed (the digest table `ip weftlbd`
 *                the node replaces in the same nft transaction as the Maglev
 *                map, polled every ~10 ms; the 65537-slot map itself takes
 *                ~0.5 s to list, so it is read once after, to check) and the
 *                task's DescribeTaskStatus success
 *
 * The proxies' configs, logs and pid files live under the box's data dir; they
 * are stopped by pid (and any nginx/haproxy left in the LB namespaces by
 * `ip netns pids`) before the region is taken down, whatever happens.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lbHealthSource } from '../src/core/region.js';
import type { BenchOptions } from './lib/module.js';
import { inRegion, iperfGbps, openGroup, rootBench, startBox, until, type Box } from './lib/box.js';
import { cpuSeconds, machineBusySeconds, waitForQuiet } from './lib/proc.js';
import { fmt, median, round, spreadOf, table, type Spread } from './lib/stats.js';

const MSS = 1460;
const BACKENDS = 3;
const WEB = 8080;
const IPERF = 5201;
const NGINX_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
/** Front ports of each balancer: new connections, iperf3. */
const FRONT = { clb: { web: 80, iperf: 5201 }, nginx: { web: 8081, iperf: 5211 }, haproxy: { web: 8082, iperf: 5212 } } as const;
type Way = 'clb' | 'nginx' | 'haproxy' | 'direct';
const WAYS: Way[] = ['clb', 'nginx', 'haproxy', 'direct'];
const LABEL: Record<Way, string> = {
  clb: 'Weft CLB (kernel DNAT, Maglev)',
  nginx: 'nginx 1.22 stream (proxy)',
  haproxy: 'HAProxy 2.6 mode tcp (proxy)',
  direct: 'direct to the backends (no LB)',
};

const log = (s: string) => process.stderr.write(`[lb] ${s}\n`);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** A backend: accepts, writes 3 bytes, closes. */
const SERVER = `require('net').createServer((s) => { s.on('error', () => {}); s.end('ok\\n'); }).listen(${WEB}, '0.0.0.0', 4096);`;

/**
 * The connection load: `concurrency` loops, each connect → read until the
 * server closes → close, for `seconds`; a connection counts when it got the
 * bytes and ended within the window. Prints {done, failed, cpu, p50, p99}
 * (latency in µs, the client's own CPU seconds).
 */
const LOAD = `
const net = require('net');
const [targets, seconds, concurrency] = [process.argv[1].split(','), Number(process.argv[2]), Number(process.argv[3])];
let done = 0, failed = 0, next = 0; const lat = [];
const t0 = Date.now(), end = t0 + seconds * 1000, cpu0 = process.cpuUsage();
function one() {
  if (Date.now() >= end) return finish();
  const [host, port] = targets[next++ % targets.length].split(':');
  const start = process.hrtime.bigint();
  let got = 0, over = false;
  const s = net.connect({ host, port: Number(port) });
  s.setTimeout(3000, () => s.destroy());
  s.on('data', (d) => (got += d.length));
  s.on('error', () => {});
  s.on('close', () => {
    if (over) return; over = true;
    if (Date.now() < end) { if (got > 0) { done++; lat.push(Number(process.hrtime.bigint() - start) / 1000); } else failed++; }
    one();
  });
}
let running = concurrency;
function finish() {
  if (--running) return;
  const c = process.cpuUsage(cpu0); lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]) : null);
  console.log(JSON.stringify({ done, failed, cpu: (c.user + c.system) / 1e6, p50: q(0.5), p99: q(0.99) }));
  process.exit(0);
}
for (let i = 0; i < concurrency; i++) one();
setTimeout(() => { console.log(JSON.stringify({ error: 'stuck', done, failed })); process.exit(1); }, seconds * 1000 + 15000).unref();
`;

export interface RateRun {
  perSecond: number;
  failed: number;
  p50us: number | null;
  p99us: number | null;
  /** Cores busy during the window: the whole machine, the three backends, the proxy's processes (both nodes), the load generator. */
  cores: { machine: number; backends: number; proxy: number; client: number };
}

export interface PropagationRun {
  change: string;
  apiMs: number;
  /** From just before the call to each node's table changing (digest polled). */
  nodesMs: number[];
  taskMs: number;
  /** The full map listing after, on each node, agrees with the change. */
  verified: boolean;
}

export interface LbResult {
  skipped?: string;
  error?: string;
  backends?: number;
  concurrency?: number;
  rateSeconds?: number;
  rounds?: number;
  rate?: Partial<Record<Way, { perSecond: Spread; runs: RateRun[] }>>;
  throughputSeconds?: number;
  gbps?: Partial<Record<Way, Spread>>;
  propagation?: PropagationRun[];
  /** Cores other processes kept busy before each round (waitForQuiet's last sample), and the threshold. */
  busyBefore?: number[];
  quietCores?: number;
  /** What nginx's error logs (both nodes) said during the run: line count and the distinct messages (at most 5). */
  nginxErrors?: { lines: number; messages: string[] };
  proxiesLeft?: string[];
  namespacesLeft: string[];
}

interface Region {
  box: Box;
  vpcId: string;
  vip: string;
  lbId: string;
  webListener: string;
  backends: { id: string; ip: string; pid: number }[];
  client: string;
  nodes: string[];
}

async function region(): Promise<Region> {
  const box = await startBox('lb', 2, [], 0, 2);
  const { vpc, cvm, clb } = box;
  const vpcId = (await vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const back = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'back', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const front = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'front', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
  const sg = await openGroup(box);
  // The backends on h1, the client on h2: every flow crosses the fabric to an LB node and on to the other host.
  const backIds = (await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: back }, SecurityGroupIds: [sg], InstanceCount: BACKENDS, InstanceName: 'backend' })).InstanceIdSet!;
  const client = (await cvm.RunInstances({ Placement: { Zone: 'local-2' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: front }, SecurityGroupIds: [sg], InstanceName: 'client' })).InstanceIdSet![0]!;
  const running = await until('the instances RUNNING', async () => {
    const set = (await cvm.DescribeInstances({ InstanceIds: [...backIds, client] })).InstanceSet!;
    return set.every((i) => i.InstanceState === 'RUNNING') && set;
  }, 90_000);
  const backends = backIds.map((id) => {
    const ip = running.find((i) => i.InstanceId === id)!.PrivateIpAddresses![0]!;
    const { child } = box.spawnIn(id, [process.execPath, '-e', SERVER]);
    return { id, ip, pid: child.pid! };
  });
  box.spawnIn(backIds[0]!, ['iperf3', '-s', '-p', String(IPERF)]);

  const lbId = (await clb.CreateLoadBalancer({ LoadBalancerType: 'INTERNAL', VpcId: vpcId, SubnetId: back, LoadBalancerName: 'bench' })).LoadBalancerIds![0]!;
  const lb = await until('the load balancer normal', async () => {
    const l = (await clb.DescribeLoadBalancers({ LoadBalancerIds: [lbId] })).LoadBalancerSet![0];
    return l?.Status === 1 && l;
  }, 60_000);
  const vip = lb.LoadBalancerVips![0]!;
  const task = async (requestId: string) =>
    until(`task ${requestId}`, async () => {
      const t = await clb.DescribeTaskStatus({ TaskId: requestId });
      if (t.Status === 1) throw new Error(`task ${requestId} failed: ${t.Message}`);
      return t.Status === 0;
    }, 130_000, 100);
  const listen = async (port: number, name: string, check: Record<string, number>) => {
    const r = await clb.CreateListener({ LoadBalancerId: lbId, Ports: [port], Protocol: 'TCP', ListenerNames: [name], HealthCheck: check });
    await task(r.RequestId!);
    return r.ListenerIds![0]!;
  };
  const webListener = await listen(FRONT.clb.web, 'web', { HealthSwitch: 1, IntervalTime: 5, TimeOut: 2, HealthNum: 2, UnHealthNum: 2 });
  // No health checks on iperf3's listener: a check's connection would meet iperf3 as a test's control connection.
  const iperfListener = await listen(FRONT.clb.iperf, 'iperf', { HealthSwitch: 0 });
  await task((await clb.RegisterTargets({ LoadBalancerId: lbId, ListenerId: webListener, Targets: backends.map((b) => ({ InstanceId: b.id, Port: WEB, Weight: 10 })) })).RequestId!);
  await task((await clb.RegisterTargets({ LoadBalancerId: lbId, ListenerId: iperfListener, Targets: [{ InstanceId: backends[0]!.id, Port: IPERF, Weight: 10 }] })).RequestId!);
  await until('every target healthy', async () => {
    const targets = ((await clb.DescribeTargetHealth({ LoadBalancerIds: [lbId] })).LoadBalancers ?? []).flatMap((l) => (l.Listeners ?? []).flatMap((ls) => (ls.Rules ?? []).flatMap((r) => r.Targets ?? [])));
    return targets.length === BACKENDS + 1 && targets.every((t) => t.HealthStatus);
  }, 60_000);
  const nodes = ['lb1', 'lb2'].map((n) => `${n}-${vpcId}`);
  for (const n of nodes) if (!box.namespaces().includes(`${box.prefix}-${n}`)) throw new Error(`no LB router namespace ${box.prefix}-${n}`);
  return { box, vpcId, vip, lbId, webListener, backends, client, nodes };
}

// ── nginx and HAProxy on both LB nodes ──────────────────────────────────────

interface Proxies {
  dir: string;
  pidFiles: string[];
}

/**
 * The address a node's proxies connect to the backends from: the node's own
 * (its health-check source on the router's lo, to which the backends' replies
 * return). From the VIP, which both nodes hold, the two nodes' proxies would
 * pick the same ports towards a backend independently: a backend still holding
 * one node's connection (or its TIME_WAIT) refuses or resets the other's
 * (nginx logged thousands of `connect() failed (111: Connection refused)`).
 */
const source = (node: string) => lbHealthSource(Number(/^lb(\d+)$/.exec(node)![1]));

function nginxConf(r: Region, node: string, dir: string): string {
  return `load_module ${NGINX_MODULE};
worker_processes auto;
pid ${dir}/nginx-${node}.pid;
error_log ${dir}/nginx-${node}.error.log warn;
events { worker_connections 8192; }
stream {
  upstream web {
${r.backends.map((b) => `    server ${b.ip}:${WEB};`).join('\n')}
  }
  upstream iperf { server ${r.backends[0]!.ip}:${IPERF}; }
  proxy_bind ${source(node)};
  proxy_connect_timeout 3s;
  proxy_timeout 30s;
  server { listen ${r.vip}:${FRONT.nginx.web} backlog=4096; proxy_pass web; }
  server { listen ${r.vip}:${FRONT.nginx.iperf}; proxy_pass iperf; }
}
`;
}

function haproxyConf(r: Region, node: string, dir: string): string {
  return `global
  daemon
  maxconn 4000
defaults
  mode tcp
  timeout connect 3s
  timeout client 30s
  timeout server 30s
  source ${source(node)}
  option splice-auto
frontend web
  bind ${r.vip}:${FRONT.haproxy.web}
  backlog 4096
  default_backend web
backend web
  balance roundrobin
${r.backends.map((b, i) => `  server b${i + 1} ${b.ip}:${WEB}`).join('\n')}
frontend iperf
  bind ${r.vip}:${FRONT.haproxy.iperf}
  default_backend iperf
backend iperf
  server b1 ${r.backends[0]!.ip}:${IPERF}
`;
}

/** Starts them into `p` (its pid files listed before each start, so a failure halfway still stops what started). */
async function startProxies(r: Region, p: Proxies): Promise<void> {
  const { dir } = p;
  mkdirSync(dir, { recursive: true });
  for (const node of r.nodes) {
    const short = node.split('-')[0]!;
    const nginx = join(dir, `nginx-${short}.conf`);
    writeFileSync(nginx, nginxConf(r, short, dir));
    p.pidFiles.push(join(dir, `nginx-${short}.pid`));
    const n = await r.box.exec(node, ['nginx', '-p', dir, '-e', join(dir, `nginx-${short}.error.log`), '-c', nginx]);
    if (n.code !== 0) throw new Error(`nginx in ${node}: ${n.err || n.out}`);
    const haproxy = join(dir, `haproxy-${short}.cfg`);
    writeFileSync(haproxy, haproxyConf(r, short, dir));
    p.pidFiles.push(join(dir, `haproxy-${short}.pid`));
    const h = await r.box.exec(node, ['haproxy', '-f', haproxy, '-D', '-p', join(dir, `haproxy-${short}.pid`)]);
    if (h.code !== 0) throw new Error(`haproxy in ${node}: ${h.err || h.out}`);
  }
}

/** nginx's error logs: how many lines, and their messages without time, pid and connection number. */
function nginxErrors(r: Region, p: Proxies): { lines: number; messages: string[] } {
  const lines = r.nodes.flatMap((node) => {
    try {
      return readFileSync(join(p.dir, `nginx-${node.split('-')[0]}.error.log`), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  });
  const strip = (l: string) => l.replace(/^\S+ \S+ (\[\w+\]) \d+#\d+: \*\d+ /, '$1 ').replace(/client: [\d.]+, /, '').replace(/:\d+\b/g, ':N');
  return { lines: lines.length, messages: [...new Set(lines.map(strip))].slice(0, 5) };
}

/** nginx and haproxy processes inside the LB router namespaces (pid, name). */
function proxyProcesses(r: Region, kind?: 'nginx' | 'haproxy'): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const node of r.nodes) {
    let pids: string[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', `${r.box.prefix}-${node}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    } catch {
      continue;
    }
    for (const pid of pids) {
      let comm = '';
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if ((kind ? [kind] : ['nginx', 'haproxy']).includes(comm)) out.push({ pid: Number(pid), comm });
    }
  }
  return out;
}

/** Stops the proxies by their pid files, then anything of theirs still in the LB namespaces; answers what had to be killed or is left. */
async function stopProxies(r: Region, p: Proxies): Promise<string[]> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  for (const f of p.pidFiles) {
    let pid = NaN;
    try {
      pid = Number(readFileSync(f, 'utf8').trim().split(/\s+/)[0]);
    } catch {
      continue; // never started
    }
    if (pid > 1) signal(pid, 'SIGTERM');
  }
  const left = await until('the proxies gone', async () => proxyProcesses(r).length === 0, 5_000, 100).then(
    () => [],
    () => proxyProcesses(r),
  );
  for (const { pid } of left) signal(pid, 'SIGKILL');
  await sleep(200);
  return proxyProcesses(r).map((x) => `${x.comm} ${x.pid}`);
}

// ── measurements ─────────────────────────────────────────────────────────────

function targetsOf(r: Region, way: Way, what: 'web' | 'iperf'): string {
  if (way === 'direct') return what === 'web' ? r.backends.map((b) => `${b.ip}:${WEB}`).join(',') : `${r.backends[0]!.ip}:${IPERF}`;
  return `${r.vip}:${FRONT[way][what]}`;
}

async function connectionRate(r: Region, way: Way, seconds: number, concurrency: number): Promise<RateRun> {
  const proxyPids = way === 'nginx' || way === 'haproxy' ? proxyProcesses(r, way).map((x) => x.pid) : [];
  const sum = (pids: number[]) => pids.reduce((s, pid) => s + cpuSeconds(pid), 0);
  const before = { machine: machineBusySeconds(), backends: sum(r.backends.map((b) => b.pid)), proxy: sum(proxyPids), at: performance.now() };
  const res = await r.box.exec(r.client, [process.execPath, '-e', LOAD, targetsOf(r, way, 'web'), String(seconds), String(concurrency)], (seconds + 30) * 1000);
  const wall = (performance.now() - before.at) / 1000;
  const out = JSON.parse(res.out.trim().split('\n').pop() || '{}') as { done?: number; failed?: number; cpu?: number; p50?: number; p99?: number; error?: string };
  if (out.done === undefined || out.error) throw new Error(`load to ${way}: ${out.error ?? ''} ${res.err}`);
  return {
    perSecond: out.done / seconds,
    failed: out.failed ?? 0,
    p50us: out.p50 ?? null,
    p99us: out.p99 ?? null,
    // The window is the load's seconds; node's start and exit are in the wall time, so the machine's figure is a little low.
    cores: {
      machine: round((machineBusySeconds() - before.machine) / wall),
      backends: round((sum(r.backends.map((b) => b.pid)) - before.backends) / seconds),
      proxy: round((sum(proxyPids) - before.proxy) / seconds),
      client: round((out.cpu ?? 0) / seconds),
    },
  };
}

/** The digest of a node's LB tables (the comment of `table ip weftlbd`). */
async function digest(box: Box, node: string): Promise<string> {
  const r = await box.exec(node, ['nft', 'list', 'table', 'ip', 'weftlbd'], 5_000);
  return /comment "([^"]*)"/.exec(r.out)?.[1] ?? '';
}

/** Slots per backend in a node's Maglev map of the listener (the full listing: ~0.5 s). */
async function slots(box: Box, node: string, listenerId: string): Promise<Map<string, number>> {
  const r = await box.exec(node, ['nft', 'list', 'map', 'ip', 'weftlb', `l_${listenerId.replace(/-/g, '_')}`], 20_000);
  const m = new Map<string, number>();
  for (const x of r.out.matchAll(/: (\d+\.\d+\.\d+\.\d+) \. \d+/g)) m.set(x[1]!, (m.get(x[1]!) ?? 0) + 1);
  return m;
}

async function propagate(r: Region, change: string, call: () => Promise<{ RequestId?: string }>, check: (m: Map<string, number>) => boolean): Promise<PropagationRun> {
  const { box } = r;
  const before = await Promise.all(r.nodes.map((n) => digest(box, n)));
  const t0 = performance.now();
  let apiMs = 0;
  const called = call().then((x) => {
    apiMs = performance.now() - t0;
    return x.RequestId!;
  });
  const nodesMs = r.nodes.map(() => NaN);
  const watch = r.nodes.map(async (n, i) => {
    await until(`${n} applying ${change}`, async () => (await digest(box, n)) !== before[i], 30_000, 10);
    nodesMs[i] = Math.round(performance.now() - t0);
  });
  const id = await called;
  const taskMs = await until(`task of ${change}`, async () => {
    const t = await box.clb.DescribeTaskStatus({ TaskId: id });
    if (t.Status === 1) throw new Error(`${change}: task failed: ${t.Message}`);
    return t.Status === 0 && Math.round(performance.now() - t0);
  }, 130_000, 10);
  await Promise.all(watch);
  const maps = await Promise.all(r.nodes.map((n) => slots(box, n, r.webListener)));
  return { change, apiMs: Math.round(apiMs), nodesMs, taskMs, verified: maps.every(check) };
}

/** What the bench needs beside the region's own tools (Debian's packages; not installed by CI). */
export const PREREQUISITES = 'apt-get install -y iperf3 nginx-light libnginx-mod-stream haproxy';

function missing(): string[] {
  const onPath = (tool: string) => process.env.PATH!.split(':').some((d) => existsSync(join(d, tool)));
  return [...['iperf3', 'nginx', 'haproxy'].filter((t) => !onPath(t)), ...(existsSync(NGINX_MODULE) ? [] : [NGINX_MODULE])];
}

export async function benchLb(o: BenchOptions): Promise<LbResult> {
  const result: LbResult = { namespacesLeft: [] };
  const absent = missing();
  if (absent.length) return { ...result, skipped: `${absent.join(', ')} not installed (${PREREQUISITES})` };
  const rounds = o.quick ? 1 : Math.max(o.rounds, 5);
  const rateSeconds = o.quick ? 3 : 5;
  const iperfSeconds = o.quick ? 3 : 5;
  const concurrency = o.concurrency;
  return inRegion(result, region, async (r) => {
    const proxies: Proxies = { dir: join(r.box.dataDir, 'lb-bench'), pidFiles: [] };
    try {
      await startProxies(r, proxies);
      // Every way answers before anything is measured (the nodes load the tables the health checks filled).
      for (const way of WAYS)
        await until(`${way} answering`, async () => {
          const x = await connectionRate(r, way, 1, 2).catch(() => undefined);
          return x !== undefined && x.failed === 0 && x.perSecond > 0;
        }, 30_000, 500);
      // The client's ephemeral ports: tens of thousands of connections in a few seconds.
      await r.box.exec(r.client, ['sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65000']);

      Object.assign(result, { backends: BACKENDS, concurrency, rateSeconds, rounds, rate: {}, throughputSeconds: iperfSeconds, gbps: {}, busyBefore: [], quietCores: o.quietCores });
      const quiet = async () => result.busyBefore!.push(round((await waitForQuiet(o.quietCores, 15_000)).busyCores));
      const rate: Partial<Record<Way, RateRun[]>> = {};
      for (let i = 0; i < rounds; i++) {
        const order = [...WAYS.slice(i % WAYS.length), ...WAYS.slice(0, i % WAYS.length)];
        await quiet();
        log(`connections, round ${i + 1}/${rounds}: ${order.join(', ')} (${concurrency} at a time, ${rateSeconds} s each)`);
        for (const way of order) {
          const run = await connectionRate(r, way, rateSeconds, concurrency);
          (rate[way] ??= []).push(run);
          log(`  ${way}: ${Math.round(run.perSecond)}/s, ${run.failed} failed, cores ${JSON.stringify(run.cores)}`);
          await sleep(1000);
        }
      }
      for (const way of WAYS) result.rate![way] = { perSecond: spreadOf(rate[way]!.map((x) => x.perSecond)), runs: rate[way]! };

      const gbps: Partial<Record<Way, number[]>> = {};
      for (let i = 0; i < rounds; i++) {
        const order = [...WAYS.slice(i % WAYS.length), ...WAYS.slice(0, i % WAYS.length)];
        await quiet();
        log(`throughput, round ${i + 1}/${rounds}: ${order.join(', ')} (iperf3 ${iperfSeconds} s, -M ${MSS}, one backend)`);
        for (const way of order) {
          const [host, port] = targetsOf(r, way, 'iperf').split(':');
          const g = await iperfGbps(r.box, r.client, host!, { seconds: iperfSeconds, mss: MSS, port: Number(port) });
          (gbps[way] ??= []).push(g);
          log(`  ${way}: ${g.toFixed(2)} Gbit/s`);
        }
      }
      for (const way of WAYS) result.gbps![way] = spreadOf(gbps[way]!);

      // Backend changes on the 3-target listener, until every node has the new table.
      result.propagation = [];
      const [b1, b2, b3] = r.backends as [Region['backends'][0], Region['backends'][0], Region['backends'][0]];
      const share = (m: Map<string, number>, ip: string) => (m.get(ip) ?? 0) / [...m.values()].reduce((a, b) => a + b, 0);
      const reps = o.quick ? 1 : 3;
      for (let i = 0; i < reps; i++) {
        for (const [w, expect] of [
          [30, 0.6],
          [10, 1 / 3],
        ] as const) {
          const run = await propagate(
            r,
            `ModifyTargetWeight b3 → ${w}`,
            () => r.box.clb.ModifyTargetWeight({ LoadBalancerId: r.lbId, ListenerId: r.webListener, Targets: [{ InstanceId: b3.id, Port: WEB, Weight: w }] }),
            (m) => Math.abs(share(m, b3.ip) - expect) < 0.05,
          );
          result.propagation.push(run);
          log(`  ${run.change}: nodes ${run.nodesMs.join(', ')} ms, task ${run.taskMs} ms, verified ${run.verified}`);
        }
        const gone = await propagate(
          r,
          'DeregisterTargets b3',
          () => r.box.clb.DeregisterTargets({ LoadBalancerId: r.lbId, ListenerId: r.webListener, Targets: [{ InstanceId: b3.id, Port: WEB }] }),
          (m) => !m.has(b3.ip) && m.has(b1.ip) && m.has(b2.ip),
        );
        result.propagation.push(gone);
        log(`  ${gone.change}: nodes ${gone.nodesMs.join(', ')} ms, task ${gone.taskMs} ms, verified ${gone.verified}`);
        const back = await propagate(
          r,
          'RegisterTargets b3',
          () => r.box.clb.RegisterTargets({ LoadBalancerId: r.lbId, ListenerId: r.webListener, Targets: [{ InstanceId: b3.id, Port: WEB, Weight: 10 }] }),
          (m) => m.has(b3.ip),
        );
        result.propagation.push(back);
        log(`  ${back.change}: nodes ${back.nodesMs.join(', ')} ms, task ${back.taskMs} ms, verified ${back.verified}`);
        // A registered target is checked anew: let its health settle before the next change.
        await sleep(12_000);
      }
    } finally {
      result.nginxErrors = nginxErrors(r, proxies);
      result.proxiesLeft = await stopProxies(r, proxies);
    }
  });
}

const ms = (xs: number[]) => `${Math.round(median(xs))} ms (max ${Math.round(Math.max(...xs))})`;

export function report(r: LbResult): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  const lines: string[] = [];
  if (r.error) lines.push(`lb: FAILED: ${r.error}`);
  const rate = r.rate ?? {};
  if (rate.clb && rate.nginx && rate.haproxy) {
    const clb = rate.clb.perSecond.median;
    const cores = (runs: RateRun[], k: keyof RateRun['cores']) => fmt(median(runs.map((x) => x.cores[k])));
    lines.push(
      `new TCP connections per second: ${r.concurrency} at a time from one client instance (h2), connect → read 3 bytes → close, ${r.rounds} × ${r.rateSeconds} s each, interleaved; ${r.backends} Node backends on h1; 2 LB nodes (ECMP)`,
      table(
        ['path', 'conn/s median (min–max)', 'CLB ÷ it', 'p50 / p99 ms', 'failed', 'cores: machine / backends / proxy / client'],
        WAYS.filter((w) => rate[w]).map((w) => {
          const x = rate[w]!;
          const p = (k: 'p50us' | 'p99us') => fmt(median(x.runs.map((y) => y[k] ?? NaN)) / 1000);
          return [
            LABEL[w],
            `${fmt(x.perSecond.median)} (${fmt(x.perSecond.min)}–${fmt(x.perSecond.max)})`,
            w === 'clb' ? '1' : fmt(clb / x.perSecond.median),
            `${p('p50us')} / ${p('p99us')}`,
            String(x.runs.reduce((s, y) => s + y.failed, 0)),
            `${cores(x.runs, 'machine')} / ${cores(x.runs, 'backends')} / ${cores(x.runs, 'proxy')} / ${cores(x.runs, 'client')}`,
          ];
        }),
      ),
    );
  }
  const g = r.gbps ?? {};
  if (g.clb && g.nginx && g.haproxy)
    lines.push(
      `throughput: iperf3 -M ${MSS}, ${r.rounds} × ${r.throughputSeconds} s (after 1 s omitted), one TCP flow to one backend, interleaved`,
      table(
        ['path', 'Gbit/s median (min–max)', 'CLB ÷ it'],
        WAYS.filter((w) => g[w]).map((w) => [LABEL[w], `${fmt(g[w]!.median)} (${fmt(g[w]!.min)}–${fmt(g[w]!.max)})`, w === 'clb' ? '1' : fmt(g.clb!.median / g[w]!.median)]),
      ),
    );
  if (r.propagation?.length) {
    const kinds = [...new Set(r.propagation.map((p) => p.change.replace(/ → \d+$/, '')))];
    lines.push(
      'backend change → every LB node (its table digest polled every ~10 ms), and → DescribeTaskStatus success; each checked after in the full Maglev map',
      table(
        ['change', 'n', 'API answer', 'every node has it: median (max)', 'task done: median (max)', 'maps agree'],
        kinds.map((k) => {
          const xs = r.propagation!.filter((p) => p.change.startsWith(k));
          return [k, String(xs.length), ms(xs.map((p) => p.apiMs)), ms(xs.map((p) => Math.max(...p.nodesMs))), ms(xs.map((p) => p.taskMs)), xs.every((p) => p.verified) ? 'yes' : 'NO'];
        }),
      ),
    );
  }
  const busy = Math.max(0, ...(r.busyBefore ?? []));
  if (busy > (r.quietCores ?? Infinity))
    lines.push(`NOTE: before some rounds the machine was not quiet (up to ${fmt(busy)} cores busy, more than ${r.quietCores}): figures are low and spread; compare the ratios`);
  if (r.nginxErrors?.lines) lines.push(`nginx's error logs: ${r.nginxErrors.lines} lines, e.g.\n${r.nginxErrors.messages.map((m) => `  ${m}`).join('\n')}`);
  if (r.proxiesLeft) lines.push(r.proxiesLeft.length ? `LEFT RUNNING: ${r.proxiesLeft.join(', ')}` : 'nginx and haproxy stopped (none left in the LB namespaces)');
  lines.push(r.namespacesLeft.length ? `LEFT BEHIND: namespaces ${r.namespacesLeft.join(', ')}` : 'ip netns list: no namespace of the bench left');
  return lines.join('\n');
}

export const lbBench = rootBench(
  'lb',
  'Load balancers (root, 2 LB nodes): new connections/s and throughput through Weft’s CLB vs nginx and HAProxy on the same nodes; backend change propagation',
  'network namespaces, nftables',
  benchLb,
  report,
);
