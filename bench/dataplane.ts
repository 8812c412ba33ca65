/**
 * The data-plane bench: real regions in a box (`weft up --dataplane linux`,
 * root), measured in one run side by side and reported as ratios.
 *
 *   paths     iperf3 TCP throughput, ping RTT and new-connection time
 *             instance↔instance across two hosts through the overlay, against
 *             the raw underlay between the two host namespaces at the same MSS;
 *             and the overlay again with 1,000 security-group policies ahead of
 *             the accepting one on the destination's ingress
 *   api→kernel time from an API call's response until a probe from an
 *             instance sees its effect: a new accept policy lets a new
 *             connection through; its deletion stops new ones
 *   scale     one host, 1,000 instances (10 × RunInstances of 100): time until
 *             all are RUNNING, and the agent's resident memory holding them
 *
 * Every figure comes from namespaces the bench creates; `weft down` removes
 * them in the end (also on failure and Ctrl-C: lib/box.ts registers it), and
 * the report says whether any namespace of the bench's regions is left.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { isRoot, netnsList, startBox as startRegion, until, type Box } from './lib/box.js';
import { memory, waitForQuiet } from './lib/proc.js';
import { fmt, median, round, spreadOf, summarize, table, type Spread } from './lib/stats.js';

export const GOALS = {
  /** Overlay throughput over underlay throughput at the same MSS. */
  overlayRatio: 0.85,
  /** Overlay throughput with 1,000 policies over the zero-policy figure. */
  policyRatio: 0.95,
  apiToKernelP99Ms: 1000,
  scaleSeconds: 60,
  agentRssMB: 200,
};

/**
 * MSS given to iperf3 on both paths (`-M`). Instances have MTU 1500: 1500 − 20
 * (IP) − 20 (TCP) = 1460 is what they advertise; with TCP timestamps each
 * segment then carries 1448 bytes. The underlay (MTU 9000) clamped to the
 * same 1460 carries the same 1448 per segment; the bench checks this with
 * `ss -ti` during the first run of each path and reports what it saw.
 */
const MSS = 1460;
const POLICIES = 1000;
const SCALE_INSTANCES = 1000;
const SCALE_BATCH = 100;
const IPERF_PORT = 5201;
const CONNECT_PORT = 5300;
const PROBE_PORT_BASE = 7000;

/** Prefixes of the regions this run made, to check none of their namespaces is left. */
const PREFIXES: string[] = [];
async function startBox(label: string, hosts: number, quotas: string[]) {
  const box = await startRegion(label, hosts, quotas);
  PREFIXES.push(box.prefix);
  return box;
}

const log = (s: string) => process.stderr.write(`[dataplane] ${s}\n`);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const hr = () => process.hrtime.bigint();
const msSince = (t: bigint, now = hr()) => Number(now - t) / 1e6;


// ---------------------------------------------------------------- results


export interface PathResult {
  /** iperf3 receiver throughput of each run, Gbit/s. */
  gbps: Spread;
  retransmits: number;
  /** MSS `ss -ti` showed for the data connection during the first run. */
  mssSeen?: number;
  ping: { sent: number; received: number; p50: number; p99: number; max: number };
  /** Sequential new TCP connections: connect() until established, ms. */
  connect: { n: number; failures: number; p50: number; p99: number };
}

export interface PathsResult {
  mss: number;
  runSeconds: number;
  rounds: number;
  underlay: PathResult;
  overlay: PathResult;
  overlayPolicies: PathResult;
  policies: number;
  overlayRatio: number;
  policyRatio: number;
  /** Cores other processes kept busy just before each round, and the threshold above which the report warns. */
  busyBefore: number[];
  quietCores: number;
}

export interface ApiToKernelResult {
  trials: number;
  allow: { p50: number; p99: number; max: number; samples: number[]; attemptsBefore: number };
  deny: { p50: number; p99: number; max: number; samples: number[] };
  apiCallMs: { p50: number; p99: number };
  /** The h2 agent's applies during the trials (its log): count, median total and median of each phase, ms. */
  agentApplies: { count: number; p50: number; phases: Record<string, number> };
}

