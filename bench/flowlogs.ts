/**
 * The flow-log bench (issue 11): a real region in a box (root), two hosts, an
 * instance on each, measured in one run.
 *
 *   throughput  iperf3 TCP a → b across the hosts with a flow log (VPC, ALL)
 *               off and on, alternated round by round; the ratio on/off
 *               (goal ≥ 0.95)
 *   cpu         new UDP flows a → b at a fixed rate (each datagram from a new
 *               source port: a new conntrack entry in both routers), with the
 *               flow log on and off: CPU of both agents (their `conntrack -L`
 *               children included) and of the capture processes (conntrack -E,
 *               ulogd) over the window, per 1,000 new flows per second; and
 *               how many records the controller stored, as evidence the
 *               capture kept up
 *
 * The capture window is 5 s here (WEFT_FLOW_LOG_WINDOW_S) so a short run sees
 * several. Bounded: about two minutes with the defaults.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BenchOptions } from './lib/module.js';
import { inRegion, iperfGbps, netnsList, openGroup, rootBench, startBox, until, type Box } from './lib/box.js';
import { waitForQuiet } from './lib/proc.js';
import { weft } from './lib/server.js';
import { fmt, median, round, spreadOf, table, type Spread } from './lib/stats.js';

export const GOALS = { throughputRatio: 0.95 };
const WINDOW_S = 5;
const MSS = 1460;
const IPERF_PORT = 5201;
const FLOW_PORT = 6000;

const log = (s: string) => process.stderr.write(`[flowlogs] ${s}\n`);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface FlowLogsResult {
  skipped?: string;
  error?: string;
  goals: typeof GOALS;
  windowSeconds: number;
  throughput?: { off: Spread; on: Spread; ratio: number; seconds: number };
  cpu?: {
    flowsPerSecond: number;
    seconds: number;
    /** Cores used (CPU seconds / wall seconds) by the agents and the capture processes, and per 1,000 new flows/s. */
    off: { agents: number; capture: number; total: number };
    on: { agents: number; capture: number; total: number };
    onPer1000: number;
    addedPer1000: number;
    flowsSent: number;
    recordsStored: number;
  };
  busyBefore: number[];
  namespacesLeft: string[];
}

/** User + system CPU seconds of a process and of its children it has waited for (fields 14–17 of /proc/PID/stat). */
function cpuWithChildren(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}

/** Pids of the capture processes (conntrack -E, ulogd) in the region's routers. */
function capturePids(box: Box): number[] {
  return netnsList()
    .filter((n) => n.startsWith(`${box.prefix}-h`) && n.includes('-vpc-'))
    .flatMap((ns) => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number))
    .filter((pid) => {
      try {
        return ['conntrack', 'ulogd'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      } catch {
        return false;
      }
    });
}

interface Two {
  box: Box;
  vpcId: string;
  a: string;
  b: string;
  bIp: string;
  flowLogId: string;
}

async function twoHosts(): Promise<Two> {
  const before = process.env.WEFT_FLOW_LOG_WINDOW_S;
  process.env.WEFT_FLOW_LOG_WINDOW_S = String(WINDOW_S); // inherited by weft up and its agents
  const box = await startBox('flowlogs', 2, [], 0).finally(() => (before === undefined ? delete process.env.WEFT_FLOW_LOG_WINDOW_S : (process.env.WEFT_FLOW_LOG_WINDOW_S = before)));
  const vpcId = (await box.vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const s1 = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'one', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const s2 = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'two', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
  const sg = await openGroup(box);
  const run = async (zone: string, subnet: string, ip: string) =>
    (await box.cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet, PrivateIpAddresses: [ip] }, SecurityGroupIds: [sg] })).InstanceIdSet![0]!;
  const a = await run('local-1', s1, '10.0.1.10');
  const b = await run('local-2', s2, '10.0.2.10');
  await until('instances RUNNING', async () => (await box.cvm.DescribeInstances({ InstanceIds: [a, b] })).InstanceSet!.every((i) => i.InstanceState === 'RUNNING'), 60_000);
  for (const [inst, host] of [[a, 'h1'], [b, 'h2']] as const) {
    const links = await box.exec(`${host}-${vpcId}`, ['ip', '-o', 'link']);
    if (!links.out.includes(`p${inst.slice(4)}@`)) throw new Error(`${inst} is not on ${host}: the throughput would not cross hosts`);
  }
  await until('a → b', async () => (await box.exec(a, ['ping', '-c', '1', '-W', '1', '10.0.2.10'])).code === 0, 20_000, 100);
  const flowLogId = (await box.vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: 'bench', ResourceType: 'VPC', ResourceId: vpcId, TrafficType: 'ALL' })).FlowLog![0]!.FlowLogId!;
  await box.vpc.DisableFlowLogs({ FlowLogIds: [flowLogId] });
  return { box, vpcId, a, b, bIp: '10.0.2.10', flowLogId };
}

