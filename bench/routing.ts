/**
 * The routing bench: a real region in a box (`weft up --dataplane linux`,
 * root), measured in one run side by side and reported as ratios.
 *
 *   direct     iperf3 a (h1) → b (h2), instance to instance across hosts
 *   next hop   a (h1) → 192.168.50.2, a namespace behind instance f (h2),
 *              through the route 192.168.50.0/24 → NORMAL_CVM f: the same
 *              tunnel, plus f's port, f forwarding, and f's veth
 *   acl        a → b again with b's subnet under a network ACL of 1,000
 *              entries per direction, the matching ones last
 *
 * Every figure comes from namespaces the bench creates; `weft down` removes
 * them (lib/box.ts registers it for failures and Ctrl-C too).
 */
import { execFileSync } from 'node:child_process';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { inRegion, iperfGbps, isRoot, startBox, until, type Box } from './lib/box.js';
import { waitForQuiet } from './lib/proc.js';
import { fmt, round, spreadOf, table, type Spread } from './lib/stats.js';

export const GOALS = {
  /** Throughput with a 1,000-entry ACL over the figure without one. */
  aclRatio: 0.95,
};

const MSS = 1460; // as bench/dataplane.ts: what 1500-byte instances advertise
const ENTRIES = 1000;
const PORT = 5201;
const log = (s: string) => process.stderr.write(`[routing] ${s}\n`);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));



export interface RoutingResult {
  skipped?: string;
  error?: string;
  goals: typeof GOALS;
  mss?: number;
  runSeconds?: number;
  rounds?: number;
  entries?: number;
  gbps?: { direct: Spread; nextHop: Spread; acl: Spread };
  nextHopRatio?: number;
  aclRatio?: number;
  namespacesLeft: string[];
}

interface Region {
  box: Box;
  acl: string;
  aclOn: boolean;
  subnetTwo: string;
  a: string;
  b: string;
}