export interface ScaleResult {
  instances: number;
  calls: number;
  callMs: { p50: number; max: number };
  /** From the first RunInstances call: all calls answered, first RUNNING, half, all RUNNING. */
  seconds: { calls: number; first: number; half: number; all: number };
  agentRss: { rssMB: number; peakMB: number };
  namespaces: number;
  /** Agent log lines with apply timings, if the agent prints them. */
  applies: string[];
  check: string;
  downSeconds: number;
}

export interface DataplaneResult {
  skipped?: string;
  goals: typeof GOALS;
  paths?: PathsResult | { error: string };
  apiToKernel?: ApiToKernelResult | { error: string };
  scale?: ScaleResult | { error: string };
  namespacesLeft: string[];
}

// ---------------------------------------------------------------- the two-host region

interface TwoHosts {
  box: Box;
  vpcId: string;
  a: { id: string; ip: string }; // h1, sends
  b: { id: string; ip: string }; // h2, receives (group dst)
  c: { id: string; ip: string }; // h2, probed (group probe)
  sgDst: string;
  sgProbe: string;
  underlay: { h1: string; h2: string };
}

export async function twoHosts(): Promise<TwoHosts> {
  const box = await startBox('paths', 2, [`policyPerDirection=${POLICIES + 100}`]);
  const { vpc, cvm } = box;
  const vpcId = (await vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const s1 = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'one', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const s2 = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'two', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
  const a = { id: '', ip: '10.0.1.10' };
  const b = { id: '', ip: '10.0.2.10' };
  const c = { id: '', ip: '10.0.2.11' };
  const egressAll = [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }];
  const group = async (name: string, ingress: object[]) =>
    (await vpc.CreateSecurityGroupWithPolicies({ GroupName: name, GroupDescription: 'bench', SecurityGroupPolicySet: { Ingress: ingress, Egress: egressAll } })).SecurityGroup!
      .SecurityGroupId!;
  const sgSrc = await group('src', []);
  const sgDst = await group('dst', [acceptFrom(a.ip)]);
  const sgProbe = await group('probe', []);
  const run = async (zone: string, subnet: string, sg: string, ip: string) =>
    (await cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet, PrivateIpAddresses: [ip] }, SecurityGroupIds: [sg], InstanceName: 'bench' }))
      .InstanceIdSet![0]!;
  a.id = await run('local-1', s1, sgSrc, a.ip);
  b.id = await run('local-2', s2, sgDst, b.ip);
  c.id = await run('local-2', s2, sgProbe, c.ip);
  await until(
    'the instances RUNNING',
    async () => (await cvm.DescribeInstances({ InstanceIds: [a.id, b.id, c.id] })).InstanceSet!.every((i) => i.InstanceState === 'RUNNING'),
    60_000,
  );
  const layout = JSON.parse(readFileSync(join(box.dataDir, 'region.json'), 'utf8')) as { hosts: { id: string; underlay: string }[] };
  const underlay = { h1: layout.hosts[0]!.underlay, h2: layout.hosts[1]!.underlay };
  // The two ends must be on different hosts, or the overlay figure measures a veth hop.
  for (const [inst, host] of [[a, 'h1'], [b, 'h2'], [c, 'h2']] as const) {
    const links = await box.exec(`${host}-${vpcId}`, ['ip', '-o', 'link']);
    if (!links.out.includes(`p${inst.id.slice(4)}@`)) throw new Error(`${inst.id} is not on ${host}: placement differs from what the bench assumes`);
  }
  // RUNNING means the instance's own host applied it; the peer's host follows within moments.
  await until('a → b through the overlay', async () => (await box.exec(`${a.id}`, ['ping', '-c', '1', '-W', '1', b.ip])).code === 0, 20_000, 100);
  return { box, vpcId, a, b, c, sgDst, sgProbe, underlay };
}

const acceptFrom = (ip: string) => ({ Protocol: 'ALL', CidrBlock: `${ip}/32`, Action: 'ACCEPT', PolicyDescription: 'the test flow' });

