/**
 * NetDetect through the official SDK, without a data plane: the resource's
 * life (every field of the SDK model), its filters, every refusal (exact
 * code, nothing written), and the states where nothing can probe or trace
 * (no instance runs: -4). The states of real probes are in
 * test/region/net-detect.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, loose, modelFields, refusalCheck, startRegion, type TestRegion } from '../helpers/region.js';

describe(`NetDetect through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpcId: string;
  let subnetA: string;
  let subnetB: string;
  let otherVpc: string;
  let otherSubnet: string;
  let hopIp: string;
  let otherVpcIp: string;
  let pcx: string;
  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    const vpc = r.vpc();
    vpcId = (await vpc.CreateVpc({ VpcName: 'main', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    [subnetA, subnetB] = (
      await vpc.CreateSubnets({
        VpcId: vpcId,
        Subnets: [
          { SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' },
          { SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-1' },
        ],
      })
    ).SubnetSet!.map((s) => s.SubnetId!) as [string, string];
    otherVpc = (await vpc.CreateVpc({ VpcName: 'other', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    otherSubnet = (await vpc.CreateSubnet({ VpcId: otherVpc, SubnetName: 'o', CidrBlock: '10.1.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const run = async (v: string, s: string, name: string) => {
      const id = (await r.cvm().RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: v, SubnetId: s }, InstanceName: name, InstanceCount: 1 })).InstanceIdSet![0]!;
      return (await r.cvm().DescribeInstances({ InstanceIds: [id] })).InstanceSet![0]!.PrivateIpAddresses![0]!;
    };
    hopIp = await run(vpcId, subnetA, 'router-vm');
    otherVpcIp = await run(otherVpc, otherSubnet, 'elsewhere');
    const third = (await vpc.CreateVpc({ VpcName: 'third', CidrBlock: '10.2.0.0/16' })).Vpc!.VpcId!;
    pcx = (await vpc.CreateVpcPeeringConnection({ SourceVpcId: vpcId, DestinationVpcId: third, DestinationUin: r.admin.Uin, DestinationRegion: 'local', PeeringConnectionName: 'p' })).PeeringConnectionId!;
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const state = async () => ({
    rows: await store.db.selectFrom('net_detects').selectAll().orderBy('id').execute(),
    sources: await store.db.selectFrom('private_ips').select(['ip', 'owner_id']).where('owner_kind', '=', 'net_detect').orderBy('ip').execute(),
    revision: await store.revision(),
  });

  it('creates, describes, modifies and deletes a detection with every field of the SDK model', async () => {
    const vpc = r.vpc();
    const created = (
      await vpc.CreateNetDetect({
        VpcId: vpcId,
        SubnetId: subnetA,
        NetDetectName: 'to the appliance',
        DetectDestinationIp: ['192.168.7.1', ' 192.168.7.2'],
        NextHopType: 'NORMAL_CVM',
        NextHopDestination: hopIp,
        NetDetectDescription: 'via the router VM',
        Tags: [{ Key: 'env', Value: 'prod' }],
      })
    ).NetDetect!;
    assert.match(created.NetDetectId!, /^netd-[0-9a-z]{8}$/);
    assert.deepEqual(Object.keys(created).sort(), modelFields('NetDetect'));
    const { NetDetectId: id, CreateTime: t, DetectSourceIp: sources, ...rest } = created;
    // Tencent's DetectSourceIp: two addresses of the subnet, taken from it like any address in use.
    assert.equal(sources!.length, 2);
    for (const ip of sources!) assert.match(ip, /^10\.0\.1\.\d+$/);
    assert.ok(!sources!.includes(hopIp) && sources![0] !== sources![1]);
    const held = await vpc.DescribeVpcPrivateIpAddresses({ VpcId: vpcId, PrivateIpAddresses: sources! });
    assert.equal(held.VpcPrivateIpAddressSet!.length, 2);
    assert.equal(await errorCode(vpc.DeleteSubnet({ SubnetId: subnetA })), 'ResourceInUse', 'the detection holds addresses of its subnet');
    assert.match(t!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(rest, {
      VpcId: vpcId,
      VpcName: 'main',
      SubnetId: subnetA,
      SubnetName: 'a',
      NetDetectName: 'to the appliance',
      DetectDestinationIp: ['192.168.7.1', '192.168.7.2'],
      NextHopType: 'NORMAL_CVM',
      NextHopDestination: hopIp,
      NextHopName: 'router-vm',
      NetDetectDescription: 'via the router VM',
      TagSet: [{ Key: 'env', Value: 'prod' }],
    });
    const one = async () => (await vpc.DescribeNetDetects({ NetDetectIds: [id!] })).NetDetectSet![0];
    assert.deepEqual(await one(), created);
    for (const [Name, Values, n] of [
      ['vpc-id', [vpcId], 1],
      ['vpc-id', [otherVpc], 0],
      ['subnet-id', [subnetA], 1],
      ['subnet-id', [subnetB], 0],
      ['net-detect-name', ['APPLIANCE'], 1],
      ['net-detect-id', [id!], 1],
    ] as const)
      assert.equal((await vpc.DescribeNetDetects({ Filters: [{ Name, Values: [...Values] }] })).TotalCount, n, `${Name}=${Values.join()}`);

    await vpc.ModifyNetDetect({ NetDetectId: id!, NetDetectName: 'peer', DetectDestinationIp: ['10.2.0.9'], NextHopType: 'PEERCONNECTION', NextHopDestination: pcx });
    assert.deepEqual(await one(), { ...created, NetDetectName: 'peer', DetectDestinationIp: ['10.2.0.9'], NextHopType: 'PEERCONNECTION', NextHopDestination: pcx, NextHopName: 'p' });

    // No instance of the subnet runs (no host) and no agent probes: nothing says the path works.
    const states = await vpc.DescribeNetDetectStates({ NetDetectIds: [id!] });
    assert.equal(states.TotalCount, 1);
    assert.deepEqual(states.NetDetectStateSet, [{ NetDetectId: id, NetDetectIpStateSet: [{ DetectDestinationIp: '10.2.0.9', State: -4 }] }]);
    const check = await vpc.CheckNetDetectState({ VpcId: vpcId, SubnetId: subnetB, NetDetectName: 'x', DetectDestinationIp: ['10.0.1.200'], NextHopType: 'NONEXTHOP' });
    assert.deepEqual(check.NetDetectIpStateSet, [{ DetectDestinationIp: '10.0.1.200', State: -4 }]);
    assert.equal((await vpc.DescribeNetDetects({ NetDetectIds: [id!] })).TotalCount, 1, 'CheckNetDetectState creates nothing');

    await vpc.DeleteNetDetect({ NetDetectId: id! });
    assert.equal((await vpc.DescribeNetDetects({ NetDetectIds: [id!] })).TotalCount, 0);
    assert.equal((await store.db.selectFrom('private_ips').select('ip').where('owner_id', '=', id!).execute()).length, 0, 'its addresses are released');
    assert.equal(await errorCode(vpc.DeleteNetDetect({ NetDetectId: id! })), 'ResourceNotFound');
    const changes = await store.db.selectFrom('changes').select(['kind', 'op']).where('resource_id', '=', id!).orderBy('revision').execute();
    assert.deepEqual(changes.map((c) => `${c.kind}:${c.op}`), ['net_detect:create', 'net_detect:update', 'net_detect:delete']);
  });

  it('refuses bad input with Tencent codes and changes nothing', async () => {
    const vpc = r.vpc();
    const taken = (await vpc.CreateNetDetect({ VpcId: vpcId, SubnetId: subnetB, NetDetectName: 'taken', DetectDestinationIp: ['172.16.0.1'] })).NetDetect!.NetDetectId!;
    const stranger = await r.newAccount('stranger');
    const base = { VpcId: vpcId, SubnetId: subnetA, NetDetectName: 'n', DetectDestinationIp: ['172.16.0.9'] };
    const refused = refusalCheck(state);
    const cases: [string, Record<string, unknown>, string][] = [
      ['a VPN next hop', { NextHopType: 'VPN', NextHopDestination: 'vpngw-12345678' }, 'UnsupportedOperation'],
      ['a CCN next hop', { NextHopType: 'CCN', NextHopDestination: 'ccn-12345678' }, 'UnsupportedOperation'],
      ['an unknown next hop type', { NextHopType: 'ROUTER' , NextHopDestination: 'x' }, 'InvalidParameterValue'],
      ['a next hop instance of another VPC', { NextHopType: 'NORMAL_CVM', NextHopDestination: otherVpcIp }, 'ResourceNotFound'],
      ['a next hop address no instance has', { NextHopType: 'NORMAL_CVM', NextHopDestination: '10.0.1.250' }, 'ResourceNotFound'],
      ['a peering ID as NORMAL_CVM', { NextHopType: 'NORMAL_CVM', NextHopDestination: pcx }, 'InvalidParameter.NextHopMismatch'],
      ['an address as PEERCONNECTION', { NextHopType: 'PEERCONNECTION', NextHopDestination: hopIp }, 'InvalidParameter.NextHopMismatch'],
      ['a peering connection of another VPC', { VpcId: otherVpc, SubnetId: otherSubnet, NextHopType: 'PEERCONNECTION', NextHopDestination: pcx }, 'ResourceNotFound'],
      ['an unknown NAT gateway', { NextHopType: 'NAT', NextHopDestination: 'nat-00000000' }, 'ResourceNotFound'],
      ['a next hop with NONEXTHOP', { NextHopType: 'NONEXTHOP', NextHopDestination: hopIp }, 'InvalidParameter.NextHopMismatch'],
      ['NORMAL_CVM without its address', { NextHopType: 'NORMAL_CVM' }, 'MissingParameter'],
      ['a destination that is not an address', { DetectDestinationIp: ['10.0.0'] }, 'InvalidParameterValue.Malformed'],
      ['three destinations', { DetectDestinationIp: ['1.1.1.1', '1.1.1.2', '1.1.1.3'] }, 'LimitExceeded'],
      ['one destination twice', { DetectDestinationIp: ['1.1.1.1', '1.1.1.1'] }, 'InvalidParameterValue.Duplicate'],
      ['an address another detection of the subnet probes', { SubnetId: subnetB, DetectDestinationIp: ['172.16.0.1'] }, 'InvalidParameterValue.NetDetectSameIp'],
      ['a subnet of another VPC', { SubnetId: otherSubnet }, 'UnsupportedOperation.VpcMismatch'],
      ['an unknown VPC', { VpcId: 'vpc-00000000' }, 'ResourceNotFound'],
      ['a malformed VPC ID', { VpcId: 'vpc-BAD' }, 'InvalidParameterValue.Malformed'],
      ['an unknown subnet', { SubnetId: 'subnet-00000000' }, 'ResourceNotFound'],
      ['a name over 60 bytes', { NetDetectName: 'x'.repeat(61) }, 'InvalidParameterValue'],
    ];
    for (const [name, change, code] of cases) await refused(name, () => vpc.CreateNetDetect(loose({ ...base, ...change })), code);
    // Another account's resources answer as missing ones.
    const theirs = r.vpc(stranger);
    await refused('a foreign VPC', () => theirs.CreateNetDetect(base), 'ResourceNotFound');
    await refused('a foreign detection (modify)', () => theirs.ModifyNetDetect({ NetDetectId: taken, NetDetectName: 'mine' }), 'ResourceNotFound');
    await refused('a foreign detection (delete)', () => theirs.DeleteNetDetect({ NetDetectId: taken }), 'ResourceNotFound');
    await refused('a foreign detection (check)', () => theirs.CheckNetDetectState({ NetDetectId: taken, DetectDestinationIp: ['1.1.1.1'] }), 'ResourceNotFound');
    assert.equal((await theirs.DescribeNetDetects({})).TotalCount, 0);
    assert.equal((await theirs.DescribeNetDetectStates({})).TotalCount, 0);
    // Modify: the same rules.
    await refused('modify to a next hop of another VPC', () => vpc.ModifyNetDetect({ NetDetectId: taken, NextHopType: 'NORMAL_CVM', NextHopDestination: otherVpcIp }), 'ResourceNotFound');
    await refused('modify to a bad address', () => vpc.ModifyNetDetect({ NetDetectId: taken, DetectDestinationIp: ['300.1.1.1'] }), 'InvalidParameterValue.Malformed');
    await refused('modify a malformed ID', () => vpc.ModifyNetDetect({ NetDetectId: 'netd-x' }), 'InvalidParameterValue.Malformed');
    // Check: a detection, or VpcId + SubnetId + NetDetectName.
    await refused('check with neither', () => vpc.CheckNetDetectState({ DetectDestinationIp: ['1.1.1.1'], VpcId: vpcId }), 'MissingParameter');
    await refused('check through a next hop of another VPC', () => vpc.CheckNetDetectState({ VpcId: vpcId, SubnetId: subnetA, NetDetectName: 'c', DetectDestinationIp: ['1.1.1.1'], NextHopType: 'NORMAL_CVM', NextHopDestination: otherVpcIp }), 'ResourceNotFound');
    await refused('describe with both IDs and filters', () => vpc.DescribeNetDetects({ NetDetectIds: [taken], Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), 'InvalidParameter.Coexist');
    await refused('an unknown filter', () => vpc.DescribeNetDetectStates({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), 'InvalidParameter.FilterInvalidKey');
    // Each detection takes two addresses: a /28 (13 usable) holds six, and the seventh finds one free.
    const small = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'small', CidrBlock: '10.0.9.0/28', Zone: 'local-1' })).Subnet!.SubnetId!;
    const six = [];
    for (let i = 0; i < 6; i++) six.push((await vpc.CreateNetDetect({ ...base, SubnetId: small, DetectDestinationIp: [`172.16.1.${i}`] })).NetDetect!.NetDetectId!);
    await refused('a subnet with one free address', () => vpc.CreateNetDetect({ ...base, SubnetId: small, DetectDestinationIp: ['172.16.1.9'] }), 'ResourceInsufficient');
    for (const id of [taken, ...six]) await vpc.DeleteNetDetect({ NetDetectId: id });
    await vpc.DeleteSubnet({ SubnetId: small });
  });
});
