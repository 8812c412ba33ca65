/**
 * The gateway cluster's limits and NAT, on a real region in a box (root, four
 * gateway nodes), each figure against its reference:
 *
 *   distributed  an EIP with a ≥ 10 Mbit/s limit, 16 TCP flows from the
 *                instance to the internet client, spread over the 4 nodes by
 *                the fabric router's ECMP (unevenly: the bytes each node
 *                carried are shown); goodput against the limit's goodput
 *                (HTB counts frames: 1514 bytes on the link per 1448 of
 *                payload, so a limit L carries at most L × 1448/1514)
 *   small        pinned limits of 1, 2 and 5 Mbit/s (enforced on the owner
 *                node), measured the same way
 *   change       ModifyAddressesBandwidth → every node's HTB holding the new
 *                limit (shares adding up to at most it), polled every 20 ms
 *   nat          new TCP connections per second from a private instance
 *                through the NAT gateway (conntrack, one node), against the
 *                same load through the EIP (stateless, any node)
 */
import { execFileSync } from 'node:child_process';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { inRegion, isRoot, startBox, until, type Box } from './lib/box.js';
import { waitForQuiet } from './lib/proc.js';
import { fmt, round, table } from './lib/stats.js';

const GATEWAYS = 4;
const GOODPUT = 1448 / 1514;
const log = (s: string) => process.stderr.write(`[limits] ${s}\n`);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface LimitsResult {
  skipped?: string;
  error?: string;
  distributed?: { limitMbps: number; goodputMbps: number; ofLimit: number; nodeShares: number[] }[];
  small?: { limitMbps: number; goodputMbps: number; ofLimit: number }[];
  change?: { from: number; to: number; ms: number }[];
  nat?: { natPerSecond: number; eipPerSecond: number; ratio: number; seconds: number; concurrency: number };
  namespacesLeft: string[];
}

interface Region {
  box: Box;
  e: string;
  n: string;
  eipId: string;
}

async function region(): Promise<Region> {
  const box = await startBox('limits', 2, [], GATEWAYS);
  const { vpc, cvm } = box;
  const vpcId = (await vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const pub = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'public', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const priv = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'private', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
  const sg = (await vpc.CreateSecurityGroupWithPolicies({
    GroupName: 'open',
    GroupDescription: 'bench',
    SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
  })).SecurityGroup!.SecurityGroupId!;
  const run = async (zone: string, subnet: string) =>
    (await cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg], InstanceName: 'bench' })).InstanceIdSet![0]!;
  const e = await run('local-1', pub);
  const n = await run('local-2', priv);
  await until('the instances RUNNING', async () => (await cvm.DescribeInstances({ InstanceIds: [e, n] })).InstanceSet!.every((i) => i.InstanceState === 'RUNNING'), 60_000);
  const eipId = (await vpc.AllocateAddresses({ AddressCount: 1, InternetMaxBandwidthOut: 40 })).AddressSet![0]!;
  await vpc.AssociateAddress({ AddressId: eipId, InstanceId: e });
  // The private subnet reaches the internet through a NAT gateway.
  const privTable = (await vpc.CreateRouteTable({ VpcId: vpcId, RouteTableName: 'private' })).RouteTable!.RouteTableId!;
  await vpc.ReplaceRouteTableAssociation({ SubnetId: priv, RouteTableId: privTable });
  const nat = (await vpc.CreateNatGateway({ VpcId: vpcId, NatGatewayName: 'bench', AddressCount: 1 })).NatGatewaySet![0]!.NatGatewayId!;
  const natIp = (
    await until('NAT AVAILABLE', async () => {
      const g = (await vpc.DescribeNatGateways({ NatGatewayIds: [nat] })).NatGatewaySet![0]!;
      return g.State === 'AVAILABLE' && g;
    }, 60_000)
  ).PublicIpAddressSet![0]!.PublicIpAddress!;
  await vpc.CreateNatGatewaySourceIpTranslationNatRule({
    NatGatewayId: nat,
    SourceIpTranslationNatRules: [{ ResourceType: 'SUBNET', ResourceId: priv, PrivateIpAddress: '10.0.2.0/24', PublicIpAddresses: [natIp], Description: 'bench' }],
  });
  await vpc.CreateRoutes({ RouteTableId: privTable, Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayType: 'NAT', GatewayId: nat }] });
  for (const i of [e, n]) await until(`${i} → internet`, async () => (await box.exec(i, ['ping', '-c', '1', '-W', '1', '198.18.0.10'])).code === 0, 30_000);
  return { box, e, n, eipId };
}