/** Policies that never match the test flows (TCP 5201/5300, ICMP from 10.0.1.10): other ports, protocols and sources. */
function fillerPolicy(i: number) {
  switch (i % 4) {
    case 0:
      return { Protocol: 'TCP', Port: String(20000 + i), CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' };
    case 1:
      return { Protocol: 'ALL', CidrBlock: `172.${16 + ((i >> 8) & 15)}.${i & 255}.0/24`, Action: 'ACCEPT' };
    case 2:
      return { Protocol: 'UDP', Port: `${30000 + i}-${30000 + i + 5}`, CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' };
    default:
      return { Protocol: 'TCP', Port: '22', CidrBlock: `192.168.${(i >> 2) & 255}.0/24`, Action: 'DROP' };
  }
}

/** Rules in a chain of the router namespace, as the kernel holds them now. */
async function chainRules(box: Box, ns: string, chain: string): Promise<number> {
  const r = await box.exec(ns, ['nft', '-j', 'list', 'chain', 'inet', 'weft', chain]);
  if (r.code !== 0) return -1;
  return ((JSON.parse(r.out) as { nftables: object[] }).nftables ?? []).filter((x) => 'rule' in x).length;
}

/** Sets the destination group's ingress to `fillers` non-matching policies then the accepting one, and waits until the kernel has it. */
async function setPolicies(t: TwoHosts, fillers: number) {
  const ingress = [...Array.from({ length: fillers }, (_, i) => fillerPolicy(i)), acceptFrom(t.a.ip)];
  await t.box.vpc.ModifySecurityGroupPolicies({ SecurityGroupId: t.sgDst, SecurityGroupPolicySet: { Ingress: ingress } });
  await until(`${ingress.length} rules in ${t.sgDst}-ingress on h2`, async () => (await chainRules(t.box, `h2-${t.vpcId}`, `${t.sgDst}-ingress`)) === ingress.length, 60_000);
}

// ---------------------------------------------------------------- one path

interface PathEnds {
  name: string;
  /** Namespaces (after the prefix) of the two ends, and the server's address. */
  client: string;
  server: string;
  address: string;
}

interface PathRaw {
  gbps: number[];
  retransmits: number;
  mssSeen?: number;
  rtts: number[];
  sent: number;
  connects: number[];
  connectFailures: number;
}

const emptyRaw = (): PathRaw => ({ gbps: [], retransmits: 0, rtts: [], sent: 0, connects: [], connectFailures: 0 });

/** Servers at the receiving end of a path: iperf3 and a netprobe accepting connections. */
async function startServers(box: Box, p: PathEnds) {
  const iperf = box.spawnIn(p.server, ['iperf3', '-s', '--forceflush', '-B', p.address, '-p', String(IPERF_PORT)]);
  await new Promise<void>((ok, fail) => {
    let out = '';
    const t = setTimeout(() => fail(new Error(`iperf3 -s in ${p.server} did not start: ${out}`)), 10_000);
    const seen = (d: Buffer) => {
      out += d;
      if (/listening/i.test(out)) {
        clearTimeout(t);
        ok();
      }
    };
    iperf.child.stdout!.on('data', seen);
    iperf.child.stderr!.on('data', seen);
    iperf.child.once('exit', (code) => fail(new Error(`iperf3 -s in ${p.server} exited (${code}): ${out}`)));
  });
  const acceptor = await box.probe(p.server);
  const r = await acceptor.ask({ op: 'serve', ports: [CONNECT_PORT], host: p.address });
  if (!r.ok) throw new Error(`netprobe serve in ${p.server}: ${r.error}`);
  const connector = await box.probe(p.client);
  return {
    connector,
    stop() {
      iperf.stop();
      acceptor.stop();
      connector.stop();
    },
  };
}

interface IperfJson {
  end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } };
  error?: string;
}