/** Entries that never match the bench flow (TCP between 10.0.1.0/24 and 10.0.2.10): other ports, protocols and peers. */
function filler(i: number) {
  switch (i % 4) {
    case 0:
      return { Protocol: 'TCP', Port: String(20000 + i), CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' };
    case 1:
      return { Protocol: 'ALL', CidrBlock: `172.${16 + ((i >> 8) & 15)}.${i & 255}.0/24`, Action: 'DROP' };
    case 2:
      return { Protocol: 'UDP', Port: `${30000 + i}-${30000 + i + 5}`, CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' };
    default:
      return { Protocol: 'TCP', Port: '22', CidrBlock: `192.168.${(i >> 2) & 255}.0/24`, Action: 'DROP' };
  }
}

async function region(): Promise<Region> {
  const box = await startBox('routing', 2, [`aclEntryPerDirection=${ENTRIES + 10}`]);
  const { vpc, cvm } = box;
  const vpcId = (await vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const one = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'one', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const two = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'two', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
  const sg = (await vpc.CreateSecurityGroupWithPolicies({
    GroupName: 'open',
    GroupDescription: 'bench',
    SecurityGroupPolicySet: {
      Ingress: [
        { Protocol: 'ALL', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' },
        { Protocol: 'ALL', CidrBlock: '192.168.0.0/16', Action: 'ACCEPT' },
      ],
      Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
    },
  })).SecurityGroup!.SecurityGroupId!;
  const run = async (zone: string, subnet: string, ip: string) =>
    (await cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet, PrivateIpAddresses: [ip] }, SecurityGroupIds: [sg], InstanceName: 'bench' }))
      .InstanceIdSet![0]!;
  const a = await run('local-1', one, '10.0.1.10');
  const b = await run('local-2', two, '10.0.2.10');
  const f = await run('local-2', two, '10.0.2.20');
  await until('the instances RUNNING', async () => (await cvm.DescribeInstances({ InstanceIds: [a, b, f] })).InstanceSet!.every((i) => i.InstanceState === 'RUNNING'), 60_000);

  // The network behind f: a namespace on a veth of f's, f forwarding.
  const behind = `${box.prefix}-behind`;
  execFileSync('ip', ['netns', 'add', behind]);
  const inF = (cmd: string[]) => execFileSync('ip', ['netns', 'exec', `${box.prefix}-${f}`, ...cmd]);
  execFileSync('ip', ['-n', `${box.prefix}-${f}`, 'link', 'add', 'b1', 'type', 'veth', 'peer', 'name', 'b0', 'netns', behind]);
  inF(['ip', 'addr', 'add', '192.168.50.1/24', 'dev', 'b1']);
  inF(['ip', 'link', 'set', 'b1', 'up']);
  inF(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  execFileSync('ip', ['-n', behind, 'addr', 'add', '192.168.50.2/24', 'dev', 'b0']);
  execFileSync('ip', ['-n', behind, 'link', 'set', 'b0', 'up']);
  execFileSync('ip', ['-n', behind, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', behind, 'route', 'add', 'default', 'via', '192.168.50.1']);
  const main = (await vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).RouteTableSet!.find((t) => t.Main)!.RouteTableId!;
  await vpc.CreateRoutes({ RouteTableId: main, Routes: [{ DestinationCidrBlock: '192.168.50.0/24', GatewayType: 'NORMAL_CVM', GatewayId: '10.0.2.20' }] });

  const acl = (await vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'bench' })).NetworkAcl!.NetworkAclId!;
  const fillers = Array.from({ length: ENTRIES - 1 }, (_, i) => filler(i));
  await vpc.ModifyNetworkAclEntries({
    NetworkAclId: acl,
    NetworkAclEntrySet: {
      Ingress: [...fillers, { Protocol: 'TCP', CidrBlock: '10.0.1.0/24', Port: 'ALL', Action: 'ACCEPT' }],
      Egress: [...fillers, { Protocol: 'TCP', CidrBlock: '10.0.1.0/24', Port: 'ALL', Action: 'ACCEPT' }],
    },
  });
  await until('a → b and a → behind', async () => (await ping(box, a, '10.0.2.10')) && (await ping(box, a, '192.168.50.2')), 30_000);
  return { box, acl, aclOn: false, subnetTwo: two, a, b };
}

const ping = async (box: Box, from: string, to: string) => (await box.exec(from, ['ping', '-c', '1', '-W', '1', to])).code === 0;

/** The ACL on subnet two or not; the ACL lets only TCP through, so ICMP is the positive evidence either way. */
async function setAcl(r: Region, on: boolean) {
  if (r.aclOn === on) return;
  r.aclOn = on;
  if (on) await r.box.vpc.AssociateNetworkAclSubnets({ NetworkAclId: r.acl, SubnetIds: [r.subnetTwo] });
  else await r.box.vpc.DisassociateNetworkAclSubnets({ NetworkAclId: r.acl, SubnetIds: [r.subnetTwo] });
  await until(`ACL ${on ? 'on' : 'off'} in the kernel`, async () => (await ping(r.box, r.a, '10.0.2.10')) !== on, 30_000);
}


export async function benchRouting(o: BenchOptions): Promise<RoutingResult> {
  const result: RoutingResult = { goals: GOALS, namespacesLeft: [] };
  const rounds = o.quick ? o.rounds : Math.max(o.rounds, 5);
  const seconds = o.quick ? 2 : 5;
  return inRegion(result, region, async (r) => {
    const servers = [r.box.spawnIn(r.b, ['iperf3', '-s', '-B', '10.0.2.10', '-p', String(PORT)]), r.box.spawnIn('behind', ['iperf3', '-s', '-B', '192.168.50.2', '-p', String(PORT)])];
    await sleep(1000);
    const runs = { direct: [] as number[], nextHop: [] as number[], acl: [] as number[] };
    type Config = keyof typeof runs;
    try {
      for (let i = 0; i < rounds; i++) {
        const order: Config[] = i % 2 ? ['acl', 'nextHop', 'direct'] : ['direct', 'nextHop', 'acl'];
        await waitForQuiet(o.quietCores, 15_000);
        log(`round ${i + 1}/${rounds}: ${order.join(', ')} (iperf3 ${seconds} s each, -M ${MSS}; ${ENTRIES} ACL entries per direction in acl)`);
        for (const c of order) {
          await setAcl(r, c === 'acl');
          runs[c].push(await iperfGbps(r.box, r.a, c === 'nextHop' ? '192.168.50.2' : '10.0.2.10', { seconds, mss: MSS, port: PORT }));
        }
      }
    } finally {
      for (const s of servers) s.stop();
    }
    const gbps = { direct: spreadOf(runs.direct), nextHop: spreadOf(runs.nextHop), acl: spreadOf(runs.acl) };
    Object.assign(result, {
      mss: MSS,
      runSeconds: seconds,
      rounds,
      entries: ENTRIES,
      gbps,
      nextHopRatio: round(gbps.nextHop.median / gbps.direct.median),
      aclRatio: round(gbps.acl.median / gbps.direct.median),
    });
  });
}

export function report(r: RoutingResult): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  if (r.error) return `routing: FAILED: ${r.error}`;
  const g = r.gbps!;
  const row = (what: string, s: Spread, ratio: string, goal: string) => [what, `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`, ratio, goal];
  return [
    `iperf3 -M ${r.mss}, ${r.rounds} × ${r.runSeconds} s (after 1 s omitted), interleaved; a on h1, b and next hop f on h2`,
    table(
      ['path', 'Gbit/s median (min–max)', 'ratio', 'goal'],
      [
        row('direct a → b', g.direct, '1', ''),
        row('a → network behind f (NORMAL_CVM next hop)', g.nextHop, `${fmt(r.nextHopRatio!)} of direct`, 'the extra hop’s cost'),
        row(`a → b, ${fmt(r.entries!)}-entry ACL each way`, g.acl, `${fmt(r.aclRatio!)} of direct`, `≥ ${GOALS.aclRatio} → ${r.aclRatio! >= GOALS.aclRatio ? 'met' : 'below'}`),
      ],
    ),
    r.namespacesLeft.length ? `LEFT BEHIND: namespaces ${r.namespacesLeft.join(', ')}` : 'ip netns list: no namespace of the bench left',
  ].join('\n');
}

export const routingBench: BenchModule = {
  name: 'routing',
  description: 'Routing on the Linux data plane (root): NORMAL_CVM next hop vs direct, 1,000-entry ACL vs none',
  async run(o) {
    if (!isRoot) {
      const result: RoutingResult = { skipped: 'needs root (network namespaces, nftables)', goals: GOALS, namespacesLeft: [] };
      return { report: report(result), json: result };
    }
    const result = await benchRouting(o);
    return { report: report(result), json: result };
  },
};
