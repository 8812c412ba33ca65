import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NetworkAcl, NetworkAclEntry } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, errorOf, loose, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

describe(`network ACLs through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpcId: string;
  let subnetA: string;
  let subnetB: string;
  let otherVpcSubnet: string;
  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    const vpc = r.vpc();
    vpcId = (await vpc.CreateVpc({ VpcName: 'main', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const made = await vpc.CreateSubnets({
      VpcId: vpcId,
      Subnets: [
        { SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' },
        { SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-1' },
      ],
    });
    [subnetA, subnetB] = made.SubnetSet!.map((s) => s.SubnetId!) as [string, string];
    const other = (await vpc.CreateVpc({ VpcName: 'other', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    otherVpcSubnet = (await vpc.CreateSubnet({ VpcId: other, SubnetName: 'o', CidrBlock: '10.1.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const changesOf = async (id: string) =>
    (await store.db.selectFrom('changes').select(['kind', 'op']).where('resource_id', '=', id).orderBy('revision').execute()).map((c) => `${c.kind}:${c.op}`);
  const revision = () => store.revision();
  const describeOne = async (id: string, creds?: Creds) => (await r.vpc(creds).DescribeNetworkAcls({ NetworkAclIds: [id] })).NetworkAclSet![0]!;
  const entries = (acl: NetworkAcl, dir: 'IngressEntries' | 'EgressEntries') =>
    acl[dir]!.map((e) => `${e.Priority}:${e.Protocol}/${e.Port}/${e.CidrBlock || e.Ipv6CidrBlock}/${e.Action}/${e.Description}`);
  const newAcl = async (name: string) => (await r.vpc().CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: name })).NetworkAcl!.NetworkAclId!;

  it('creates, describes, renames and deletes an ACL with every field of the SDK model', async () => {
    const vpc = r.vpc();
    const created = (await vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'web', Tags: [{ Key: 'env', Value: 'prod' }] })).NetworkAcl!;
    assert.match(created.NetworkAclId!, /^acl-[0-9a-z]{8}$/);
    assert.match(created.CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(Object.keys(created).sort(), modelFields('NetworkAcl'));
    const { NetworkAclId: id, CreatedTime: _t, ...rest } = created;
    // A new ACL has no entries: it denies everything in both directions (the data plane drops what no entry accepts).
    assert.deepEqual(rest, {
      VpcId: vpcId,
      NetworkAclName: 'web',
      SubnetSet: [],
      IngressEntries: [],
      EgressEntries: [],
      NetworkAclType: 'TRIPLE',
      TagSet: [{ Key: 'env', Value: 'prod' }],
    });
    assert.deepEqual(await describeOne(id!), created);

    await vpc.ModifyNetworkAclAttribute({ NetworkAclId: id!, NetworkAclName: 'frontend' });
    assert.deepEqual(await describeOne(id!), { ...created, NetworkAclName: 'frontend' });

    await vpc.DeleteNetworkAcl({ NetworkAclId: id! });
    assert.equal((await vpc.DescribeNetworkAcls({ NetworkAclIds: [id!] })).TotalCount, 0);
    assert.equal(await errorCode(vpc.DeleteNetworkAcl({ NetworkAclId: id! })), 'ResourceNotFound');
    assert.equal(await errorCode(vpc.DeleteNetworkAcl({ NetworkAclId: 'acl-BAD' })), 'InvalidParameterValue.Malformed');
    assert.deepEqual(await changesOf(id!), ['network_acl:create', 'network_acl:update', 'network_acl:delete']);
    assert.equal((await store.db.selectFrom('tags').select('key').where('resource_id', '=', id!).execute()).length, 0);
  });

  it('refuses a QUINTUPLE ACL and a missing or foreign VPC', async () => {
    const vpc = r.vpc();
    assert.equal(await errorCode(vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'q', NetworkAclType: 'QUINTUPLE' })), 'UnsupportedOperation');
    assert.equal(await errorCode(vpc.CreateNetworkAcl({ VpcId: 'vpc-00000000', NetworkAclName: 'q' })), 'ResourceNotFound');
    assert.equal(await errorCode(vpc.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'x'.repeat(61) })), 'InvalidParameterValue');
  });

  it('replaces entries per direction: a given list replaces its direction, an absent one is kept, an empty one empties it', async () => {
    const vpc = r.vpc();
    const id = await newAcl('entries');
    await vpc.ModifyNetworkAclEntries({
      NetworkAclId: id,
      NetworkAclEntrySet: {
        Ingress: [
          { Protocol: 'tcp', Port: '22', CidrBlock: '10.0.0.0/8', Action: 'Accept', Description: 'ssh' },
          { Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'DROP' },
        ],
        Egress: [{ Protocol: 'UDP', Port: '53-54', CidrBlock: '10.0.0.2', Action: 'ACCEPT' }],
      },
    });
    let acl = await describeOne(id);
    assert.deepEqual(entries(acl, 'IngressEntries'), ['1:TCP/22/10.0.0.0/8/ACCEPT/ssh', '2:ALL/ALL/0.0.0.0/0/DROP/']);
    assert.deepEqual(entries(acl, 'EgressEntries'), ['1:UDP/53-54/10.0.0.2/ACCEPT/']);
    const e0 = acl.IngressEntries![0]!;
    assert.deepEqual(Object.keys(e0).sort(), modelFields('NetworkAclEntry'));
    assert.match(e0.ModifyTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const egressBefore = acl.EgressEntries;

    // Only Ingress: egress untouched (same ModifyTime too).
    await vpc.ModifyNetworkAclEntries({ NetworkAclId: id, NetworkAclEntrySet: { Ingress: [{ Protocol: 'ICMP', Ipv6CidrBlock: '::/0', Action: 'ACCEPT' }] } });
    acl = await describeOne(id);
    assert.deepEqual(entries(acl, 'IngressEntries'), ['1:ICMP/ALL/::/0/ACCEPT/']);
    assert.deepEqual(acl.EgressEntries, egressBefore);

    // Egress given empty: egress emptied, ingress kept.
    await vpc.ModifyNetworkAclEntries({ NetworkAclId: id, NetworkAclEntrySet: { Egress: [] } });
    acl = await describeOne(id);
    assert.deepEqual(entries(acl, 'IngressEntries'), ['1:ICMP/ALL/::/0/ACCEPT/']);
    assert.deepEqual(acl.EgressEntries, []);

    // Describe output fed back as input (ModifyTime, Priority, entry IDs) is accepted.
    await vpc.ModifyNetworkAclEntries({ NetworkAclId: id, NetworkAclEntrySet: { Egress: acl.IngressEntries as NetworkAclEntry[] } });
    assert.deepEqual(entries(await describeOne(id), 'EgressEntries'), ['1:ICMP/ALL/::/0/ACCEPT/']);
    assert.deepEqual((await changesOf(id)).slice(1), Array(4).fill('network_acl:update'));
    const vpcChanges = await store.db.selectFrom('changes').select('op').where('resource_id', '=', vpcId).where('kind', '=', 'vpc').execute();
    assert.ok(vpcChanges.length >= 4, 'entry changes mark the ACL\'s VPC changed');
  });

  it('bad entries and bad combinations change nothing', async () => {
    const vpc = r.vpc();
    const id = await newAcl('guarded');
    const good = { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' };
    await vpc.ModifyNetworkAclEntries({ NetworkAclId: id, NetworkAclEntrySet: { Ingress: [good], Egress: [good] } });
    const before = await describeOne(id);
    const cases: [string, Parameters<typeof vpc.ModifyNetworkAclEntries>[0], string, RegExp?][] = [
      ['malformed CIDR', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [good, { ...good, CidrBlock: '10.0.0.300/8' }] } }, 'InvalidParameterValue.Malformed', /NetworkAclEntrySet\.Ingress\.1\.CidrBlock/],
      ['one bad direction spoils both', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [], Egress: [{ ...good, Action: 'MAYBE' }] } }, 'InvalidParameterValue', /NetworkAclEntrySet\.Egress\.0\.Action/],
      ['port list', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [{ ...good, Port: '80,443' }] } }, 'InvalidParameterValue.Malformed', /Ingress\.0\.Port/],
      ['port with ICMP', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [{ ...good, Protocol: 'ICMP' }] } }, 'InvalidParameterValue', /Ingress\.0\.Port/],
      ['both address families', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [{ ...good, Ipv6CidrBlock: '::/0' }] } }, 'InvalidParameter.Coexist'],
      ['over the per-direction quota', { NetworkAclId: id, NetworkAclEntrySet: { Egress: Array(21).fill(good) } }, 'LimitExceeded', /20/],
      ['no entry set', { NetworkAclId: id }, 'MissingParameter'],
      ['an entry set with neither direction', { NetworkAclId: id, NetworkAclEntrySet: {} }, 'MissingParameter'],
      ['a quintuple set for a triple ACL', { NetworkAclId: id, NetworkAclQuintupleSet: { Ingress: [] } }, 'InvalidParameter.AclTypeMismatch'],
      ['both sets', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [] }, NetworkAclQuintupleSet: { Ingress: [] } }, 'InvalidParameter.Coexist'],
      ['incremental update', { NetworkAclId: id, NetworkAclEntrySet: { Ingress: [] }, EnableUpdateAclEntries: true }, 'UnsupportedOperation'],
      ['missing ACL', { NetworkAclId: 'acl-00000000', NetworkAclEntrySet: { Ingress: [] } }, 'ResourceNotFound'],
    ];
    for (const [name, params, code, message] of cases) {
      const rev = await revision();
      const e = await errorOf(vpc.ModifyNetworkAclEntries(params));
      assert.equal(e.code, code, `${name}: ${e.message}`);
      if (message) assert.match(e.message, message, name);
      assert.equal(await revision(), rev, `${name}: nothing written`);
      assert.deepEqual(await describeOne(id), before, `${name}: entries unchanged`);
    }
    assert.equal(
      await errorCode(vpc.ModifyNetworkAclEntries(loose({ NetworkAclId: id, NetworkAclEntrySet: { Ingress: [{ ...good, Colour: 'red' }] } }))),
      'UnknownParameter',
    );
  });

  it('associates subnets (one ACL per subnet, a new one replaces the old), disassociates, and guards deletion', async () => {
    const vpc = r.vpc();
    const first = await newAcl('first');
    const second = await newAcl('second');
    await vpc.AssociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: [subnetA, subnetB] });
    let acl = await describeOne(first);
    assert.deepEqual(acl.SubnetSet!.map((s) => s.SubnetId).sort(), [subnetA, subnetB].sort());
    assert.deepEqual(Object.keys(acl.SubnetSet![0]!).sort(), modelFields('Subnet'));
    assert.ok(acl.SubnetSet!.every((s) => s.NetworkAclId === first));

    // Binding B to the second ACL takes it from the first.
    await vpc.AssociateNetworkAclSubnets({ NetworkAclId: second, SubnetIds: [subnetB] });
    assert.deepEqual((await describeOne(first)).SubnetSet!.map((s) => s.SubnetId), [subnetA]);
    assert.deepEqual((await describeOne(second)).SubnetSet!.map((s) => s.SubnetId), [subnetB]);
    assert.ok((await changesOf(first)).includes('network_acl:update'), 'the ACL that lost a subnet is marked changed');
    assert.ok((await changesOf(subnetB)).includes('subnet:update'));

    const rev = await revision();
    const inUse = await errorOf(vpc.DeleteNetworkAcl({ NetworkAclId: first }));
    assert.equal(inUse.code, 'ResourceInUse');
    assert.match(inUse.message, new RegExp(subnetA));
    const cases: [string, () => Promise<unknown>, string][] = [
      ['a subnet of another VPC', () => vpc.AssociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: [subnetA, otherVpcSubnet] }), 'UnsupportedOperation.VpcMismatch'],
      ['a missing subnet', () => vpc.AssociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: ['subnet-00000000'] }), 'ResourceNotFound'],
      ['a malformed subnet ID', () => vpc.AssociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: ['sn-1'] }), 'InvalidParameterValue.Malformed'],
      ['a repeated subnet', () => vpc.AssociateNetworkAclSubnets({ NetworkAclId: second, SubnetIds: [subnetA, subnetA] }), 'InvalidParameterValue.Duplicate'],
      ['no subnets', () => vpc.AssociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: [] }), 'InvalidParameterValue'],
      ['a missing ACL', () => vpc.AssociateNetworkAclSubnets({ NetworkAclId: 'acl-00000000', SubnetIds: [subnetA] }), 'ResourceNotFound'],
      ['disassociating a subnet bound elsewhere', () => vpc.DisassociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: [subnetA, subnetB] }), 'ResourceNotFound'],
      ['disassociating across VPCs', () => vpc.DisassociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: [otherVpcSubnet] }), 'UnsupportedOperation.VpcMismatch'],
    ];
    for (const [name, call, code] of cases) assert.equal(await errorCode(call()), code, name);
    assert.equal(await revision(), rev, 'refused calls wrote nothing');
    assert.deepEqual((await describeOne(first)).SubnetSet!.map((s) => s.SubnetId), [subnetA]);

    await vpc.DisassociateNetworkAclSubnets({ NetworkAclId: first, SubnetIds: [subnetA] });
    assert.deepEqual((await describeOne(first)).SubnetSet, []);
    const row = await store.db.selectFrom('subnets').select('network_acl_id').where('id', '=', subnetA).executeTakeFirstOrThrow();
    assert.equal(row.network_acl_id, '');
    await vpc.DeleteNetworkAcl({ NetworkAclId: first });
    await vpc.DisassociateNetworkAclSubnets({ NetworkAclId: second, SubnetIds: [subnetB] });
    await vpc.DeleteNetworkAcl({ NetworkAclId: second });
  });

  it('filters, orders and pages DescribeNetworkAcls', async () => {
    const vpc = r.vpc();
    const before = (await vpc.DescribeNetworkAcls({})).TotalCount!;
    const ids = [await newAcl('zeta-list'), await newAcl('alpha-list'), await newAcl('mid-list')];
    assert.equal((await vpc.DescribeNetworkAcls({})).TotalCount, before + 3);
    const byName = await vpc.DescribeNetworkAcls({ Filters: [{ Name: 'network-acl-name', Values: ['-LIST'] }], OrderField: 'NetworkAclName', OrderDirection: 'DESC' });
    assert.deepEqual(byName.NetworkAclSet!.map((a) => a.NetworkAclName), ['zeta-list', 'mid-list', 'alpha-list']);
    const paged = await vpc.DescribeNetworkAcls({ Filters: [{ Name: 'network-acl-name', Values: ['-list'] }], OrderField: 'NetworkAclName', Offset: 1, Limit: 1 });
    assert.equal(paged.TotalCount, 3);
    assert.deepEqual(paged.NetworkAclSet!.map((a) => a.NetworkAclName), ['mid-list']);
    assert.equal((await vpc.DescribeNetworkAcls({ Filters: [{ Name: 'network-acl-id', Values: [ids[0]!] }] })).NetworkAclSet![0]!.NetworkAclId, ids[0]);
    assert.equal((await vpc.DescribeNetworkAcls({ Filters: [{ Name: 'vpc-id', Values: ['vpc-00000000'] }] })).TotalCount, 0);
    // ModifyTime order: the ACL whose entries changed last comes last.
    await vpc.ModifyNetworkAclEntries({ NetworkAclId: ids[0]!, NetworkAclEntrySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'DROP' }] } });
    const byModify = await vpc.DescribeNetworkAcls({ Filters: [{ Name: 'network-acl-name', Values: ['-list'] }], OrderField: 'ModifyTime' });
    assert.equal(byModify.NetworkAclSet!.at(-1)!.NetworkAclId, ids[0]);
    assert.equal(await errorCode(vpc.DescribeNetworkAcls({ NetworkAclIds: [ids[0]!], Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })), 'InvalidParameter.Coexist');
    assert.equal(await errorCode(vpc.DescribeNetworkAcls({ Filters: [{ Name: 'colour', Values: ['x'] }] })), 'InvalidParameter.FilterInvalidKey');
    assert.equal(await errorCode(vpc.DescribeNetworkAcls({ NetworkAclIds: ['acl-x'] })), 'InvalidParameterValue.Malformed');
    assert.equal(await errorCode(vpc.DescribeNetworkAcls({ OrderField: 'Colour' })), 'InvalidParameterValue');
    for (const id of ids) await vpc.DeleteNetworkAcl({ NetworkAclId: id });
  });

  it('keeps ACLs to their account: foreign IDs answer as missing', async () => {
    const tenant = await r.newAccount('acl-tenant');
    const theirs = r.vpc(tenant);
    const id = await newAcl('mine');
    const tv = (await theirs.CreateVpc({ VpcName: 't', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const ts = (await theirs.CreateSubnet({ VpcId: tv, SubnetName: 't', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const rev = await revision();
    assert.equal((await theirs.DescribeNetworkAcls({})).TotalCount, 0);
    assert.equal((await theirs.DescribeNetworkAcls({ NetworkAclIds: [id] })).TotalCount, 0);
    assert.equal(await errorCode(theirs.ModifyNetworkAclAttribute({ NetworkAclId: id, NetworkAclName: 'x' })), 'ResourceNotFound');
    assert.equal(await errorCode(theirs.ModifyNetworkAclEntries({ NetworkAclId: id, NetworkAclEntrySet: { Ingress: [] } })), 'ResourceNotFound');
    assert.equal(await errorCode(theirs.AssociateNetworkAclSubnets({ NetworkAclId: id, SubnetIds: [ts] })), 'ResourceNotFound');
    assert.equal(await errorCode(theirs.DeleteNetworkAcl({ NetworkAclId: id })), 'ResourceNotFound');
    assert.equal(await errorCode(theirs.CreateNetworkAcl({ VpcId: vpcId, NetworkAclName: 'x' })), 'ResourceNotFound');
    // My ACL cannot take their subnet either.
    assert.equal(await errorCode(r.vpc().AssociateNetworkAclSubnets({ NetworkAclId: id, SubnetIds: [ts] })), 'ResourceNotFound');
    assert.equal(await revision(), rev);
    await r.vpc().DeleteNetworkAcl({ NetworkAclId: id });
  });

  it('enforces the ACLs-per-VPC quota', async () => {
    const name = 'acl-quota';
    const creds = await r.newAccount(name);
    const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', name, '--set', 'networkAclPerVpc=2', 'aclEntryPerDirection=1', ...(r.database ? ['--database', r.database] : [])]);
    assert.equal(q.code, 0, q.stderr);
    const vpc = r.vpc(creds);
    const v = (await vpc.CreateVpc({ VpcName: 'q', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const a = (await vpc.CreateNetworkAcl({ VpcId: v, NetworkAclName: 'a' })).NetworkAcl!.NetworkAclId!;
    await vpc.CreateNetworkAcl({ VpcId: v, NetworkAclName: 'b' });
    const e = await errorOf(vpc.CreateNetworkAcl({ VpcId: v, NetworkAclName: 'c' }));
    assert.equal(e.code, 'LimitExceeded');
    assert.match(e.message, /2/);
    assert.equal((await vpc.DescribeNetworkAcls({})).TotalCount, 2);
    const entry = { Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' };
    await vpc.ModifyNetworkAclEntries({ NetworkAclId: a, NetworkAclEntrySet: { Ingress: [entry], Egress: [entry] } });
    assert.equal(await errorCode(vpc.ModifyNetworkAclEntries({ NetworkAclId: a, NetworkAclEntrySet: { Ingress: [entry, entry] } })), 'LimitExceeded');
    // Another VPC has its own allowance.
    const v2 = (await vpc.CreateVpc({ VpcName: 'q2', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    await vpc.CreateNetworkAcl({ VpcId: v2, NetworkAclName: 'a' });
  });
});