async function iperfRun(box: Box, p: PathEnds, seconds: number, raw: PathRaw) {
  const args = ['iperf3', '-c', p.address, '-p', String(IPERF_PORT), '-t', String(seconds), '-O', '1', '-M', String(MSS), '-J', '--connect-timeout', '3000'];
  const running = box.exec(p.client, args, (seconds + 20) * 1000);
  if (raw.mssSeen === undefined) {
    // Past the omitted first second: the data connection is established and sending.
    await sleep(1500);
    const ss = await box.exec(p.client, ['ss', '-tin', 'dst', `${p.address}:${IPERF_PORT}`]);
    const seen = [...ss.out.matchAll(/\bmss:(\d+)/g)].map((m) => Number(m[1]));
    // The control connection has the default MSS; the data connection is the clamped one.
    if (seen.length) raw.mssSeen = Math.min(...seen);
  }
  const r = await running;
  let j: IperfJson;
  try {
    j = JSON.parse(r.out) as IperfJson;
  } catch {
    throw new Error(`iperf3 on ${p.name} printed no JSON (exit ${r.code}): ${r.err || r.out.slice(0, 300)}`);
  }
  if (j.error || !j.end?.sum_received) throw new Error(`iperf3 on ${p.name}: ${j.error ?? 'no summary'}`);
  raw.gbps.push(j.end.sum_received.bits_per_second / 1e9);
  raw.retransmits += j.end.sum_sent?.retransmits ?? 0;
}

async function pingRun(box: Box, p: PathEnds, count: number, raw: PathRaw) {
  const r = await box.exec(p.client, ['ping', '-n', '-c', String(count), '-i', '0.01', '-W', '1', '-w', String(Math.ceil(count * 0.01) + 10), p.address], (count * 0.01 + 20) * 1000);
  raw.sent += count;
  for (const m of r.out.matchAll(/time=([\d.]+) ms/g)) raw.rtts.push(Number(m[1]));
}

async function connectRun(connector: Awaited<ReturnType<typeof startServers>>['connector'], p: PathEnds, n: number, raw: PathRaw) {
  const r = await connector.ask<{ us: number[]; failures: number }>({ op: 'connects', host: p.address, port: CONNECT_PORT, n }, 120_000);
  raw.connects.push(...r.us.map((us) => us / 1000));
  raw.connectFailures += r.failures;
}

function pathResult(raw: PathRaw): PathResult {
  const rtt = summarize(raw.rtts);
  const conn = summarize(raw.connects);
  return {
    gbps: spreadOf(raw.gbps),
    retransmits: raw.retransmits,
    mssSeen: raw.mssSeen,
    ping: { sent: raw.sent, received: raw.rtts.length, p50: round(rtt.p50), p99: round(rtt.p99), max: round(rtt.max) },
    connect: { n: raw.connects.length + raw.connectFailures, failures: raw.connectFailures, p50: round(conn.p50), p99: round(conn.p99) },
  };
}

/**
 * Rounds of the path comparison: one 5-s iperf3 run moves ±5 % from the next on
 * a 2-vCPU machine, so the medians need more rounds than the default three.
 */
const PATH_ROUNDS = 5;

export async function benchPaths(t: TwoHosts, o: BenchOptions): Promise<PathsResult> {
  const rounds = o.quick ? o.rounds : Math.max(o.rounds, PATH_ROUNDS);
  const seconds = o.quick ? 2 : 5;
  const pings = o.quick ? 100 : 200;
  const connects = o.quick ? 50 : 200;
  const under: PathEnds = { name: 'underlay h1 → h2', client: 'h1', server: 'h2', address: t.underlay.h2 };
  const over: PathEnds = { name: 'overlay a → b', client: t.a.id, server: t.b.id, address: t.b.ip };
  const servers = [await startServers(t.box, under), await startServers(t.box, over)];
  const raw = { underlay: emptyRaw(), overlay: emptyRaw(), overlayPolicies: emptyRaw() };
  const busyBefore: number[] = [];
  type Config = 'underlay' | 'overlay' | 'overlayPolicies';
  const measure = async (c: Config) => {
    await setPolicies(t, c === 'overlayPolicies' ? POLICIES - 1 : 0);
    const p = c === 'underlay' ? under : over;
    await iperfRun(t.box, p, seconds, raw[c]);
    await pingRun(t.box, p, pings, raw[c]);
    await connectRun(servers[c === 'underlay' ? 0 : 1]!.connector, p, connects, raw[c]);
  };
  try {
    for (let r = 0; r < rounds; r++) {
      // Every other round backwards, so a drift in the machine's load does not favour one path.
      const order: Config[] = r % 2 ? ['overlayPolicies', 'overlay', 'underlay'] : ['underlay', 'overlay', 'overlayPolicies'];
      const q = await waitForQuiet(o.quietCores, 15_000);
      busyBefore.push(round(q.busyCores));
      if (q.busyCores > o.quietCores) log(`  the machine is busy (${q.busyCores.toFixed(2)} cores used by others): figures will be low`);
      log(`round ${r + 1}/${rounds}: ${order.join(', ')} (iperf3 ${seconds} s each, -M ${MSS}; ${fmt(POLICIES)} policies in overlayPolicies)`);
      for (const c of order) await measure(c);
    }
    await setPolicies(t, 0);
  } finally {
    for (const s of servers) s.stop();
  }
  const underlay = pathResult(raw.underlay);
  const overlay = pathResult(raw.overlay);
  const overlayPolicies = pathResult(raw.overlayPolicies);
  return {
    mss: MSS,
    runSeconds: seconds,
    rounds,
    underlay,
    overlay,
    overlayPolicies,
    policies: POLICIES,
    overlayRatio: round(overlay.gbps.median / underlay.gbps.median),
    policyRatio: round(overlayPolicies.gbps.median / overlay.gbps.median),
    busyBefore,
    quietCores: o.quietCores,
  };
}

