import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SecurityGroupPolicy, SecurityGroupPolicySet } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore } from '../../src/store/store.js';
import { engineName, errorCode, loose, run, startRegion, type TestRegion } from '../helpers/region.js';

type Vpc = ReturnType<TestRegion['vpc']>;

/** A TCP policy told apart by its port. */
const tcp = (port: number, extra: SecurityGroupPolicy = {}): SecurityGroupPolicy => ({
  Protocol: 'TCP',
  Port: String(port),
  CidrBlock: '10.0.0.0/8',
  Action: 'ACCEPT',
  ...extra,
});

async function policies(vpc: Vpc, id: string): Promise<SecurityGroupPolicySet> {
  return (await vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: id })).SecurityGroupPolicySet!;
}
/** The ports of a direction, in PolicyIndex order (checking the indexes are 0..n-1). */
async function ports(vpc: Vpc, id: string, dir: 'Ingress' | 'Egress' = 'Ingress'): Promise<string[]> {
  const list = (await policies(vpc, id))[dir]!;
  list.forEach((p, i) => assert.equal(p.PolicyIndex, i));
  return list.map((p) => p.Port!);
}
const version = async (vpc: Vpc, id: string) => (await policies(vpc, id)).Version;

async function newGroup(vpc: Vpc, name = 'sg', set?: SecurityGroupPolicySet): Promise<string> {
  const r = set
    ? await vpc.CreateSecurityGroupWithPolicies({ GroupName: name, GroupDescription: 'test', SecurityGroupPolicySet: set })
    : await vpc.CreateSecurityGroup({ GroupName: name, GroupDescription: 'test' });
  return r.SecurityGroup!.SecurityGroupId;
}