/** Turns the flow log on or off and waits until the capture processes are there (two routers: two conntrack, two ulogd) or gone. */
async function setFlowLog(t: Two, on: boolean) {
  await (on ? t.box.vpc.EnableFlowLogs({ FlowLogIds: [t.flowLogId] }) : t.box.vpc.DisableFlowLogs({ FlowLogIds: [t.flowLogId] }));
  await until(`flow log ${on ? 'on' : 'off'}`, async () => (capturePids(t.box).length === (on ? 4 : 0)), 30_000);
  if (on) await sleep(1000); // ulogd connects and binds its group
}

/** New UDP flows a → b at `rate` per second for `seconds`: each datagram from a fresh socket (a new source port). */
const flowScript = (ip: string, rate: number, seconds: number) => `
import socket, time
end = time.time() + ${seconds}
n = 0
t0 = time.time()
while time.time() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'x' * 64, ('${ip}', ${FLOW_PORT}))
    s.close()
    n += 1
    ahead = n / ${rate} - (time.time() - t0)
    if ahead > 0: time.sleep(ahead)
print(n)
`;

async function measureCpu(t: Two, rate: number, seconds: number) {
  const agents = Object.values(t.box.agents);
  const captures = capturePids(t.box);
  const a0 = agents.map(cpuWithChildren);
  const c0 = captures.map(cpuWithChildren);
  const w0 = Date.now();
  const r = await t.box.exec(t.a, ['python3', '-c', flowScript(t.bIp, rate, seconds)], (seconds + 30) * 1000);
  // The window that holds the last flows ends within WINDOW_S: count it too.
  await sleep((WINDOW_S + 1) * 1000);
  const wall = (Date.now() - w0) / 1000;
  const agentsCores = agents.reduce((s, p, i) => s + cpuWithChildren(p) - a0[i]!, 0) / wall;
  const captureCores = captures.reduce((s, p, i) => s + cpuWithChildren(p) - c0[i]!, 0) / wall;
  return { sent: Number(r.out.trim()) || 0, agents: agentsCores, capture: captureCores, total: agentsCores + captureCores };
}