// ---------------------------------------------------------------- API call → kernel

export async function benchApiToKernel(t: TwoHosts, o: BenchOptions): Promise<ApiToKernelResult> {
  const trials = o.quick ? 10 : 30;
  const ports = Array.from({ length: trials }, (_, i) => PROBE_PORT_BASE + i);
  const agentLog = join(t.box.dataDir, 'logs', 'agent-h2.log');
  const logStart = readFileSync(agentLog, 'utf8').length;
  const target = await t.box.probe(t.c.id);
  const prober = await t.box.probe(t.a.id);
  const allow: number[] = [];
  const deny: number[] = [];
  const calls: number[] = [];
  let attemptsBefore = 0;
  try {
    const s = await target.ask({ op: 'serve', ports, host: t.c.ip });
    if (!s.ok) throw new Error(`netprobe serve in ${t.c.id}: ${s.error}`);
    log(`api→kernel: ${trials} × (CreateSecurityGroupPolicies accept TCP port → a new connection a → c passes; DeleteSecurityGroupPolicies → a new one fails)`);
    for (const port of ports) {
      const policy = { Protocol: 'TCP', Port: String(port), CidrBlock: `${t.a.ip}/32`, Action: 'ACCEPT' };
      const set = { SecurityGroupId: t.sgProbe, SecurityGroupPolicySet: { Ingress: [policy] } };
      // Attempts start before the call and fail until the rule is in the kernel.
      const opened = prober.ask<{ at: string; attempts: number }>({ op: 'open', host: t.c.ip, port, everyMs: 2, timeoutMs: 10_000 }, 15_000);
      await sleep(100);
      const c0 = hr();
      await t.box.vpc.CreateSecurityGroupPolicies(set);
      const answered = hr();
      calls.push(msSince(c0, answered));
      const r = await opened;
      if (!r.ok) throw new Error(`port ${port} did not open within 10 s of CreateSecurityGroupPolicies: ${r.error}`);
      // A port that opened on the first attempt was not closed before the call: the figure would be void.
      if (r.attempts < 10) throw new Error(`port ${port} was open before its policy was created (${r.attempts} attempts)`);
      attemptsBefore += r.attempts;
      allow.push(msSince(answered, BigInt(r.at)));

      const closed = prober.ask<{ at: string; attempts: number }>({ op: 'closed', host: t.c.ip, port, everyMs: 2, failAfterMs: 300, timeoutMs: 10_000 }, 15_000);
      await sleep(100);
      const d0 = hr();
      await t.box.vpc.DeleteSecurityGroupPolicies(set);
      const gone = hr();
      calls.push(msSince(d0, gone));
      const d = await closed;
      if (!d.ok) throw new Error(`port ${port} still open 10 s after DeleteSecurityGroupPolicies: ${d.error}`);
      if (d.attempts < 10) throw new Error(`port ${port} was closed before its policy was deleted (${d.attempts} attempts)`);
      deny.push(msSince(gone, BigInt(d.at)));
    }
  } finally {
    target.stop();
    prober.stop();
  }
  const sa = summarize(allow);
  const sd = summarize(deny);
  const sc = summarize(calls);
  return {
    trials,
    allow: { p50: round(sa.p50), p99: round(sa.p99), max: round(sa.max), samples: allow.map(round), attemptsBefore: Math.round(attemptsBefore / trials) },
    deny: { p50: round(sd.p50), p99: round(sd.p99), max: round(sd.max), samples: deny.map(round) },
    apiCallMs: { p50: round(sc.p50), p99: round(sc.p99) },
    agentApplies: appliesIn(readFileSync(agentLog, 'utf8').slice(logStart)),
  };
}

