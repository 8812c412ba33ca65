/**
 * The public-network bench: a real region in a box (`weft up --dataplane
 * linux`, root, two gateways), measured side by side and reported as a ratio.
 *
 *   eip      iperf3 from the internet client to instance e's elastic IP:
 *            internet router → a gateway (ECMP) → stateless 1:1 translation →
 *            the VPC's tunnel → e's host → e
 *   overlay  iperf3 from instance b (h2) to e (h1): the same instance over the
 *            VPC's tunnel alone, no gateway and no translation
 *
 * The ratio is the gateway hop's cost. Every figure comes from namespaces the
 * bench creates; `weft down` removes them.
 */
import type { BenchModule, BenchOptions } from './lib/module.js';
import { inRegion, iperfGbps, isRoot, startBox, until, type Box } from './lib/box.js';
import { waitForQuiet } from './lib/proc.js';
import { fmt, round, spreadOf, table, type Spread } from './lib/stats.js';

const MSS = 1460; // as the other data-plane benches: what 1500-byte instances advertise
const PORT = 5201;
const log = (s: string) => process.stderr.write(`[public] ${s}\n`);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));



export interface PublicResult {
  skipped?: string;
  error?: string;
  mss?: number;
  runSeconds?: number;
  rounds?: number;
  gbps?: { eip: Spread; overlay: Spread };
  eipRatio?: number;
  namespacesLeft: string[];
}

interface Region {
  box: Box;
  e: string;
  b: string;
  eip: string;
}

async function region(): Promise<Region> {
  const box = await startBox('public', 2);
  const { vpc, cvm } = box;
  const vpcId = (await vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  const one = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'one', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  const two = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'two', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
  const sg = (await vpc.CreateSecurityGroupWithPolicies({
    GroupName: 'open',
    GroupDescription: 'bench',
    SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
  })).SecurityGroup!.SecurityGroupId!;
  const run = async (zone: string, subnet: string, ip: string) =>
    (await cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet, PrivateIpAddresses: [ip] }, SecurityGroupIds: [sg], InstanceName: 'bench' }))
      .InstanceIdSet![0]!;
  const e = await run('local-1', one, '10.0.1.10');
  const b = await run('local-2', two, '10.0.2.10');
  await until('the instances RUNNING', async () => (await cvm.DescribeInstances({ InstanceIds: [e, b] })).InstanceSet!.every((i) => i.InstanceState === 'RUNNING'), 60_000);
  // The highest limit (the default 1 Mbit/s would cap e's ACKs, which leave through the EIP too): the hop's cost, not a limit's.
  const address = (await vpc.AllocateAddresses({ AddressCount: 1, InternetMaxBandwidthOut: 100 })).AddressSet![0]!;
  await vpc.AssociateAddress({ AddressId: address, InstanceId: e });
  const eip = (await vpc.DescribeAddresses({ AddressIds: [address] })).AddressSet![0]!.AddressIp!;
  await until('internet → EIP', async () => (await box.exec('internet', ['ping', '-c', '1', '-W', '1', eip])).code === 0, 30_000);
  return { box, e, b, eip };
}


export async function benchPublic(o: BenchOptions): Promise<PublicResult> {
  const result: PublicResult = { namespacesLeft: [] };
  const rounds = o.quick ? o.rounds : Math.max(o.rounds, 5);
  const seconds = o.quick ? 2 : 5;
  return inRegion(result, region, async (r) => {
    const server = r.box.spawnIn(r.e, ['iperf3', '-s', '-B', '10.0.1.10', '-p', String(PORT)]);
    await sleep(1000);
    const runs = { eip: [] as number[], overlay: [] as number[] };
    try {
      for (let i = 0; i < rounds; i++) {
        const order: (keyof typeof runs)[] = i % 2 ? ['overlay', 'eip'] : ['eip', 'overlay'];
        await waitForQuiet(o.quietCores, 15_000);
        log(`round ${i + 1}/${rounds}: ${order.join(', ')} (iperf3 ${seconds} s each, -M ${MSS})`);
        for (const c of order) runs[c].push(await iperfGbps(r.box, c === 'eip' ? 'internet' : r.b, c === 'eip' ? r.eip : '10.0.1.10', { seconds, mss: MSS, port: PORT }));
      }
    } finally {
      server.stop();
    }
    const gbps = { eip: spreadOf(runs.eip), overlay: spreadOf(runs.overlay) };
    Object.assign(result, { mss: MSS, runSeconds: seconds, rounds, gbps, eipRatio: round(gbps.eip.median / gbps.overlay.median) });
  });
}

export function report(r: PublicResult): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  if (r.error) return `public: FAILED: ${r.error}`;
  const g = r.gbps!;
  return [
    `iperf3 -M ${r.mss}, ${r.rounds} × ${r.runSeconds} s (after 1 s omitted), interleaved; e on h1 with an EIP, b on h2, two gateways`,
    table(
      ['path', 'Gbit/s median (min–max)', 'ratio'],
      [
        ['b → e over the VPC tunnel', `${fmt(g.overlay.median)} (${fmt(g.overlay.min)}–${fmt(g.overlay.max)})`, '1'],
        ['internet → e’s EIP (gateway, 1:1 translation, tunnel)', `${fmt(g.eip.median)} (${fmt(g.eip.min)}–${fmt(g.eip.max)})`, `${fmt(r.eipRatio!)} of the tunnel alone`],
      ],
    ),
    r.namespacesLeft.length ? `LEFT BEHIND: namespaces ${r.namespacesLeft.join(', ')}` : 'ip netns list: no namespace of the bench left',
  ].join('\n');
}

export const publicBench: BenchModule = {
  name: 'public',
  description: 'Public network on the Linux data plane (root): internet → EIP through a gateway vs the VPC tunnel alone',
  async run(o) {
    if (!isRoot) {
      const result: PublicResult = { skipped: 'needs root (network namespaces, nftables)', namespacesLeft: [] };
      return { report: report(result), json: result };
    }
    const result = await benchPublic(o);
    return { report: report(result), json: result };
  },
};
