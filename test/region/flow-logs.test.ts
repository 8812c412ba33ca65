/**
 * Flow logs end to end, in a region in a box (root): flow logs of each
 * ResourceType on two instances in two subnets, accepted TCP and UDP flows
 * and UDP packets the receiver's security group drops, records read back with
 * `weft flowlogs --json` and from the JSON-lines file, bytes within ±5 % of
 * what was sent, and the capture processes running in the router namespaces
 * only while a flow log covers them. The capture window is 2 s
 * (WEFT_FLOW_LOG_WINDOW_S) so the test runs in seconds.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FlowLogRecord } from '../../src/contract/flow-logs.js';
import { isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run } from '../helpers/region.js';

const WINDOW_S = 2;
const TCP_BYTES = 2_000_000;
const UDP_PAYLOAD = 100;
/** IP bytes of one UDP datagram of UDP_PAYLOAD bytes: 20 (IP) + 8 (UDP) + payload. */
const UDP_IP_BYTES = 28 + UDP_PAYLOAD;

const within5 = (got: number, want: number, what: string) => {
  console.log(`# ${what}: ${got} bytes recorded for ${want} sent (${((got / want - 1) * 100).toFixed(2)} %)`);
  assert.ok(Math.abs(got - want) <= want * 0.05, `${what}: ${got} bytes recorded for ${want} sent (not within ±5 %)`);
};
const sum = (rs: FlowLogRecord[], k: 'bytes' | 'packets') => rs.reduce((a, r) => a + r[k], 0);