/** Summary of the agent's "applied revision N: k change(s) in T ms (read 12, nft 8 ms)" lines. */
export function appliesIn(log: string): ApiToKernelResult['agentApplies'] {
  const totals: number[] = [];
  const phases = new Map<string, number[]>();
  for (const m of log.matchAll(/applied revision \d+: \d+ change\(s\) in (\d+) ms(?: \((.*) ms\))?/g)) {
    totals.push(Number(m[1]));
    for (const part of (m[2] ?? '').split(', ')) {
      const [k, v] = part.split(' ');
      if (k && v) phases.set(k, [...(phases.get(k) ?? []), Number(v)]);
    }
  }
  // A phase missing from a line took 0 ms in that apply.
  const med = (xs: number[]) => round(median([...xs, ...Array<number>(totals.length - xs.length).fill(0)]));
  return { count: totals.length, p50: round(median(totals)), phases: Object.fromEntries([...phases].map(([k, xs]) => [k, med(xs)])) };
}

// ---------------------------------------------------------------- scale

export async function benchScale(o: BenchOptions): Promise<ScaleResult> {
  const total = SCALE_INSTANCES;
  log(`scale: one host, ${fmt(total)} instances (${total / SCALE_BATCH} × RunInstances InstanceCount ${SCALE_BATCH})`);
  const box = await startBox('scale', 1, [`instance=${total * 2}`]);
  try {
    const { vpc, cvm } = box;
    const vpcId = (await vpc.CreateVpc({ VpcName: 'scale', CidrBlock: '10.8.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'scale', CidrBlock: '10.8.0.0/20', Zone: 'local-1' })).Subnet!.SubnetId!;
    const sg = (
      await vpc.CreateSecurityGroupWithPolicies({
        GroupName: 'scale',
        GroupDescription: 'bench',
        SecurityGroupPolicySet: {
          Ingress: [
            { Protocol: 'TCP', Port: '22', CidrBlock: '10.8.0.0/16', Action: 'ACCEPT' },
            { Protocol: 'ICMP', CidrBlock: '10.8.0.0/16', Action: 'ACCEPT' },
          ],
          Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
        },
      })
    ).SecurityGroup!.SecurityGroupId!;
    await waitForQuiet(o.quietCores, 15_000);
    const t0 = hr();
    const callMs: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < total / SCALE_BATCH; i++) {
      const c0 = hr();
      const r = await cvm.RunInstances({
        Placement: { Zone: 'local-1' },
        VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId },
        SecurityGroupIds: [sg],
        InstanceCount: SCALE_BATCH,
        InstanceName: `scale-${i}`,
      });
      callMs.push(msSince(c0));
      ids.push(...r.InstanceIdSet!);
    }
    const callsDone = msSince(t0) / 1000;
    const running = async () =>
      (await cvm.DescribeInstances({ Filters: [{ Name: 'instance-state', Values: ['RUNNING'] }], Limit: 1 })).TotalCount ?? 0;
    let first = NaN;
    let half = NaN;
    let last = -1;
    const all = await until(
      `${total} instances RUNNING`,
      async () => {
        const n = await running();
        const s = msSince(t0) / 1000;
        if (n > 0 && Number.isNaN(first)) first = s;
        if (n >= total / 2 && Number.isNaN(half)) half = s;
        if (n !== last) log(`  ${n} RUNNING after ${s.toFixed(1)} s`);
        last = n;
        return n >= total && s;
      },
      600_000,
      250,
    );
    const agentPid = box.agents.h1!;
    const mem = memory(agentPid);
    if (!mem) throw new Error(`agent h1 (pid ${agentPid}) is not running`);
    const namespaces = box.namespaces().length;
    // A figure only counts if the instances really are plugged: the first and the last can talk.
    const ips = (await cvm.DescribeInstances({ InstanceIds: [ids[0]!, ids[ids.length - 1]!] })).InstanceSet!.map((i) => i.PrivateIpAddresses![0]!);
    const pingOk = (await box.exec(ids[0]!, ['ping', '-c', '1', '-W', '2', ips[1]!])).code === 0;
    const check = `${namespaces} namespaces; ping ${ids[0]} → ${ids[ids.length - 1]} ${pingOk ? 'ok' : 'FAILED'}`;
    const agentLog = readFileSync(join(box.dataDir, 'logs', 'agent-h1.log'), 'utf8').split('\n').filter((l) => /applied|failed/.test(l));
    const d0 = hr();
    await box.down();
    return {
      instances: total,
      calls: callMs.length,
      callMs: { p50: round(median(callMs)), max: round(Math.max(...callMs)) },
      seconds: { calls: round(callsDone), first: round(first), half: round(half), all: round(all) },
      agentRss: { rssMB: round(mem.rssMB), peakMB: round(mem.peakMB) },
      namespaces,
      applies: agentLog.slice(-40),
      check,
      downSeconds: round(msSince(d0) / 1000),
    };
  } finally {
    await box.down();
  }
}

// ---------------------------------------------------------------- report

const verdict = (ok: boolean, miss: string) => (ok ? 'ok' : `MISS: ${miss}`);
const isError = (x: object | undefined): x is { error: string } => !!x && 'error' in x;

export function report(r: DataplaneResult): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  const out: string[] = [];
  const p = r.paths;
  if (isError(p)) out.push(`paths: FAILED: ${p.error}`, '');
  else if (p) {
    const row = (what: string, x: PathResult, ratio: string, goal: string) => [
      what,
      `${fmt(x.gbps.median)} (${fmt(x.gbps.min)}–${fmt(x.gbps.max)})`,
      String(x.retransmits),
      x.mssSeen === undefined ? '—' : String(x.mssSeen),
      `${fmt(x.ping.p50)} / ${fmt(x.ping.p99)}`,
      `${x.ping.received}/${x.ping.sent}`,
      `${fmt(x.connect.p50)} / ${fmt(x.connect.p99)}`,
      ratio,
      goal,
    ];
    out.push(
      `Instance ↔ instance across two hosts (VXLAN overlay) against the underlay between the two host namespaces; iperf3 -M ${p.mss} on both, ${p.rounds} × ${p.runSeconds} s (after 1 s omitted), interleaved; ping -i 0.01; new connection = TCP connect until established`,
      table(
        ['path', 'Gbit/s median (min–max)', 'retr', 'mss seen', 'ping p50 / p99 ms', 'replies', 'connect p50 / p99 ms', 'ratio', 'goal'],
        [
          row('underlay h1 → h2', p.underlay, '1', ''),
          row('overlay a → b', p.overlay, `${fmt(p.overlayRatio)} of underlay`, `≥ ${GOALS.overlayRatio} → ${verdict(p.overlayRatio >= GOALS.overlayRatio, 'below')}`),
          row(
            `overlay, ${fmt(p.policies)} policies`,
            p.overlayPolicies,
            `${fmt(p.policyRatio)} of overlay`,
            `≥ ${GOALS.policyRatio} → ${verdict(p.policyRatio >= GOALS.policyRatio, 'below')}`,
          ),
        ],
      ),
      `Cores busy before each round (of ${cpus().length}): ${p.busyBefore.join(', ')}${
        p.busyBefore.some((b) => b > p.quietCores) ? '\nNOTE: other processes kept the machine busy before some rounds: absolute figures understate the paths; the ratios compare runs interleaved under the same load' : ''
      }`,
      '',
    );
  }
  const k = r.apiToKernel;
  if (isError(k)) out.push(`api→kernel: FAILED: ${k.error}`, '');
  else if (k)
    out.push(
      `API call → kernel: from the SDK call's response until a probe from instance a (h1) sees the change at instance c (h2); ${k.trials} trials, new connection attempts every 2 ms`,
      table(
        ['change', 'p50 ms', 'p99 ms', 'max ms', 'goal'],
        [
          ['CreateSecurityGroupPolicies accept → new connection passes', fmt(k.allow.p50), fmt(k.allow.p99), fmt(k.allow.max), `p99 < ${fmt(GOALS.apiToKernelP99Ms)} ms → ${verdict(k.allow.p99 < GOALS.apiToKernelP99Ms, 'too slow')}`],
          ['DeleteSecurityGroupPolicies → new connection fails', fmt(k.deny.p50), fmt(k.deny.p99), fmt(k.deny.max), `p99 < ${fmt(GOALS.apiToKernelP99Ms)} ms → ${verdict(k.deny.p99 < GOALS.apiToKernelP99Ms, 'too slow')}`],
        ],
      ),
      `(the API calls themselves: p50 ${fmt(k.apiCallMs.p50)} ms, p99 ${fmt(k.apiCallMs.p99)} ms; the h2 agent's ${k.agentApplies.count} applies: median ${fmt(k.agentApplies.p50)} ms, of which ${
        Object.entries(k.agentApplies.phases).map(([p, ms]) => `${p} ${fmt(ms)}`).join(', ') || '—'
      } ms)`,
      '',
    );
  const s = r.scale;
  if (isError(s)) out.push(`scale: FAILED: ${s.error}`, '');
  else if (s)
    out.push(
      `One host, ${fmt(s.instances)} instances: ${s.calls} × RunInstances InstanceCount ${SCALE_BATCH} (calls p50 ${fmt(s.callMs.p50)} ms, max ${fmt(s.callMs.max)} ms); seconds from the first call`,
      table(
        ['figure', 'value', 'goal'],
        [
          ['all calls answered', `${fmt(s.seconds.calls)} s`, ''],
          ['first RUNNING', `${fmt(s.seconds.first)} s`, ''],
          ['half RUNNING', `${fmt(s.seconds.half)} s`, ''],
          ['all RUNNING', `${fmt(s.seconds.all)} s`, `< ${GOALS.scaleSeconds} s → ${verdict(s.seconds.all < GOALS.scaleSeconds, 'too slow')}`],
          ['agent h1 VmRSS (peak)', `${fmt(s.agentRss.rssMB)} MB (${fmt(s.agentRss.peakMB)} MB)`, `< ${GOALS.agentRssMB} MB → ${verdict(s.agentRss.rssMB < GOALS.agentRssMB, 'too large')}`],
          ['weft down', `${fmt(s.downSeconds)} s`, ''],
        ],
      ),
      `check: ${s.check}`,
      '',
    );
  out.push(r.namespacesLeft.length ? `LEFT BEHIND: namespaces ${r.namespacesLeft.join(', ')}` : 'ip netns list: no namespace of the bench left');
  return out.join('\n');
}