describe(`Security groups through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  const dbArgs = () => (r.database ? ['--database', r.database] : []);
  before(async () => (r = await startRegion()));
  after(async () => r?.stop());

  it('creates, describes, modifies and deletes a security group', async () => {
    const vpc = r.vpc();
    const created = (await vpc.CreateSecurityGroup({ GroupName: 'web', GroupDescription: 'front end', ProjectId: '0', Tags: [{ Key: 'env', Value: 'prod' }] }))
      .SecurityGroup!;
    assert.match(created.SecurityGroupId, /^sg-[0-9a-z]{8}$/);
    assert.deepEqual(Object.keys(created).sort(), [
      'CreatedTime',
      'IsDefault',
      'ProjectId',
      'SecurityGroupDesc',
      'SecurityGroupId',
      'SecurityGroupName',
      'TagSet',
      'UpdateTime',
    ]);
    assert.equal(created.SecurityGroupName, 'web');
    assert.equal(created.SecurityGroupDesc, 'front end');
    assert.equal(created.ProjectId, '0');
    assert.equal(created.IsDefault, false);
    assert.deepEqual(created.TagSet, [{ Key: 'env', Value: 'prod' }]);
    assert.match(created.CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const id = created.SecurityGroupId;

    const byId = await vpc.DescribeSecurityGroups({ SecurityGroupIds: [id] });
    assert.equal(byId.TotalCount, 1);
    assert.deepEqual(byId.SecurityGroupSet![0], created);

    const empty = await policies(vpc, id);
    assert.equal(empty.Version, '0', 'a new group has no policies and Version "0"');
    assert.deepEqual(empty.Ingress, []);
    assert.deepEqual(empty.Egress, []);

    await vpc.ModifySecurityGroupAttribute({ SecurityGroupId: id, GroupName: '网站', GroupDescription: '' });
    const modified = (await vpc.DescribeSecurityGroups({ SecurityGroupIds: [id] })).SecurityGroupSet![0]!;
    assert.equal(modified.SecurityGroupName, '网站');
    assert.equal(modified.SecurityGroupDesc, '');
    assert.equal(await version(vpc, id), '0', 'renaming is not a policy change');

    assert.equal(await errorCode(vpc.ModifySecurityGroupAttribute({ SecurityGroupId: id, GroupName: 'x'.repeat(61) })), 'InvalidParameterValue.TooLong');
    assert.equal(await errorCode(vpc.CreateSecurityGroup({ GroupName: 'x', GroupDescription: 'd'.repeat(101) })), 'InvalidParameterValue.TooLong');
    assert.equal(await errorCode(vpc.CreateSecurityGroup({ GroupName: '', GroupDescription: '' })), 'InvalidParameterValue');
    assert.equal(await errorCode(vpc.DeleteSecurityGroup({ SecurityGroupId: 'sg-bad!' })), 'InvalidParameterValue.Malformed');

    await vpc.DeleteSecurityGroup({ SecurityGroupId: id });
    assert.equal((await vpc.DescribeSecurityGroups({ SecurityGroupIds: [id] })).TotalCount, 0);
    assert.equal(await errorCode(vpc.DeleteSecurityGroup({ SecurityGroupId: id })), 'ResourceNotFound');
    assert.equal(await errorCode(vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: id })), 'ResourceNotFound');
  });

  it('filters, orders and pages DescribeSecurityGroups', async () => {
    const creds = await r.newAccount('sg-describe');
    const vpc = r.vpc(creds);
    const a = (await vpc.CreateSecurityGroup({ GroupName: 'web-a', GroupDescription: '', Tags: [{ Key: 'tier', Value: 'web' }] })).SecurityGroup!;
    const b = (await vpc.CreateSecurityGroup({ GroupName: 'WEB-b', GroupDescription: '', ProjectId: '5' })).SecurityGroup!;
    const c = (await vpc.CreateSecurityGroup({ GroupName: 'db_c', GroupDescription: '', Tags: [{ Key: 'tier', Value: 'db' }] })).SecurityGroup!;
    const names = (s: { SecurityGroupSet?: { SecurityGroupName: string }[] }) => s.SecurityGroupSet!.map((x) => x.SecurityGroupName);

    const all = await vpc.DescribeSecurityGroups({});
    assert.equal(all.TotalCount, 3);
    assert.deepEqual(names(all), ['web-a', 'WEB-b', 'db_c']);
    assert.deepEqual(names(await vpc.DescribeSecurityGroups({ OrderField: 'CreatedTime', OrderDirection: 'DESC' })), ['db_c', 'WEB-b', 'web-a']);

    assert.deepEqual(names(await vpc.DescribeSecurityGroups({ Filters: [{ Name: 'security-group-name', Values: ['web'] }] })), ['web-a', 'WEB-b']);
    assert.equal((await vpc.DescribeSecurityGroups({ Filters: [{ Name: 'security-group-name', Values: ['_'] }] })).TotalCount, 1, '_ is literal');
    assert.deepEqual(names(await vpc.DescribeSecurityGroups({ Filters: [{ Name: 'project-id', Values: ['5'] }] })), ['WEB-b']);
    assert.deepEqual(names(await vpc.DescribeSecurityGroups({ Filters: [{ Name: 'tag-key', Values: ['tier'] }] })), ['web-a', 'db_c']);
    assert.deepEqual(names(await vpc.DescribeSecurityGroups({ Filters: [{ Name: 'tag:tier', Values: ['db'] }] })), ['db_c']);
    assert.deepEqual(
      names(
        await vpc.DescribeSecurityGroups({
          Filters: [
            { Name: 'security-group-id', Values: [a.SecurityGroupId, c.SecurityGroupId] },
            { Name: 'security-group-name', Values: ['web'] },
          ],
        }),
      ),
      ['web-a'],
      'filters combine with AND',
    );

    const p1 = await vpc.DescribeSecurityGroups({ Offset: '0', Limit: '2' });
    const p2 = await vpc.DescribeSecurityGroups({ Offset: '2', Limit: '2' });
    assert.equal(p1.TotalCount, 3);
    assert.deepEqual([...names(p1), ...names(p2)], ['web-a', 'WEB-b', 'db_c']);

    assert.equal(
      await errorCode(vpc.DescribeSecurityGroups({ SecurityGroupIds: [b.SecurityGroupId], Filters: [{ Name: 'project-id', Values: ['5'] }] })),
      'InvalidParameter.Coexist',
    );
    assert.equal(await errorCode(vpc.DescribeSecurityGroups({ Filters: [{ Name: 'vpc-id', Values: ['x'] }] })), 'InvalidParameter.FilterInvalidKey');
    assert.equal(await errorCode(vpc.DescribeSecurityGroups({ SecurityGroupIds: ['sg-1'] })), 'InvalidParameterValue.Malformed');
    assert.equal(await errorCode(vpc.DescribeSecurityGroups({ Limit: '101' })), 'InvalidParameterValue.Range');
    // Outside the integers a store can bind: a clear Range error, not an InternalError.
    for (const Offset of [1e308, '100000000000000000000'])
      assert.equal(await errorCode(vpc.DescribeSecurityGroups(loose({ Offset }))), 'InvalidParameterValue.Range', String(Offset));
    assert.equal((await vpc.DescribeSecurityGroups({ Offset: String(2 ** 40) })).SecurityGroupSet!.length, 0, 'a far page is empty');
    assert.equal(await errorCode(vpc.DescribeSecurityGroups({ OrderField: 'Name' })), 'InvalidParameterValue');
  });

  it('creates a group with policies in order (Version "1") and answers the SDK policy model', async () => {
    const vpc = r.vpc();
    const other = await newGroup(vpc, 'peer');
    const id = await newGroup(vpc, 'with-policies', {
      Ingress: [
        { Protocol: 'tcp', Port: '22', CidrBlock: '192.168.0.0/16', Action: 'accept', PolicyDescription: 'ssh' },
        { Protocol: 'UDP', Port: '53,5353', SecurityGroupId: other, Action: 'ACCEPT' },
        { Protocol: 'icmpv6', Ipv6CidrBlock: '2001:DB8::/32', Action: 'DROP' },
      ],
      Egress: [{ Protocol: 'ALL', Port: 'all', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
    });
    const set = await policies(vpc, id);
    assert.equal(set.Version, '1');
    const first = set.Ingress![0]!;
    assert.deepEqual(Object.keys(first).sort(), [
      'Action',
      'AddressTemplate',
      'CidrBlock',
      'Ipv6CidrBlock',
      'ModifyTime',
      'PolicyDescription',
      'PolicyIndex',
      'Port',
      'Protocol',
      'SecurityGroupId',
      'ServiceTemplate',
    ]);
    assert.match(first.ModifyTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const { ModifyTime: _t, ...rest } = first;
    assert.deepEqual(rest, {
      PolicyIndex: 0,
      Protocol: 'TCP',
      Port: '22',
      ServiceTemplate: { ServiceId: '', ServiceGroupId: '' },
      CidrBlock: '192.168.0.0/16',
      Ipv6CidrBlock: '',
      SecurityGroupId: '',
      AddressTemplate: { AddressId: '', AddressGroupId: '' },
      Action: 'ACCEPT',
      PolicyDescription: 'ssh',
    });
    assert.deepEqual(
      set.Ingress!.map((p) => [p.PolicyIndex, p.Protocol, p.Port, p.CidrBlock, p.SecurityGroupId, p.Ipv6CidrBlock, p.Action]),
      [
        [0, 'TCP', '22', '192.168.0.0/16', '', '', 'ACCEPT'],
        [1, 'UDP', '53,5353', '', other, '', 'ACCEPT'],
        [2, 'ICMPV6', 'ALL', '', '', '2001:db8::/32', 'DROP'],
      ],
    );
    assert.deepEqual(set.Egress!.map((p) => [p.PolicyIndex, p.Protocol, p.Port, p.CidrBlock, p.Action]), [[0, 'ALL', 'ALL', '0.0.0.0/0', 'ACCEPT']]);
    assert.deepEqual(set.PolicyStatistics, { IngressIPv4TotalCount: 2, IngressIPv6TotalCount: 1, EgressIPv4TotalCount: 1, EgressIPv6TotalCount: 0 });
  });

  it('inserts at PolicyIndex: 0 at the front, absent at the end, one shared index per request', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'order');
    const add = (ps: number[], index?: number) =>
      vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: ps.map((p) => tcp(p, index === undefined ? {} : { PolicyIndex: index })) } });
    await add([1]);
    assert.deepEqual(await ports(vpc, id), ['1']);
    await add([2, 3]);
    assert.deepEqual(await ports(vpc, id), ['1', '2', '3']);
    await add([4], 0);
    assert.deepEqual(await ports(vpc, id), ['4', '1', '2', '3']);
    await add([5, 6], 2);
    assert.deepEqual(await ports(vpc, id), ['4', '1', '5', '6', '2', '3']);
    await add([7], 6);
    assert.deepEqual(await ports(vpc, id), ['4', '1', '5', '6', '2', '3', '7'], 'the index just past the end appends');
    assert.deepEqual(await ports(vpc, id, 'Egress'), [], 'the other direction is untouched');
    assert.equal(await version(vpc, id), '5', 'one increment per change');
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Egress: [tcp(8, { PolicyIndex: 0 })] } });
    assert.deepEqual(await ports(vpc, id, 'Egress'), ['8']);
    assert.equal(await version(vpc, id), '6');
  });

  it('increments Version on every policy change and refuses a stale Version', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'versions');
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '0', Ingress: [tcp(1), tcp(2)] } });
    assert.equal(await version(vpc, id), '1');
    const stale = '0';
    const calls: [string, () => Promise<unknown>][] = [
      ['CreateSecurityGroupPolicies', () => vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: stale, Ingress: [tcp(3)] } })],
      ['DeleteSecurityGroupPolicies', () => vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: stale, Ingress: [{ PolicyIndex: 0 }] } })],
      ['ReplaceSecurityGroupPolicy', () => vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: stale, Ingress: [tcp(9, { PolicyIndex: 0 })] } })],
      [
        'ReplaceSecurityGroupPolicies',
        () => vpc.ReplaceSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '7', Ingress: [tcp(9, { PolicyIndex: 0 })] } }),
      ],
    ];
    for (const [name, call] of calls) assert.equal(await errorCode(call()), 'UnsupportedOperation.VersionMismatch', name);
    assert.deepEqual(await ports(vpc, id), ['1', '2']);
    assert.equal(await version(vpc, id), '1');

    await vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '1', Ingress: [tcp(9, { PolicyIndex: 0 })] } });
    await vpc.ReplaceSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '2', Ingress: [tcp(8, { PolicyIndex: 1 })] } });
    await vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '3', Ingress: [{ PolicyIndex: 1 }] } });
    assert.deepEqual(await ports(vpc, id), ['9']);
    assert.equal(await version(vpc, id), '4');
    // ModifySecurityGroupPolicies does not check Version (except "0", which clears).
    await vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '77', Ingress: [tcp(5)], Egress: [] } });
    assert.deepEqual(await ports(vpc, id), ['5']);
    assert.equal(await version(vpc, id), '5');
    // Without a Version, no check.
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(6)] } });
    assert.equal(await version(vpc, id), '6');
  });

  it('records every policy change in the change log', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'changelog');
    const store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    try {
      const count = async () =>
        (await store.db.selectFrom('changes').select('op').where('resource_id', '=', id).where('kind', '=', 'security_group').execute()).map((c) => c.op);
      assert.deepEqual(await count(), ['create']);
      await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(1)] } });
      await vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '0' } });
      assert.deepEqual(await count(), ['create', 'update', 'update']);
      await vpc.DeleteSecurityGroup({ SecurityGroupId: id });
      assert.deepEqual(await count(), ['create', 'update', 'update', 'delete']);
    } finally {
      await store.close();
    }
  });

  it('deletes policies by PolicyIndex or by exact content', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'deletes', { Ingress: [1, 2, 3, 4, 5].map((p) => tcp(p)) });
    await vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 3 }, { PolicyIndex: 0 }] } });
    assert.deepEqual(await ports(vpc, id), ['2', '3', '5'], 'indexes refer to the list before the deletion');
    await vpc.DeleteSecurityGroupPolicies({
      SecurityGroupId: id,
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'tcp', Port: '3', CidrBlock: '10.0.0.0/8', Action: 'accept', PolicyDescription: 'ignored' }] },
    });
    assert.deepEqual(await ports(vpc, id), ['2', '5']);
    // A policy echoed back from Describe (with its empty template objects) deletes by its PolicyIndex.
    const echoed = (await policies(vpc, id)).Ingress![1]!;
    await vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [echoed] } });
    assert.deepEqual(await ports(vpc, id), ['2']);
    assert.equal(await version(vpc, id), '4');
  });

  it('replaces one or several policies in place, and moves them with UpdateType Priority/Both', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'replaces', { Ingress: [1, 2, 3, 4].map((p) => tcp(p)) });
    await vpc.ReplaceSecurityGroupPolicy({
      SecurityGroupId: id,
      SecurityGroupPolicySet: { Ingress: [tcp(20, { PolicyIndex: 1, PolicyDescription: 'new' })] },
      OriginalSecurityGroupPolicySet: { Ingress: [tcp(2, { PolicyIndex: 1 })] },
    });
    assert.deepEqual(await ports(vpc, id), ['1', '20', '3', '4']);
    assert.equal((await policies(vpc, id)).Ingress![1]!.PolicyDescription, 'new');
    await vpc.ReplaceSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(30, { PolicyIndex: 2 }), tcp(10, { PolicyIndex: 0 })] } });
    assert.deepEqual(await ports(vpc, id), ['10', '20', '30', '4']);
    // Replacing a policy with itself (new description only) is not a duplicate.
    await vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(10, { PolicyIndex: 0, PolicyDescription: 'same rule' })] } });

    await vpc.ReplaceSecurityGroupPolicies({
      SecurityGroupId: id,
      UpdateType: 'Priority',
      SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0 }] },
      OriginalSecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 3 }] },
    });
    assert.deepEqual(await ports(vpc, id), ['4', '10', '20', '30']);
    await vpc.ReplaceSecurityGroupPolicies({
      SecurityGroupId: id,
      UpdateType: 'Both',
      SecurityGroupPolicySet: { Ingress: [tcp(40, { PolicyIndex: 3 })] },
      OriginalSecurityGroupPolicySet: { Ingress: [tcp(4, { PolicyIndex: 0 })] },
    });
    assert.deepEqual(await ports(vpc, id), ['10', '20', '30', '40']);
    assert.equal(await version(vpc, id), '6');
  });

  it('ModifySecurityGroupPolicies resets the given directions; Version "0" clears everything', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'resets', { Ingress: [tcp(1), tcp(2)], Egress: [tcp(3)] });
    await vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SortPolicys: true, SecurityGroupPolicySet: { Ingress: [tcp(7), tcp(6), tcp(5)], Egress: [tcp(4)] } });
    assert.deepEqual(await ports(vpc, id), ['7', '6', '5']);
    assert.deepEqual(await ports(vpc, id, 'Egress'), ['4']);
    await vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(8)] } });
    assert.deepEqual(await ports(vpc, id), ['8']);
    assert.deepEqual(await ports(vpc, id, 'Egress'), ['4'], 'a direction left out is kept');
    await vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '0', Ingress: [tcp(9)] } });
    assert.deepEqual(await ports(vpc, id), [], 'Version "0" ignores Ingress/Egress and clears both');
    assert.deepEqual(await ports(vpc, id, 'Egress'), []);
    assert.equal(await version(vpc, id), '4');
  });

  it('filters DescribeSecurityGroupPolicies, keeping each policy its real PolicyIndex', async () => {
    const vpc = r.vpc();
    const peer = await newGroup(vpc, 'peer2');
    const id = await newGroup(vpc, 'filtered', {
      Ingress: [
        tcp(22, { CidrBlock: '192.168.1.0/24', PolicyDescription: 'SSH admins' }),
        { Protocol: 'UDP', Port: '53', SecurityGroupId: peer, Action: 'ACCEPT' },
        { Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'DROP' },
      ],
      Egress: [tcp(443)],
    });
    const q = async (Filters: { Name: string; Values: string[] }[]) => {
      const s = (await vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: id, Filters })).SecurityGroupPolicySet!;
      return { in: s.Ingress!.map((p) => p.PolicyIndex), out: s.Egress!.map((p) => p.PolicyIndex) };
    };
    assert.deepEqual(await q([{ Name: 'protocol-type', Values: ['udp'] }]), { in: [1], out: [] });
    assert.deepEqual(await q([{ Name: 'poly', Values: ['DROP'] }]), { in: [2], out: [] });
    assert.deepEqual(await q([{ Name: 'direction', Values: ['OUTBOUND'] }]), { in: [], out: [0] });
    assert.deepEqual(await q([{ Name: 'security-group-id', Values: [peer] }]), { in: [1], out: [] });
    assert.deepEqual(await q([{ Name: 'ip', Values: ['192.168'] }]), { in: [0], out: [] });
    assert.deepEqual(await q([{ Name: 'port', Values: ['44'] }]), { in: [], out: [0] });
    assert.deepEqual(await q([{ Name: 'description', Values: ['ssh'] }]), { in: [0], out: [] });
    assert.deepEqual(await q([{ Name: 'address-module', Values: ['ipm-12345678'] }]), { in: [], out: [] });
    assert.deepEqual(await q([{ Name: 'direction', Values: ['INBOUND'] }, { Name: 'poly', Values: ['ACCEPT'] }]), { in: [0, 1], out: [] });
    assert.equal(await errorCode(q([{ Name: 'poly', Values: ['MAYBE'] }])), 'InvalidParameterValue');
    assert.equal(await errorCode(q([{ Name: 'cidr', Values: ['x'] }])), 'InvalidParameter.FilterInvalidKey');
  });

  it('lets policies reference the account’s own groups, itself included', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'self-ref');
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', SecurityGroupId: id, Action: 'ACCEPT' }] } });
    assert.equal((await policies(vpc, id)).Ingress![0]!.SecurityGroupId, id);
    assert.equal(
      await errorCode(vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', SecurityGroupId: 'sg-00000000', Action: 'ACCEPT' }] } })),
      'ResourceNotFound',
    );
    // A group that only references itself can be deleted.
    await vpc.DeleteSecurityGroup({ SecurityGroupId: id });
  });

  it('refuses to delete a group another group references or an instance uses, naming the holder', async () => {
    const vpc = r.vpc();
    const target = await newGroup(vpc, 'target');
    const holder = await newGroup(vpc, 'holder', { Egress: [{ Protocol: 'TCP', Port: '5432', SecurityGroupId: target, Action: 'ACCEPT' }] });
    await assert.rejects(vpc.DeleteSecurityGroup({ SecurityGroupId: target }), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'ResourceInUse');
      assert.match(e.message!, new RegExp(holder));
      return true;
    });
    await vpc.ModifySecurityGroupPolicies({ SecurityGroupId: holder, SecurityGroupPolicySet: { Version: '0' } });

    const net = (await vpc.CreateVpc({ VpcName: 'sg-in-use', CidrBlock: '10.20.0.0/16' })).Vpc!.VpcId!;
    const subnet = (await vpc.CreateSubnet({ VpcId: net, SubnetName: 'a', CidrBlock: '10.20.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const cvm = r.cvm();
    const ins = (await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: net, SubnetId: subnet }, SecurityGroupIds: [target] })).InstanceIdSet![0]!;
    await assert.rejects(vpc.DeleteSecurityGroup({ SecurityGroupId: target }), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'ResourceInUse');
      assert.match(e.message!, new RegExp(ins));
      return true;
    });
    assert.equal((await vpc.DescribeSecurityGroups({ SecurityGroupIds: [target] })).TotalCount, 1);
    await cvm.TerminateInstances({ InstanceIds: [ins] });
    await vpc.DeleteSecurityGroup({ SecurityGroupId: target });
    await vpc.DeleteSecurityGroup({ SecurityGroupId: holder });
    await vpc.DeleteSubnet({ SubnetId: subnet });
    await vpc.DeleteVpc({ VpcId: net });
  });

  it('keeps accounts apart', async () => {
    const mine = r.vpc();
    const theirs = r.vpc(await r.newAccount('sg-other'));
    const id = await newGroup(mine, 'private', { Ingress: [tcp(1)] });
    const own = await newGroup(theirs, 'theirs');
    assert.equal((await theirs.DescribeSecurityGroups({ SecurityGroupIds: [id] })).TotalCount, 0);
    assert.ok(!(await theirs.DescribeSecurityGroups({})).SecurityGroupSet!.some((g) => g.SecurityGroupId === id));
    const calls: [string, () => Promise<unknown>][] = [
      ['DescribeSecurityGroupPolicies', () => theirs.DescribeSecurityGroupPolicies({ SecurityGroupId: id })],
      ['ModifySecurityGroupAttribute', () => theirs.ModifySecurityGroupAttribute({ SecurityGroupId: id, GroupName: 'x' })],
      ['CreateSecurityGroupPolicies', () => theirs.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(2)] } })],
      ['DeleteSecurityGroupPolicies', () => theirs.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0 }] } })],
      ['ReplaceSecurityGroupPolicy', () => theirs.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(2, { PolicyIndex: 0 })] } })],
      ['ModifySecurityGroupPolicies', () => theirs.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '0' } })],
      ['DeleteSecurityGroup', () => theirs.DeleteSecurityGroup({ SecurityGroupId: id })],
      [
        'reference to a foreign group',
        () => theirs.CreateSecurityGroupPolicies({ SecurityGroupId: own, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', SecurityGroupId: id, Action: 'ACCEPT' }] } }),
      ],
    ];
    for (const [name, call] of calls) assert.equal(await errorCode(call()), 'ResourceNotFound', name);
    assert.deepEqual(await ports(mine, id), ['1']);
    assert.equal(await version(mine, id), '1');
    assert.equal((await mine.DescribeSecurityGroups({ SecurityGroupIds: [id] })).SecurityGroupSet![0]!.SecurityGroupName, 'private');
  });

  it('enforces the group quota per account and the policy quota per direction', async () => {
    const creds = await r.newAccount('sg-quota');
    const q = await run(['account', 'quota', '--data-dir', r.dataDir, '--name', 'sg-quota', ...dbArgs(), '--set', 'securityGroup=2', 'policyPerDirection=3']);
    assert.equal(q.code, 0, q.stderr);
    const vpc = r.vpc(creds);
    const a = await newGroup(vpc, 'a', { Ingress: [tcp(1), tcp(2), tcp(3)] });
    assert.equal(await errorCode(newGroup(vpc, 'too many policies', { Egress: [tcp(1), tcp(2), tcp(3), tcp(4)] })), 'LimitExceeded.SecurityGroupPolicySet');
    assert.equal((await vpc.DescribeSecurityGroups({})).TotalCount, 1, 'a refused create leaves no group behind');
    const b = await newGroup(vpc, 'b');
    assert.equal(await errorCode(newGroup(vpc, 'c')), 'LimitExceeded');
    assert.equal(await errorCode(vpc.CreateSecurityGroupPolicies({ SecurityGroupId: a, SecurityGroupPolicySet: { Ingress: [tcp(4)] } })), 'LimitExceeded.SecurityGroupPolicySet');
    assert.equal(
      await errorCode(vpc.ModifySecurityGroupPolicies({ SecurityGroupId: a, SecurityGroupPolicySet: { Ingress: [tcp(5), tcp(6), tcp(7), tcp(8)] } })),
      'LimitExceeded.SecurityGroupPolicySet',
    );
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: a, SecurityGroupPolicySet: { Egress: [tcp(4)] } });
    assert.deepEqual(await ports(vpc, a), ['1', '2', '3']);
    await vpc.DeleteSecurityGroup({ SecurityGroupId: b });
    await newGroup(vpc, 'c');
    assert.equal((await vpc.DescribeSecurityGroups({})).TotalCount, 2);
  });

  it('rejects bad policies with the exact code and changes nothing', async () => {
    const vpc = r.vpc();
    const id = await newGroup(vpc, 'bad-input', { Ingress: [tcp(1), tcp(2)], Egress: [tcp(3)] });
    const before = await policies(vpc, id);
    assert.equal(before.Version, '1');
    const create = (...ps: SecurityGroupPolicy[]) => vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: ps } });
    const cases: [string, () => Promise<unknown>, string][] = [
      ['unknown protocol', () => create(tcp(9, { Protocol: 'SCTP' })), 'InvalidParameterValue'],
      ['GRE', () => create({ Protocol: 'GRE', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }), 'UnsupportedOperation'],
      ['unknown action', () => create(tcp(9, { Action: 'ALLOW' })), 'InvalidParameterValue'],
      ['port 0', () => create(tcp(0)), 'InvalidParameterValue.Range'],
      ['port 65536', () => create(tcp(65536)), 'InvalidParameterValue.Range'],
      ['reversed range', () => create(tcp(9, { Port: '90-80' })), 'InvalidParameterValue.Range'],
      ['port text', () => create(tcp(9, { Port: 'http' })), 'InvalidParameterValue.Malformed'],
      ['range in a list', () => create(tcp(9, { Port: '80,8000-8010' })), 'InvalidParameterValue.Malformed'],
      ['port with ICMP', () => create(tcp(9, { Protocol: 'ICMP', Port: '22' })), 'InvalidParameter.Coexist'],
      ['port with ALL', () => create(tcp(9, { Protocol: 'ALL', Port: '80' })), 'InvalidParameter.Coexist'],
      ['two addresses', () => create(tcp(9, { SecurityGroupId: id })), 'InvalidParameter.Coexist'],
      ['no address', () => create({ Protocol: 'TCP', Port: '9', Action: 'ACCEPT' }), 'MissingParameter'],
      ['no protocol', () => create({ Port: '9', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }), 'MissingParameter'],
      ['no action', () => create({ Protocol: 'TCP', Port: '9', CidrBlock: '10.0.0.0/8' }), 'MissingParameter'],
      ['address template', () => create({ Protocol: 'TCP', AddressTemplate: { AddressId: 'ipm-12345678' }, Action: 'ACCEPT' }), 'UnsupportedOperation'],
      ['service template', () => create({ ServiceTemplate: { ServiceId: 'ppm-12345678' }, CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }), 'UnsupportedOperation'],
      ['ICMP with IPv6', () => create({ Protocol: 'ICMP', Ipv6CidrBlock: '::/0', Action: 'ACCEPT' }), 'InvalidParameter.Coexist'],
      ['bad IPv4', () => create(tcp(9, { CidrBlock: '10.0.0.300/8' })), 'InvalidParameterValue.Malformed'],
      ['host bits', () => create(tcp(9, { CidrBlock: '10.1.2.3/8' })), 'InvalidParameterValue.Malformed'],
      ['bad IPv6', () => create({ Protocol: 'TCP', Ipv6CidrBlock: 'fe80::/200', Action: 'ACCEPT' }), 'InvalidParameterValue.Malformed'],
      ['malformed group', () => create(tcp(9, { CidrBlock: undefined, SecurityGroupId: 'sg-1' })), 'InvalidParameterValue.Malformed'],
      ['missing group', () => create(tcp(9, { CidrBlock: undefined, SecurityGroupId: 'sg-zzzzzzzz' })), 'ResourceNotFound'],
      ['description too long', () => create(tcp(9, { PolicyDescription: 'd'.repeat(101) })), 'InvalidParameterValue.TooLong'],
      ['duplicate of an existing policy', () => create(tcp(2, { PolicyDescription: 'other text' })), 'UnsupportedOperation.DuplicatePolicy'],
      ['duplicate within the request', () => create(tcp(9), tcp(9)), 'UnsupportedOperation.DuplicatePolicy'],
      ['a good policy with a bad one', () => create(tcp(9), tcp(10, { Action: 'NOPE' })), 'InvalidParameterValue'],
      ['index past the end', () => create(tcp(9, { PolicyIndex: 3 })), 'InvalidParameterValue.Range'],
      ['negative index', () => create(tcp(9, { PolicyIndex: -1 })), 'InvalidParameterValue.Range'],
      ['different indexes', () => create(tcp(9, { PolicyIndex: 0 }), tcp(10, { PolicyIndex: 1 })), 'InvalidParameterValue'],
      ['unknown field', () => create({ ...tcp(9), Colour: 'red' } as SecurityGroupPolicy), 'UnknownParameter'],
      [
        'both directions',
        () => vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(9)], Egress: [tcp(9)] } }),
        'InvalidParameter.Coexist',
      ],
      ['no policy', () => vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [] } }), 'InvalidParameterValue.Empty'],
      ['malformed version', () => vpc.CreateSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: 'v1', Ingress: [tcp(9)] } }), 'InvalidParameterValue.Malformed'],
      ['delete a missing index', () => vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 2 }] } }), 'ResourceNotFound'],
      ['delete a missing rule', () => vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(1, { Action: 'DROP' })] } }), 'ResourceNotFound'],
      [
        'delete by index and content at once',
        () => vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0 }, tcp(2)] } }),
        'InvalidParameter.Coexist',
      ],
      ['replace without index', () => vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(9)] } }), 'MissingParameter'],
      [
        'replace into a duplicate',
        () => vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(2, { PolicyIndex: 0 })] } }),
        'UnsupportedOperation.DuplicatePolicy',
      ],
      [
        'replace two with the single-policy action',
        () => vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(8, { PolicyIndex: 0 }), tcp(9, { PolicyIndex: 1 })] } }),
        'InvalidParameter',
      ],
      [
        'replace the same index twice',
        () => vpc.ReplaceSecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(8, { PolicyIndex: 0 }), tcp(9, { PolicyIndex: 0 })] } }),
        'InvalidParameterValue.Duplicate',
      ],
      [
        'priority move without the originals',
        () => vpc.ReplaceSecurityGroupPolicies({ SecurityGroupId: id, UpdateType: 'Priority', SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0 }] } }),
        'MissingParameter',
      ],
      ['reset with a bad policy', () => vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(9, { Port: '1-2-3' })] } }), 'InvalidParameterValue.Malformed'],
      [
        'reset with a PolicyIndex',
        () => vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [tcp(9, { PolicyIndex: 0 })] } }),
        'UnsupportedOperation',
      ],
      ['reset to nothing', () => vpc.ModifySecurityGroupPolicies({ SecurityGroupId: id, SecurityGroupPolicySet: {} }), 'InvalidParameterValue.Empty'],
    ];
    assert.ok(cases.length >= 20);
    for (const [name, call, code] of cases) {
      assert.equal(await errorCode(call()), code, name);
      assert.deepEqual(await policies(vpc, id), before, `${name}: the policies and Version did not change`);
    }
  });
});