/** Goodput (Mbit/s) the internet client receives from `from` over `streams` flows, the first `omit` s left out. */
async function goodput(box: Box, from: string, o: { seconds: number; omit: number; streams: number; port: number }): Promise<number> {
  const server = box.spawnIn('internet', ['iperf3', '-s', '-1', '-p', String(o.port)]);
  try {
    await sleep(300);
    const r = await box.exec(from, ['iperf3', '-c', '198.18.0.10', '-p', String(o.port), '-P', String(o.streams), '-t', String(o.seconds), '-O', String(o.omit), '-J'], (o.seconds + o.omit + 20) * 1000);
    const j = JSON.parse(r.out) as { end?: { sum_received?: { bits_per_second: number } }; error?: string };
    if (!j.end?.sum_received) throw new Error(`iperf3 from ${from}: ${j.error ?? r.err}`);
    return j.end.sum_received.bits_per_second / 1e6;
  } finally {
    server.stop();
  }
}

/** Per gateway: bytes its root HTB classes (the EIPs) have sent, and their rates (bit/s). */
function classes(box: Box): { bytes: number; rate: number }[] {
  return Array.from({ length: GATEWAYS }, (_, i) => {
    const text = execFileSync('tc', ['-n', `${box.prefix}-gw${i + 1}`, '-s', 'class', 'show', 'dev', 'i0'], { encoding: 'utf8' });
    const root = /class htb \S+ root rate (\S+) [^\n]*\n Sent (\d+) bytes/.exec(text);
    const unit = (t: string) => Number(/[\d.]+/.exec(t)![0]) * (t.includes('Gbit') ? 1e9 : t.includes('Mbit') ? 1e6 : t.includes('Kbit') ? 1e3 : 1);
    return root ? { bytes: Number(root[2]), rate: unit(root[1]!) } : { bytes: 0, rate: 0 };
  });
}

async function setLimit(r: Region, mbps: number): Promise<void> {
  await r.box.vpc.ModifyAddressesBandwidth({ AddressIds: [r.eipId], InternetMaxBandwidthOut: mbps });
}

/** Connections per second a Node loop opens (and closes) to the internet client's server from `from`. */
async function connectRate(box: Box, from: string, seconds: number, concurrency: number): Promise<number> {
  const server = box.spawnIn('internet', [process.execPath, '-e', "require('net').createServer((s)=>s.end()).listen(7000,'198.18.0.10')"]);
  try {
    await sleep(500);
    const client = `const net=require('net');let n=0,fail=0;const end=Date.now()+${seconds * 1000};
function one(){if(Date.now()>end)return;const s=net.connect(7000,'198.18.0.10');s.on('connect',()=>{n++;s.destroy();one();});s.on('error',()=>{fail++;s.destroy();one();});}
for(let i=0;i<${concurrency};i++)one();setTimeout(()=>{console.log(JSON.stringify({n,fail}));process.exit(0);},${seconds * 1000 + 200});`;
    const r = await box.exec(from, [process.execPath, '-e', client], (seconds + 20) * 1000);
    const { n } = JSON.parse(r.out) as { n: number };
    return n / seconds;
  } finally {
    server.stop();
  }
}