describe(`flow logs in a region in a box (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces, conntrack, ulogd2)' }, () => {
  let box: Box;
  let vpcId: string;
  let subnetB: string;
  const ip: Record<'a' | 'b', string> = { a: '', b: '' };
  const ins: Record<'a' | 'b', string> = { a: '', b: '' };

  const records = async (flowLogId: string): Promise<FlowLogRecord[]> => {
    const r = await run(['flowlogs', '--data-dir', box.dataDir, '--flow-log-id', flowLogId, '--since', '1h', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as FlowLogRecord[];
  };
  /** Capture processes (by name) running in the VPC's router namespaces. */
  const captureProcesses = () => {
    const routers = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`${box.prefix}-`) && n.endsWith(`-${vpcId}`));
    return routers.flatMap((ns) =>
      execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        // A process may exit between the two reads.
        .flatMap((pid) => {
          const comm = existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : undefined;
          return comm ? [`${ns.slice(box.prefix.length + 1, -vpcId.length - 1)}:${comm}`] : [];
        }),
    );
  };
  /**
   * Positive evidence that a log's capture of rejected packets runs (ulogd has
   * bound its NFLOG group): datagrams to port 7004, which b's group drops, until
   * one is recorded. Tests count port 7002 only.
   */
  const warmUp = (flowLogId: string) =>
    until(`${flowLogId} records a rejected packet`, async () => {
      await sendUdp('a', ip.b, 7004, 1);
      await new Promise((ok) => setTimeout(ok, 500));
      return (await records(flowLogId)).some((r) => r.dstport === 7004);
    }, 30_000);
  const sendUdp = (from: 'a' | 'b', to: string, port: number, n: number) =>
    box.exec(ins[from], ['python3', '-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor _ in range(${n}): s.sendto(b'x'*${UDP_PAYLOAD},('${to}',${port}))`]);

  before(async () => {
    box = await startBox(2, { WEFT_FLOW_LOG_WINDOW_S: String(WINDOW_S) });
    vpcId = (await box.vpc.CreateVpc({ VpcName: 'fl', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const subnetA = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    subnetB = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    // TCP 7000, UDP 7003 and ping come in; UDP 7002 does not (the receiver's ingress drops it).
    const sg = (await box.vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'fl',
      GroupDescription: 'flow logs',
      SecurityGroupPolicySet: {
        Ingress: [
          { Protocol: 'TCP', Port: '7000', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          { Protocol: 'UDP', Port: '7003', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          { Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
        ],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
    for (const [k, subnet] of [['a', subnetA], ['b', subnetB]] as const)
      ins[k] = (await box.cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg], InstanceCount: 1 })).InstanceIdSet![0]!;
    for (const k of ['a', 'b'] as const)
      ip[k] = await until(`${ins[k]} RUNNING`, async () => {
        const i = (await box.cvm.DescribeInstances({ InstanceIds: [ins[k]] })).InstanceSet![0]!;
        return i.InstanceState === 'RUNNING' && i.PrivateIpAddresses![0]!;
      }, 60_000);
    // Both ways reachable before anything is measured (neighbours resolved, nothing queued).
    await until('a reaches b', async () => (await box.exec(ins.a, ['ping', '-c1', '-W1', ip.b])).code === 0, 30_000);
  });
  after(async () => {
    await box?.down();
  });

  test('VPC (ALL) and SUBNET (ACCEPT) logs: accepted TCP/UDP and rejected UDP, bytes within ±5 %, charged to the right interface', async () => {
    assert.deepEqual(captureProcesses(), [], 'nothing captures before a flow log covers the VPC');
    const vpcLog = (await box.vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: 'all', ResourceType: 'VPC', ResourceId: vpcId, TrafficType: 'ALL' })).FlowLog![0]!.FlowLogId!;
    const subnetLog = (await box.vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: 'b', ResourceType: 'SUBNET', ResourceId: subnetB, TrafficType: 'ACCEPT' })).FlowLog![0]!.FlowLogId!;
    // Positive evidence that the capture runs before traffic is sent: conntrack and ulogd in the routers.
    await until('conntrack and ulogd in the routers', async () => {
      const p = captureProcesses();
      return p.some((x) => x.endsWith(':conntrack')) && p.some((x) => x.endsWith(':ulogd'));
    }, 20_000);

    await warmUp(vpcLog);
    const stop = box.spawnIn(ins.b, ['python3', '-c', "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',7000))\ns.listen()\nwhile True:\n  c,_=s.accept()\n  while c.recv(65536): pass"]);
    const sent = await until('TCP transfer', async () => {
      const r = await box.exec(ins.a, ['python3', '-c', `import socket\ns=socket.create_connection(('${ip.b}',7000),timeout=5)\ns.sendall(b'x'*${TCP_BYTES})\nprint(s.getsockname()[1])\ns.close()`]);
      return r.code === 0 && r;
    }, 15_000);
    // The connection that sent it all (an attempt that failed under load is another flow, not counted).
    const clientPort = Number(sent.out.trim());
    assert.ok(clientPort > 0, sent.out);
    stop();
    assert.equal((await sendUdp('a', ip.b, 7003, 40)).code, 0);
    assert.equal((await sendUdp('a', ip.b, 7002, 50)).code, 0);

    // Records of b's interface: the TCP flow both ways, the accepted UDP, the 50 rejected datagrams.
    const ofB = await until('records of b', async () => {
      const rs = await records(vpcLog);
      const mine = rs.filter((r) => r.dstaddr === ip.b || r.srcaddr === ip.b);
      const tcp = mine.filter((r) => r.dstport === 7000 && r.srcaddr === ip.a && r.srcport === clientPort);
      const rej = mine.filter((r) => r.action === 'REJECT' && r.dstport === 7002);
      const eniB = rej[0]?.['interface-id'];
      return !!eniB && sum(tcp.filter((r) => r['interface-id'] === eniB), 'bytes') >= TCP_BYTES && sum(rej, 'packets') >= 50 && { rs, eniB };
    }, 30_000);
    const { rs, eniB } = ofB;
    const b = rs.filter((r) => r['interface-id'] === eniB);
    for (const r of rs) {
      assert.equal(r.version, 2);
      assert.ok(r.end >= r.start && r.end - r.start <= WINDOW_S + 2, `window ${r.start}–${r.end}`);
      assert.equal(r['log-status'], 'OK');
    }
    within5(sum(b.filter((r) => r.action === 'ACCEPT' && r.protocol === 6 && r.dstport === 7000 && r.srcport === clientPort), 'bytes'), TCP_BYTES, 'TCP a→b at b');
    assert.ok(b.some((r) => r.action === 'ACCEPT' && r.protocol === 6 && r.srcport === 7000 && r.dstaddr === ip.a), 'the reply direction of the TCP flow has its own record');
    const udpOk = b.filter((r) => r.action === 'ACCEPT' && r.protocol === 17 && r.dstport === 7003);
    assert.equal(sum(udpOk, 'packets'), 40);
    within5(sum(udpOk, 'bytes'), 40 * UDP_IP_BYTES, 'accepted UDP at b');
    assert.deepEqual([...new Set(b.filter((r) => r.action === 'REJECT').map((r) => `${r.protocol} ${r.srcaddr}→${r.dstaddr}:${r.dstport}`))].sort(), [`17 ${ip.a}→${ip.b}:7002`, `17 ${ip.a}→${ip.b}:7004`]);
    const rejected = b.filter((r) => r.action === 'REJECT' && r.dstport === 7002);
    assert.equal(sum(rejected, 'packets'), 50);
    within5(sum(rejected, 'bytes'), 50 * UDP_IP_BYTES, 'rejected UDP at b');
    // a's interface: a sent them (its egress accepts everything), so nothing is REJECT there.
    const a = rs.filter((r) => r['interface-id'] !== eniB);
    assert.ok(a.some((r) => r.action === 'ACCEPT' && r.srcaddr === ip.a && r.dstport === 7000), "a's side of the TCP flow");
    assert.ok(!a.some((r) => r.action === 'REJECT'), 'no REJECT charged to the sender');

    // The SUBNET log (subnet b, ACCEPT): only b's interface, only accepted traffic.
    const sub = await until('subnet records', async () => {
      const x = await records(subnetLog);
      return sum(x.filter((r) => r.dstport === 7003), 'packets') >= 40 && x;
    }, 20_000);
    assert.deepEqual([...new Set(sub.map((r) => `${r['interface-id']} ${r.action}`))], [`${eniB} ACCEPT`]);
    within5(sum(sub.filter((r) => r.protocol === 6 && r.dstport === 7000 && r.srcport === clientPort), 'bytes'), TCP_BYTES, 'TCP a→b in the subnet log');

    // The JSON-lines file for shippers holds the same records, with their flow log.
    const file = join(box.dataDir, 'flow-logs.jsonl');
    assert.ok(existsSync(file));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FlowLogRecord & { 'flow-log-id': string });
    assert.equal(sum(lines.filter((l) => l['flow-log-id'] === vpcLog && l.action === 'REJECT' && l.dstport === 7002), 'packets'), 50);

    // Text output: the header of Tencent's fields and one line per record.
    const text = await run(['flowlogs', '--data-dir', box.dataDir, '--flow-log-id', vpcLog]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n/);
    assert.ok(text.stdout.includes(`${ip.a} ${ip.b} `));

    await box.vpc.DeleteFlowLog({ VpcId: vpcId, FlowLogId: vpcLog });
    await box.vpc.DeleteFlowLog({ VpcId: vpcId, FlowLogId: subnetLog });
    await until('capture stopped', async () => captureProcesses().length === 0, 20_000);
  });

  test("NETWORKINTERFACE (REJECT) log on b's ENI: only its rejected packets; DisableFlowLogs stops the capture, EnableFlowLogs starts it", async () => {
    // The ENI ID is in the records (DescribeAddresses shows it too): learn it from a short VPC log.
    const probe = (await box.vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: 'probe', ResourceType: 'VPC', ResourceId: vpcId, TrafficType: 'REJECT' })).FlowLog![0]!.FlowLogId!;
    await warmUp(probe);
    const eniB = (await records(probe))[0]!['interface-id'];
    await box.vpc.DeleteFlowLog({ VpcId: vpcId, FlowLogId: probe });

    const eniLog = (await box.vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: 'eni', ResourceType: 'NETWORKINTERFACE', ResourceId: eniB, TrafficType: 'REJECT' })).FlowLog![0]!.FlowLogId!;
    // REJECT only: ulogd runs, conntrack events do not.
    await until('ulogd only', async () => {
      const p = captureProcesses();
      return p.some((x) => x.endsWith(':ulogd')) && !p.some((x) => x.endsWith(':conntrack'));
    }, 20_000);
    await warmUp(eniLog);
    await sendUdp('a', ip.b, 7002, 30);
    await sendUdp('b', ip.a, 7002, 20); // dropped at a's ingress: a's interface, not covered
    await sendUdp('a', ip.b, 7003, 10); // accepted: not this log's traffic type
    const rs = await until('eni records', async () => {
      const x = (await records(eniLog)).filter((r) => r.dstport === 7002);
      return sum(x, 'packets') >= 30 && x;
    }, 20_000);
    await new Promise((ok) => setTimeout(ok, (WINDOW_S + 1) * 1000)); // one more window: nothing else arrives
    const all = await records(eniLog);
    assert.deepEqual([...new Set(all.map((r) => `${r['interface-id']} ${r.action} ${r.srcaddr}→${r.dstaddr}:${r.dstport}`))].sort(), [
      `${eniB} REJECT ${ip.a}→${ip.b}:7002`,
      `${eniB} REJECT ${ip.a}→${ip.b}:7004`,
    ]);
    assert.equal(sum(all.filter((r) => r.dstport === 7002), 'packets'), 30);
    within5(sum(rs, 'bytes'), 30 * UDP_IP_BYTES, 'rejected UDP at b');

    await box.vpc.DisableFlowLogs({ FlowLogIds: [eniLog] });
    await until('capture stopped by DisableFlowLogs', async () => captureProcesses().length === 0, 20_000);
    await box.vpc.EnableFlowLogs({ FlowLogIds: [eniLog] });
    await until('capture back after EnableFlowLogs', async () => captureProcesses().some((x) => x.endsWith(':ulogd')), 20_000);
    await box.vpc.DeleteFlowLog({ VpcId: vpcId, FlowLogId: eniLog });
    await until('capture stopped', async () => captureProcesses().length === 0, 20_000);
  });
});
