/**
 * NetDetect and underlay full-link monitoring on the real kernel (region in
 * a box, two hosts, the official SDK): a healthy path through a NORMAL_CVM
 * next hop measured by the agents' probes from the detection's source
 * addresses; one through a next hop on the other host (the probes cross the
 * tunnel, that host hands them to its port, the answers come back to the
 * source) and one to an instance there, both measured; the first path broken
 * by its next hop stopping (-1, no route: the forced route becomes a
 * blackhole); a path the kernel carries but a network ACL drops (-3, from the
 * tracer: the probes leave from the router, which no ACL filters); the forced
 * path removed with the detection; underlay figures for each host pair, and
 * loss when a host is taken off the fabric (`weft node fail`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { underlayLinks } from '../../src/store/net-detects.js';
import { openStore, type Store } from '../../src/store/store.js';
import { isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run } from '../helpers/region.js';

describe(`NetDetect and underlay probes on the kernel (${engineName()})`, { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  let box: Box;
  let store: Store;
  let vpcId: string;
  let s1: string;
  let s3: string;
  let nId: string;
  let nIp: string;
  let mIp: string;
  let cIp: string;
  before(async () => {
    box = await startBox(2, { WEFT_PROBE_PERIOD_MS: '1000' });
    store = await openStore(box.database);
    const vpc = box.vpc;
    vpcId = (await vpc.CreateVpc({ VpcName: 'nd', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    s1 = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's1', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const s2 = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's2', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    s3 = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's3', CidrBlock: '10.0.3.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const open = { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] };
    const sg = (await vpc.CreateSecurityGroupWithPolicies({ GroupName: 'open', GroupDescription: 'open', SecurityGroupPolicySet: open })).SecurityGroup!.SecurityGroupId!;
    const runIn = async (subnet: string, zone: string) =>
      (await box.cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg], InstanceCount: 1 })).InstanceIdSet![0]!;
    // a (the subnet's own traffic, for the tracer) and n (the next hop) on h1 in s1; c on h2; m on h1 in s3.
    const ids = [await runIn(s1, 'local-1'), await runIn(s1, 'local-1'), await runIn(s2, 'local-2'), await runIn(s3, 'local-1')];
    const set = await until('instances RUNNING', async () => {
      const is = (await box.cvm.DescribeInstances({ InstanceIds: ids })).InstanceSet!;
      return is.every((i) => i.InstanceState === 'RUNNING') && is;
    }, 60_000);
    const ipOf = (id: string) => set.find((i) => i.InstanceId === id)!.PrivateIpAddresses![0]!;
    nId = ids[1]!;
    nIp = ipOf(nId);
    mIp = ipOf(ids[3]!);
    cIp = ipOf(ids[2]!);
    // n is a router for 192.168.77.0/24 and c (on h2) for 192.168.88.0/24 (the routes make them allowed to answer from there).
    const rtb = (await vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).RouteTableSet![0]!.RouteTableId!;
    await vpc.CreateRoutes({
      RouteTableId: rtb,
      Routes: [
        { DestinationCidrBlock: '192.168.77.0/24', GatewayType: 'NORMAL_CVM', GatewayId: nIp },
        { DestinationCidrBlock: '192.168.88.0/24', GatewayType: 'NORMAL_CVM', GatewayId: cIp },
      ],
    });
    assert.equal((await box.exec(nId, ['ip', 'addr', 'add', '192.168.77.1/32', 'dev', 'lo'])).code, 0);
    assert.equal((await box.exec(ids[2]!, ['ip', 'addr', 'add', '192.168.88.1/32', 'dev', 'lo'])).code, 0);
  });
  after(async () => {
    await store?.close();
    await box?.down();
  });

  const stateOf = async (id: string) => (await box.vpc.DescribeNetDetectStates({ NetDetectIds: [id] })).NetDetectStateSet![0]!.NetDetectIpStateSet![0]!;
  const router = () => `${box.prefix}-h1-${vpcId}`;
  const rules = () => execFileSync('ip', ['-n', router(), 'rule', 'show'], { encoding: 'utf8' });

  it('measures a healthy path through a next hop instance, and finds it broken when the next hop stops', async () => {
    const d = (await box.vpc.CreateNetDetect({ VpcId: vpcId, SubnetId: s1, NetDetectName: 'appliance', DetectDestinationIp: ['192.168.77.1'], NextHopType: 'NORMAL_CVM', NextHopDestination: nIp })).NetDetect!.NetDetectId!;
    // A round that overlapped the apply of the forced path may have lost some echoes: wait for a whole one.
    const healthy = await until('a measured healthy state', async () => {
      const s = await stateOf(d);
      return s.Delay !== undefined && s.State === 0 && s.PacketLossRate === 0 && s;
    }, 30_000);
    assert.ok(healthy.Delay! >= 1, `delay ${healthy.Delay}`);
    // The forced path is the data plane's: a rule for each of the detection's sources (both on h1, the only host of s1),
    // a route via the next hop; the sources are on the router's lo.
    const sources = (await box.vpc.DescribeNetDetects({ NetDetectIds: [d] })).NetDetectSet![0]!.DetectSourceIp!;
    assert.equal(sources.length, 2);
    const lo = execFileSync('ip', ['-n', router(), 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
    for (const ip of sources) {
      assert.ok(rules().includes(`39990:\tfrom ${ip} lookup`), `rule for ${ip}:\n${rules()}`);
      assert.ok(lo.includes(`inet ${ip}/32`), `${ip} on lo:\n${lo}`);
    }

    // A next hop on the other host: the probes cross the tunnel, h2's router hands them to c, and c's answers come
    // back to the source through the tunnel (the source is a remote endpoint on h2). An instance there, too.
    const remote = (await box.vpc.CreateNetDetect({ VpcId: vpcId, SubnetId: s1, NetDetectName: 'remote', DetectDestinationIp: ['192.168.88.1', cIp], NextHopType: 'NORMAL_CVM', NextHopDestination: cIp })).NetDetect!.NetDetectId!;
    const far = await until('the remote paths measured', async () => {
      const set = (await box.vpc.DescribeNetDetectStates({ NetDetectIds: [remote] })).NetDetectStateSet![0]!.NetDetectIpStateSet!;
      return set.every((s) => s.State === 0 && s.Delay !== undefined && s.PacketLossRate === 0) && set;
    }, 30_000);
    for (const s of far) assert.ok(s.Delay! >= 1, `${s.DetectDestinationIp}: delay ${s.Delay}`);
    // h2 forwards them: its router has the rule for the sources too.
    const farSources = (await box.vpc.DescribeNetDetects({ NetDetectIds: [remote] })).NetDetectSet![0]!.DetectSourceIp!;
    const h2rules = execFileSync('ip', ['-n', `${box.prefix}-h2-${vpcId}`, 'rule', 'show'], { encoding: 'utf8' });
    for (const ip of farSources) assert.ok(h2rules.includes(`39990:\tfrom ${ip} lookup`), `h2 rule for ${ip}:\n${h2rules}`);
    await box.vpc.DeleteNetDetect({ NetDetectId: remote });

    await box.cvm.StopInstances({ InstanceIds: [nId] });
    const broken = await until('the broken state', async () => {
      const s = await stateOf(d);
      return s.State !== 0 && s;
    }, 30_000);
    assert.deepEqual(broken, { DetectDestinationIp: '192.168.77.1', State: -1, Delay: 0, PacketLossRate: 100 });
    // The kernel agrees: the probes are lost (the forced route is a blackhole now).
    await until('probes lost', async () => {
      const rows = await store.db.selectFrom('net_detect_results').selectAll().where('net_detect_id', '=', d).execute();
      return rows.length > 0 && rows.every((r) => r.received === 0);
    }, 30_000);

    await box.vpc.DeleteNetDetect({ NetDetectId: d });
    await until('the forced path removed with the detection', async () => !rules().includes('39990:'), 20_000);
  });

  it('says which network ACL drops the subnet traffic (-3), though the router reaches the address', async () => {
    const d = (await box.vpc.CreateNetDetect({ VpcId: vpcId, SubnetId: s1, NetDetectName: 'to s3', DetectDestinationIp: [mIp], NextHopType: 'NONEXTHOP' })).NetDetect!.NetDetectId!;
    await until('measured reachable', async () => {
      const s = await stateOf(d);
      return s.State === 0 && s.Delay !== undefined && s.PacketLossRate === 0;
    }, 30_000);
    // An ACL with no entries denies everything into s3.
    const acl = (await box.vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'closed' })).NetworkAcl!.NetworkAclId!;
    await box.vpc.AssociateNetworkAclSubnets({ NetworkAclId: acl, SubnetIds: [s3] });
    const dropped = await until('the ACL state', async () => {
      const s = await stateOf(d);
      return s.State !== 0 && s;
    }, 20_000);
    assert.deepEqual(dropped, { DetectDestinationIp: mIp, State: -3, Delay: 0, PacketLossRate: 100 });
    // CheckNetDetectState answers the same without a detection.
    const check = await box.vpc.CheckNetDetectState({ VpcId: vpcId, SubnetId: s1, NetDetectName: 'c', DetectDestinationIp: [mIp], NextHopType: 'NONEXTHOP' });
    assert.equal(check.NetDetectIpStateSet![0]!.State, -3);
    await box.vpc.DeleteNetDetect({ NetDetectId: d });
  });

  it('has underlay figures for each host pair, and loss when a host leaves the fabric', async () => {
    const both = await until('figures both ways', async () => {
      const links = await underlayLinks(store);
      const pairs = links.map((l) => `${l.from}>${l.to}`);
      return pairs.includes('h1>h2') && pairs.includes('h2>h1') && links;
    }, 30_000);
    for (const l of both) {
      assert.equal(l.lossRate, 0, `${l.from}>${l.to}`);
      assert.ok(l.rttMs !== null && l.rttMs > 0, `${l.from}>${l.to} rtt ${l.rttMs}`);
    }
    const failedAt = new Date().toISOString();
    assert.equal((await run(['node', 'fail', '--data-dir', box.dataDir, 'h2'])).code, 0);
    try {
      const lost = await until('loss h1>h2', async () => {
        const l = (await underlayLinks(store)).find((x) => x.from === 'h1' && x.to === 'h2');
        return l && l.at > failedAt && l.lossRate === 1 && l;
      }, 30_000);
      assert.equal(lost.rttMs, null);
    } finally {
      assert.equal((await run(['node', 'recover', '--data-dir', box.dataDir, 'h2'])).code, 0);
    }
    await until('h1>h2 back', async () => (await underlayLinks(store)).find((x) => x.from === 'h1' && x.to === 'h2')?.lossRate === 0, 30_000);
  });
});