export const dataplaneBench: BenchModule = {
  name: 'dataplane',
  description: 'Linux data plane (root): overlay vs underlay throughput and latency, 1,000 policies, API call → kernel, 1,000 instances on a host',
  async run(o) {
    const result: DataplaneResult = { goals: GOALS, namespacesLeft: [] };
    const missing = ['iperf3', 'ping', 'nft', 'ss'].filter((tool) => !onPath(tool));
    if (!isRoot) result.skipped = 'needs root (network namespaces, nftables)';
    else if (missing.length) result.skipped = `missing tools: ${missing.join(', ')}`;
    if (result.skipped) {
      log(`skipped: ${result.skipped}`);
      return { report: report(result), json: result };
    }
    let t: TwoHosts | undefined;
    try {
      t = await twoHosts();
      result.paths = await benchPaths(t, o).catch((e: Error) => ({ error: e.message }));
      result.apiToKernel = await benchApiToKernel(t, o).catch((e: Error) => ({ error: e.message }));
    } catch (e) {
      result.paths ??= { error: (e as Error).message };
    } finally {
      await t?.box.down();
    }
    result.scale = await benchScale(o).catch((e: Error) => ({ error: e.message }));
    // Whatever the bench's regions made and did not remove.
    result.namespacesLeft = netnsList().filter((n) => PREFIXES.some((p) => n.startsWith(`${p}-`)));
    return { report: report(result), json: result };
  },
};

function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  return dirs.some((d) => d && existsSync(join(d, tool)));
}