export async function benchLimits(o: BenchOptions): Promise<LimitsResult> {
  const result: LimitsResult = { namespacesLeft: [] };
  const seconds = o.quick ? 8 : 15;
  return inRegion(result, region, async (r) => {
    result.distributed = [];
    for (const limit of o.quick ? [40] : [40, 10]) {
      await setLimit(r, limit);
      await waitForQuiet(o.quietCores, 15_000);
      log(`distributed: ${limit} Mbit/s over ${GATEWAYS} nodes, 16 flows, ${seconds} s after 10 s to settle`);
      const before = classes(r.box);
      const mbps = await goodput(r.box, r.e, { seconds, omit: 10, streams: 16, port: 5201 });
      const sent = classes(r.box).map((c, i) => c.bytes - before[i]!.bytes);
      const total = sent.reduce((a, b) => a + b, 0) || 1;
      result.distributed.push({ limitMbps: limit, goodputMbps: round(mbps), ofLimit: round(mbps / (limit * GOODPUT)), nodeShares: sent.map((b) => round(b / total)) });
    }
    result.small = [];
    for (const limit of [1, 2, 5]) {
      await setLimit(r, limit);
      await sleep(2000);
      log(`small: ${limit} Mbit/s, pinned to the owner node`);
      const mbps = await goodput(r.box, r.e, { seconds: o.quick ? 6 : 10, omit: 3, streams: 4, port: 5202 });
      result.small.push({ limitMbps: limit, goodputMbps: round(mbps), ofLimit: round(mbps / (limit * GOODPUT)) });
    }
    result.change = [];
    for (const [from, to] of [
      [40, 20],
      [20, 40],
    ] as const) {
      await setLimit(r, from);
      await until(`${from} Mbit/s in place`, async () => Math.abs(classes(r!.box).reduce((a, c) => a + c.rate, 0) - from * 1e6) <= from * 1e4 * 2, 30_000, 50);
      const t0 = performance.now();
      await setLimit(r, to);
      await until(`${to} Mbit/s in place`, async () => Math.abs(classes(r!.box).reduce((a, c) => a + c.rate, 0) - to * 1e6) <= to * 1e4 * 2, 30_000, 20);
      result.change.push({ from, to, ms: Math.round(performance.now() - t0) });
    }
    await setLimit(r, 100); // out of the way of the connection test
    await sleep(2000);
    const concurrency = 16;
    const connSeconds = o.quick ? 3 : 5;
    await waitForQuiet(o.quietCores, 15_000);
    log(`nat: new connections per second, ${concurrency} at a time, ${connSeconds} s, through the NAT gateway and through the EIP`);
    const natPerSecond = await connectRate(r.box, r.n, connSeconds, concurrency);
    const eipPerSecond = await connectRate(r.box, r.e, connSeconds, concurrency);
    result.nat = { natPerSecond: Math.round(natPerSecond), eipPerSecond: Math.round(eipPerSecond), ratio: round(natPerSecond / eipPerSecond), seconds: connSeconds, concurrency };
  });
}

export function report(r: LimitsResult): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  const lines: string[] = [];
  if (r.error) lines.push(`limits: FAILED: ${r.error}`);
  if (r.distributed?.length)
    lines.push(
      `EIP limits over ${GATEWAYS} gateway nodes (16 TCP flows; goodput against the limit's goodput, L × 1448/1514)`,
      table(
        ['limit', 'goodput Mbit/s', 'of the limit', 'bytes per node (ECMP)'],
        r.distributed.map((d) => [`${d.limitMbps} Mbit/s, split`, fmt(d.goodputMbps), fmt(d.ofLimit), d.nodeShares.map((s) => `${Math.round(s * 100)} %`).join(' / ')]),
      ),
    );
  if (r.small?.length)
    lines.push(table(['limit', 'goodput Mbit/s', 'of the limit'], r.small.map((d) => [`${d.limitMbps} Mbit/s, pinned`, fmt(d.goodputMbps), fmt(d.ofLimit)])));
  if (r.change?.length) lines.push(table(['limit change', 'until every node holds it'], r.change.map((c) => [`${c.from} → ${c.to} Mbit/s`, `${c.ms} ms`])));
  if (r.nat)
    lines.push(
      table(
        ['new TCP connections per second', 'per s', 'ratio'],
        [
          [`through the EIP (stateless, ${r.nat.concurrency} at a time)`, String(r.nat.eipPerSecond), '1'],
          ['through the NAT gateway (conntrack SNAT, one node, conntrackd)', String(r.nat.natPerSecond), `${fmt(r.nat.ratio)} of the EIP path`],
        ],
      ),
    );
  lines.push(r.namespacesLeft.length ? `LEFT BEHIND: namespaces ${r.namespacesLeft.join(', ')}` : 'ip netns list: no namespace of the bench left');
  return lines.join('\n');
}

export const limitsBench: BenchModule = {
  name: 'limits',
  description: 'Gateway cluster (root, 4 nodes): distributed and pinned EIP limits, limit change latency, NAT connections per second',
  async run(o) {
    if (!isRoot) {
      const result: LimitsResult = { skipped: 'needs root (network namespaces, nftables, tc)', namespacesLeft: [] };
      return { report: report(result), json: result };
    }
    const result = await benchLimits(o);
    return { report: report(result), json: result };
  },
};