async function measure(t: Two, o: BenchOptions, result: FlowLogsResult) {
  const seconds = o.quick ? 3 : 5;
  const rounds = o.quick ? 1 : Math.max(1, Math.min(o.rounds, 3));
  const server = t.box.spawnIn(t.b, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
  await sleep(500);
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < rounds; i++)
    for (const state of [false, true]) {
      await setFlowLog(t, state);
      const q = await waitForQuiet(o.quietCores, 15_000);
      result.busyBefore.push(round(q.busyCores));
      const g = await iperfGbps(t.box, t.a, t.bIp, { seconds, mss: MSS, port: IPERF_PORT });
      (state ? on : off).push(g);
      log(`round ${i + 1}: flow log ${state ? 'on ' : 'off'} ${g.toFixed(2)} Gbit/s`);
    }
  server.stop();
  result.throughput = { off: spreadOf(off), on: spreadOf(on), ratio: round(median(on) / median(off)), seconds };

  const rate = 1000;
  const flowSeconds = o.quick ? 5 : 10;
  await setFlowLog(t, false);
  const cpuOff = await measureCpu(t, rate, flowSeconds);
  log(`cpu, flow log off: ${cpuOff.total.toFixed(3)} cores (${cpuOff.sent} flows)`);
  await setFlowLog(t, true);
  const since = Math.floor(Date.now() / 1000);
  const cpuOn = await measureCpu(t, rate, flowSeconds);
  log(`cpu, flow log on: ${cpuOn.total.toFixed(3)} cores (${cpuOn.sent} flows)`);
  const rows = await weft(['flowlogs', '--data-dir', t.box.dataDir, '--flow-log-id', t.flowLogId, '--since', `${Math.floor(Date.now() / 1000) - since + 1}s`, '--json']);
  const records = rows.code === 0 ? (JSON.parse(rows.stdout) as { dstport: number; protocol: number }[]).filter((x) => x.protocol === 17 && x.dstport === FLOW_PORT).length : -1;
  const perK = (cores: number) => round(cores / (rate / 1000));
  result.cpu = {
    flowsPerSecond: rate,
    seconds: flowSeconds,
    off: { agents: round(cpuOff.agents), capture: round(cpuOff.capture), total: round(cpuOff.total) },
    on: { agents: round(cpuOn.agents), capture: round(cpuOn.capture), total: round(cpuOn.total) },
    onPer1000: perK(cpuOn.total),
    addedPer1000: perK(cpuOn.total - cpuOff.total),
    flowsSent: cpuOn.sent,
    recordsStored: records,
  };
}

async function flowLogsBench(o: BenchOptions): Promise<FlowLogsResult> {
  const result: FlowLogsResult = { goals: GOALS, windowSeconds: WINDOW_S, busyBefore: [], namespacesLeft: [] };
  return inRegion(result, twoHosts, (t) => measure(t, o, result));
}

function report(r: FlowLogsResult): string {
  if (r.skipped) return `flowlogs: skipped (${r.skipped})`;
  const lines: string[] = [];
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.throughput) {
    const t = r.throughput;
    lines.push(
      table(
        ['iperf3 a → b (two hosts)', 'min', 'median', 'max', 'Gbit/s'],
        [
          ['flow log off', fmt(t.off.min), fmt(t.off.median), fmt(t.off.max), ''],
          ['flow log on (VPC, ALL)', fmt(t.on.min), fmt(t.on.median), fmt(t.on.max), ''],
        ],
      ),
      `throughput on/off: ${t.ratio} (goal ≥ ${r.goals.throughputRatio}: ${t.ratio >= r.goals.throughputRatio ? 'met' : 'NOT met'}); ${t.off.runs.length} × ${t.seconds} s each`,
    );
  }
  if (r.cpu) {
    const c = r.cpu;
    lines.push(
      table(
        [`${c.flowsPerSecond} new UDP flows/s for ${c.seconds} s`, 'agents', 'capture', 'total (cores)'],
        [
          ['flow log off', fmt(c.off.agents), fmt(c.off.capture), fmt(c.off.total)],
          ['flow log on', fmt(c.on.agents), fmt(c.on.capture), fmt(c.on.total)],
        ],
      ),
      `agent CPU per 1,000 new flows/s with flow logs on: ${c.onPer1000} cores (${c.addedPer1000} more than off); ${c.flowsSent} flows sent, ${c.recordsStored} records of them stored (both interfaces: ≈ 2 per flow)`,
    );
  }
  lines.push(`capture window ${r.windowSeconds} s; other processes' cores before each throughput round: ${r.busyBefore.join(', ') || '—'}`);
  lines.push(r.namespacesLeft.length ? `NAMESPACES LEFT: ${r.namespacesLeft.join(', ')}` : 'namespaces left: none');
  return lines.join('\n');
}

export const flowLogsBenchModule = rootBench('flowlogs', 'flow logs: throughput on vs off, agent CPU per 1,000 new flows/s (root)', 'network namespaces', flowLogsBench, report);
