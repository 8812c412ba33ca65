import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Subnet } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, errorOf, loose, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

describe(`subnets through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpcId: string; // 10.0.0.0/16, shared by the tests that need a VPC with room
  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    vpcId = (await r.vpc().CreateVpc({ VpcName: 'main', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  /** Everything the admin account can see of its subnets. */
  const snapshot = async () => {
    const all = await r.vpc().DescribeSubnets({ Limit: '100' });
    assert.ok(all.TotalCount! <= 100, 'the snapshot must see every subnet');
    return all;
  };
  const changesOf = async (id: string) =>
    (await store.db.selectFrom('changes').select(['kind', 'op', 'account']).where('resource_id', '=', id).orderBy('revision').execute()).map(
      (c) => `${c.kind}:${c.op}:${c.account}`,
    );

  it('creates, describes, modifies and deletes a subnet, with every field of the SDK model', async () => {
    const vpc = r.vpc();
    const created = await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'web', CidrBlock: '10.0.1.0/24', Zone: 'local-1', Tags: [{ Key: 'env', Value: 'prod' }] });
    const s = created.Subnet!;
    assert.match(s.SubnetId!, /^subnet-[0-9a-z]{8}$/);
    assert.match(s.CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(Object.keys(s).sort(), modelFields('Subnet'));
    const { SubnetId: _id, CreatedTime: _t, ...rest } = s;
    const mainTables = await vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] });
    assert.equal(mainTables.TotalCount, 1);
    assert.deepEqual(rest, {
      VpcId: vpcId,
      SubnetName: 'web',
      CidrBlock: '10.0.1.0/24',
      IsDefault: false,
      EnableBroadcast: false,
      Zone: 'local-1',
      RouteTableId: mainTables.RouteTableSet![0]!.RouteTableId!, // a new subnet is associated with its VPC's main table
      AvailableIpAddressCount: 253,
      Ipv6CidrBlock: '',
      NetworkAclId: '',
      IsRemoteVpcSnat: false,
      TotalIpAddressCount: 256,
      TagSet: [{ Key: 'env', Value: 'prod' }],
      CdcId: '',
      IsCdcSubnet: 0,
    } satisfies Omit<Subnet, 'SubnetId' | 'CreatedTime'>);

    const byId = await vpc.DescribeSubnets({ SubnetIds: [s.SubnetId!] });
    assert.equal(byId.TotalCount, 1);
    assert.deepEqual(byId.SubnetSet, [s]);

    await vpc.ModifySubnetAttribute({ SubnetId: s.SubnetId!, SubnetName: 'frontend', EnableBroadcast: 'true' });
    const modified = (await vpc.DescribeSubnets({ SubnetIds: [s.SubnetId!] })).SubnetSet![0]!;
    assert.deepEqual(modified, { ...s, SubnetName: 'frontend', EnableBroadcast: true });
    await vpc.ModifySubnetAttribute({ SubnetId: s.SubnetId!, EnableBroadcast: 'false' });
    assert.deepEqual((await vpc.DescribeSubnets({ SubnetIds: [s.SubnetId!] })).SubnetSet![0], { ...s, SubnetName: 'frontend' });

    await vpc.DeleteSubnet({ SubnetId: s.SubnetId! });
    assert.equal((await vpc.DescribeSubnets({ SubnetIds: [s.SubnetId!] })).TotalCount, 0);
    assert.equal(await errorCode(vpc.DeleteSubnet({ SubnetId: s.SubnetId! })), 'ResourceNotFound');
    assert.equal(await errorCode(vpc.ModifySubnetAttribute({ SubnetId: s.SubnetId!, SubnetName: 'x' })), 'ResourceNotFound');
    const uin = r.admin.Uin;
    assert.deepEqual(await changesOf(s.SubnetId!), [`subnet:create:${uin}`, `subnet:update:${uin}`, `subnet:update:${uin}`, `subnet:delete:${uin}`]);
    assert.equal((await store.db.selectFrom('tags').select('key').where('resource_id', '=', s.SubnetId!).execute()).length, 0, 'tags go with the subnet');
  });

  it('accepts a subnet as large as its VPC and the /16 and /28 bounds', async () => {
    const vpc = r.vpc();
    const whole = (await vpc.CreateVpc({ VpcName: 'whole', CidrBlock: '192.168.0.0/16' })).Vpc!.VpcId!;
    const big = (await vpc.CreateSubnet({ VpcId: whole, SubnetName: 'all', CidrBlock: '192.168.0.0/16', Zone: 'local-2' })).Subnet!;
    assert.equal(big.TotalIpAddressCount, 65536);
    assert.equal(big.AvailableIpAddressCount, 65533);
    assert.equal(big.Zone, 'local-2');
    await vpc.DeleteSubnet({ SubnetId: big.SubnetId! });
    const tiny = (await vpc.CreateSubnet({ VpcId: whole, SubnetName: 'tiny', CidrBlock: '192.168.7.240/28', Zone: 'local-1' })).Subnet!;
    assert.equal(tiny.TotalIpAddressCount, 16);
    assert.equal(tiny.AvailableIpAddressCount, 13);
    await vpc.DeleteSubnet({ SubnetId: tiny.SubnetId! });
    await vpc.DeleteVpc({ VpcId: whole });
  });

  it('CreateSubnets creates a batch with shared tags, all or nothing', async () => {
    const vpc = r.vpc();
    const v = (await vpc.CreateVpc({ VpcName: 'batch', CidrBlock: '172.20.0.0/16' })).Vpc!.VpcId!;
    const res = await vpc.CreateSubnets({
      VpcId: v,
      Subnets: [
        { CidrBlock: '172.20.0.0/24', SubnetName: 'a', Zone: 'local-1' },
        { CidrBlock: '172.20.1.0/24', SubnetName: 'b', Zone: 'local-2' },
        { CidrBlock: '172.20.2.0/26', SubnetName: 'c', Zone: 'local-1' },
      ],
      Tags: [{ Key: 'team', Value: 'net' }],
    });
    assert.deepEqual(
      res.SubnetSet!.map((s) => [s.SubnetName, s.CidrBlock, s.Zone, s.VpcId, s.TotalIpAddressCount, s.TagSet]),
      [
        ['a', '172.20.0.0/24', 'local-1', v, 256, [{ Key: 'team', Value: 'net' }]],
        ['b', '172.20.1.0/24', 'local-2', v, 256, [{ Key: 'team', Value: 'net' }]],
        ['c', '172.20.2.0/26', 'local-1', v, 64, [{ Key: 'team', Value: 'net' }]],
      ],
    );
    for (const s of res.SubnetSet!) assert.deepEqual(Object.keys(s).sort(), modelFields('Subnet'));
    const described = await vpc.DescribeSubnets({ Filters: [{ Name: 'vpc-id', Values: [v] }] });
    assert.equal(described.TotalCount, 3);
    assert.deepEqual(
      [...described.SubnetSet!].sort((a, b) => a.SubnetId!.localeCompare(b.SubnetId!)),
      [...res.SubnetSet!].sort((a, b) => a.SubnetId!.localeCompare(b.SubnetId!)),
    );

    const before = await snapshot();
    const conflictInBatch = await errorOf(
      vpc.CreateSubnets({
        VpcId: v,
        Subnets: [
          { CidrBlock: '172.20.8.0/24', SubnetName: 'ok', Zone: 'local-1' },
          { CidrBlock: '172.20.9.0/24', SubnetName: 'ok2', Zone: 'local-1' },
          { CidrBlock: '172.20.8.128/25', SubnetName: 'clash', Zone: 'local-1' },
        ],
      }),
    );
    assert.equal(conflictInBatch.code, 'InvalidParameterValue.SubnetConflict');
    assert.match(conflictInBatch.message, /Subnets\.2\.CidrBlock/);
    assert.match(conflictInBatch.message, /Subnets\.0\.CidrBlock/);
    const conflictWithExisting = await errorOf(
      vpc.CreateSubnets({
        VpcId: v,
        Subnets: [
          { CidrBlock: '172.20.8.0/24', SubnetName: 'ok', Zone: 'local-1' },
          { CidrBlock: '172.20.0.0/23', SubnetName: 'clash', Zone: 'local-1' },
        ],
      }),
    );
    assert.equal(conflictWithExisting.code, 'InvalidParameterValue.SubnetConflict');
    assert.match(conflictWithExisting.message, new RegExp(res.SubnetSet![0]!.SubnetId!));
    const afterRefusals = await snapshot();
    assert.equal(afterRefusals.TotalCount, before.TotalCount);
    assert.deepEqual(afterRefusals.SubnetSet, before.SubnetSet, 'a refused batch creates nothing');

    for (const s of res.SubnetSet!) await vpc.DeleteSubnet({ SubnetId: s.SubnetId! });
    await vpc.DeleteVpc({ VpcId: v });
  });

  it('refuses bad input with the exact code and changes nothing', async () => {
    const vpc = r.vpc();
    const wide = (await vpc.CreateVpc({ VpcName: 'wide', CidrBlock: '172.16.0.0/12' })).Vpc!.VpcId!;
    const existing = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'existing', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!;
    const item = { SubnetName: 'n', CidrBlock: '10.0.200.0/24', Zone: 'local-1' };
    const ok = { VpcId: vpcId, ...item };
    const cases: [string, () => Promise<unknown>, string, RegExp?][] = [
      ['host bits set', () => vpc.CreateSubnet({ ...ok, CidrBlock: '10.0.200.1/24' }), 'InvalidParameterValue.Malformed', /10\.0\.200\.0\/24/],
      ['not a CIDR', () => vpc.CreateSubnet({ ...ok, CidrBlock: 'banana' }), 'InvalidParameterValue.Malformed', /CidrBlock/],
      ['prefix over 32', () => vpc.CreateSubnet({ ...ok, CidrBlock: '10.0.200.0/33' }), 'InvalidParameterValue.Malformed'],
      ['mask larger than /16', () => vpc.CreateSubnet({ ...ok, VpcId: wide, CidrBlock: '172.16.0.0/15' }), 'InvalidParameterValue.SubnetRange', /\/16/],
      ['mask smaller than /28', () => vpc.CreateSubnet({ ...ok, VpcId: wide, CidrBlock: '172.16.0.0/29' }), 'InvalidParameterValue.SubnetRange', /\/28/],
      ['outside the VPC', () => vpc.CreateSubnet({ ...ok, CidrBlock: '10.1.0.0/24' }), 'InvalidParameterValue.SubnetRange', /10\.0\.0\.0\/16/],
      ['straddles the VPC edge', () => vpc.CreateSubnet({ ...ok, VpcId: wide, CidrBlock: '172.32.0.0/16' }), 'InvalidParameterValue.SubnetRange'],
      ['inside an existing subnet', () => vpc.CreateSubnet({ ...ok, CidrBlock: '10.0.1.128/25' }), 'InvalidParameterValue.SubnetConflict', new RegExp(existing.SubnetId!)],
      ['around an existing subnet', () => vpc.CreateSubnet({ ...ok, CidrBlock: '10.0.0.0/16' }), 'InvalidParameterValue.SubnetConflict'],
      ['same as an existing subnet', () => vpc.CreateSubnet({ ...ok, CidrBlock: '10.0.1.0/24' }), 'InvalidParameterValue.SubnetConflict'],
      ['unknown zone', () => vpc.CreateSubnet({ ...ok, Zone: 'local-9' }), 'InvalidParameterValue.ZoneConflict', /local-1/],
      ['another region’s zone', () => vpc.CreateSubnet({ ...ok, Zone: 'ap-guangzhou-3' }), 'InvalidParameterValue.ZoneConflict'],
      ['empty zone', () => vpc.CreateSubnet({ ...ok, Zone: '' }), 'InvalidParameterValue.ZoneConflict'],
      ['empty name', () => vpc.CreateSubnet({ ...ok, SubnetName: '' }), 'InvalidParameterValue', /SubnetName/],
      ['name over 60 bytes', () => vpc.CreateSubnet({ ...ok, SubnetName: 'x'.repeat(61) }), 'InvalidParameterValue', /SubnetName/],
      ['malformed VPC id', () => vpc.CreateSubnet({ ...ok, VpcId: 'vpc-NOPE' }), 'InvalidParameterValue.Malformed', /VpcId/],
      ['unknown VPC', () => vpc.CreateSubnet({ ...ok, VpcId: 'vpc-00000000' }), 'ResourceNotFound', /vpc-00000000/],
      ['duplicate tag keys', () => vpc.CreateSubnet({ ...ok, Tags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] }), 'InvalidParameterValue.Duplicate'],
      ['a CDC', () => vpc.CreateSubnet({ ...ok, CdcId: 'cluster-12345678' }), 'UnsupportedOperation', /CdcId/],
      ['missing zone', () => vpc.CreateSubnet(loose({ VpcId: vpcId, SubnetName: 'n', CidrBlock: '10.0.200.0/24' })), 'MissingParameter', /Zone/],
      ['unknown parameter', () => vpc.CreateSubnet(loose({ ...ok, Foo: 1 })), 'UnknownParameter', /Foo/],
      ['CIDR as a number', () => vpc.CreateSubnet(loose({ ...ok, CidrBlock: 10 })), 'InvalidParameter', /CidrBlock/],
      ['no subnets in a batch', () => vpc.CreateSubnets({ VpcId: vpcId, Subnets: [] }), 'InvalidParameterValue', /Subnets/],
      [
        'a batch item in an unknown zone',
        () => vpc.CreateSubnets({ VpcId: vpcId, Subnets: [{ ...item, CidrBlock: '10.0.201.0/24' }, { ...item, Zone: 'nowhere' }] }),
        'InvalidParameterValue.ZoneConflict',
        /Subnets\.1\.Zone/,
      ],
      [
        'a batch item outside the VPC',
        () => vpc.CreateSubnets({ VpcId: vpcId, Subnets: [{ ...item }, { ...item, CidrBlock: '192.168.0.0/24' }] }),
        'InvalidParameterValue.SubnetRange',
        /Subnets\.1\.CidrBlock/,
      ],
      [
        'a batch item with host bits',
        () => vpc.CreateSubnets({ VpcId: vpcId, Subnets: [{ ...item, CidrBlock: '10.0.202.7/24' }] }),
        'InvalidParameterValue.Malformed',
        /Subnets\.0\.CidrBlock/,
      ],
      [
        'the same block twice in a batch',
        () => vpc.CreateSubnets({ VpcId: vpcId, Subnets: [{ ...item }, { ...item, SubnetName: 'again' }] }),
        'InvalidParameterValue.SubnetConflict',
      ],
      [
        'a route table that does not exist',
        () => vpc.CreateSubnets({ VpcId: vpcId, Subnets: [{ ...item, RouteTableId: 'rtb-12345678' }] }),
        'ResourceNotFound',
        /RouteTableId/,
      ],
      ['a batch in an unknown VPC', () => vpc.CreateSubnets({ VpcId: 'vpc-00000000', Subnets: [{ ...item }] }), 'ResourceNotFound'],
      ['modify: malformed id', () => vpc.ModifySubnetAttribute({ SubnetId: 'subnet-x', SubnetName: 'y' }), 'InvalidParameterValue.Malformed', /SubnetId/],
      ['modify: unknown id', () => vpc.ModifySubnetAttribute({ SubnetId: 'subnet-00000000', SubnetName: 'y' }), 'ResourceNotFound'],
      ['modify: empty name', () => vpc.ModifySubnetAttribute({ SubnetId: existing.SubnetId!, SubnetName: '' }), 'InvalidParameterValue'],
      ['modify: broadcast not a boolean', () => vpc.ModifySubnetAttribute({ SubnetId: existing.SubnetId!, EnableBroadcast: 'yes' }), 'InvalidParameterValue', /EnableBroadcast/],
      ['delete: malformed id', () => vpc.DeleteSubnet({ SubnetId: 'sub-12345678' }), 'InvalidParameterValue.Malformed'],
      ['delete: unknown id', () => vpc.DeleteSubnet({ SubnetId: 'subnet-00000000' }), 'ResourceNotFound'],
      ['delete: missing id', () => vpc.DeleteSubnet(loose({})), 'MissingParameter'],
      ['delete VPC that has subnets', () => vpc.DeleteVpc({ VpcId: vpcId }), 'ResourceInUse', new RegExp(existing.SubnetId!)],
    ];
    const before = await snapshot();
    const revision = await store.revision();
    for (const [name, call, code, message] of cases) {
      const e = await errorOf(call());
      assert.equal(e.code, code, `${name}: ${e.message}`);
      if (message) assert.match(e.message, message, name);
      const now = await snapshot();
      assert.equal(now.TotalCount, before.TotalCount, name);
      assert.deepEqual(now.SubnetSet, before.SubnetSet, name);
    }
    assert.equal(await store.revision(), revision, 'no refused call committed anything');
    assert.equal((await vpc.DescribeVpcs({ VpcIds: [vpcId] })).TotalCount, 1);
    await vpc.DeleteSubnet({ SubnetId: existing.SubnetId! });
    await vpc.DeleteVpc({ VpcId: wide });
  });

  it('refuses bad DescribeSubnets parameters', async () => {
    const vpc = r.vpc();
    const cases: [string, () => Promise<unknown>, string][] = [
      ['ids and filters', () => vpc.DescribeSubnets({ SubnetIds: ['subnet-00000000'], Filters: [{ Name: 'zone', Values: ['local-1'] }] }), 'InvalidParameter.Coexist'],
      ['unknown filter', () => vpc.DescribeSubnets({ Filters: [{ Name: 'colour', Values: ['red'] }] }), 'InvalidParameter.FilterInvalidKey'],
      ['filter without values', () => vpc.DescribeSubnets({ Filters: [{ Name: 'zone', Values: [] }] }), 'InvalidParameterValue.Empty'],
      ['filter values not a list', () => vpc.DescribeSubnets(loose({ Filters: [{ Name: 'zone', Values: 'local-1' }] })), 'InvalidParameter'],
      ['is-default not a boolean', () => vpc.DescribeSubnets({ Filters: [{ Name: 'is-default', Values: ['maybe'] }] }), 'InvalidParameterValue'],
      ['is-cdc-subnet not 0/1', () => vpc.DescribeSubnets({ Filters: [{ Name: 'is-cdc-subnet', Values: ['2'] }] }), 'InvalidParameterValue'],
      ['malformed id', () => vpc.DescribeSubnets({ SubnetIds: ['subnet-00000000', 'subnet-BAD'] }), 'InvalidParameterValue.Malformed'],
      ['limit over 100', () => vpc.DescribeSubnets({ Limit: '101' }), 'InvalidParameterValue.Range'],
      ['negative offset', () => vpc.DescribeSubnets({ Offset: '-1' }), 'InvalidParameterValue.Range'],
      ['limit not a number', () => vpc.DescribeSubnets({ Limit: 'ten' }), 'InvalidParameter'],
      ['both paging styles', () => vpc.DescribeSubnets({ Offset: '0', MaxResults: 5 }), 'InvalidParameter.Coexist'],
      ['forged NextToken', () => vpc.DescribeSubnets({ NextToken: 'garbage!' }), 'InvalidParameterValue'],
      ['MaxResults over 100', () => vpc.DescribeSubnets({ MaxResults: 101 }), 'InvalidParameterValue.Range'],
    ];
    for (const [name, call, code] of cases) assert.equal(await errorCode(call()), code, name);
  });

  it('filters by every documented filter', async () => {
    const vpc = r.vpc();
    const v1 = (await vpc.CreateVpc({ VpcName: 'f1', CidrBlock: '10.16.0.0/16' })).Vpc!.VpcId!;
    const v2 = (await vpc.CreateVpc({ VpcName: 'f2', CidrBlock: '10.17.0.0/16' })).Vpc!.VpcId!;
    const mk = async (v: string, name: string, cidr: string, zone: string, tags?: { Key: string; Value: string }[]) =>
      (await vpc.CreateSubnet({ VpcId: v, SubnetName: name, CidrBlock: cidr, Zone: zone, Tags: tags })).Subnet!.SubnetId!;
    const a = await mk(v1, 'Alpha-web', '10.16.1.0/24', 'local-1', [{ Key: 'env', Value: 'prod' }, { Key: 'tier', Value: 'web' }]);
    const b = await mk(v1, 'beta-db', '10.16.2.0/24', 'local-2', [{ Key: 'env', Value: 'dev' }]);
    const c = await mk(v2, 'gamma_web', '10.17.1.0/24', 'local-1');
    const d = await mk(v2, '100% web', '10.17.2.0/25', 'local-2', [{ Key: 'tier', Value: '' }]);
    const mine = [a, b, c, d];
    const match = async (filters: { Name: string; Values: string[] }[]) => {
      const res = await vpc.DescribeSubnets({ Filters: filters, Limit: '100' });
      const ids = res.SubnetSet!.map((s) => s.SubnetId!).filter((id) => mine.includes(id));
      assert.equal(res.TotalCount, res.SubnetSet!.length);
      return ids.sort();
    };
    const set = (...ids: string[]) => ids.sort();
    const table: [string, { Name: string; Values: string[] }[], string[]][] = [
      ['subnet-id', [{ Name: 'subnet-id', Values: [a, c] }], set(a, c)],
      ['vpc-id', [{ Name: 'vpc-id', Values: [v2] }], set(c, d)],
      ['cidr-block exact', [{ Name: 'cidr-block', Values: ['10.16.2.0/24'] }], set(b)],
      ['cidr-block network address', [{ Name: 'cidr-block', Values: ['10.17.2.0', '10.16.1.0'] }], set(a, d)],
      ['cidr-block other prefix', [{ Name: 'cidr-block', Values: ['10.16.2.0/25'] }], []],
      ['is-default false', [{ Name: 'is-default', Values: ['false'] }], set(a, b, c, d)],
      ['is-default TRUE', [{ Name: 'is-default', Values: ['TRUE'] }], []],
      ['is-remote-vpc-snat false', [{ Name: 'is-remote-vpc-snat', Values: ['false'] }], set(a, b, c, d)],
      ['is-remote-vpc-snat true', [{ Name: 'is-remote-vpc-snat', Values: ['true'] }], []],
      ['subnet-name fuzzy, any case', [{ Name: 'subnet-name', Values: ['WEB'] }], set(a, c, d)],
      ['subnet-name, several values', [{ Name: 'subnet-name', Values: ['alpha', 'beta'] }], set(a, b)],
      ['subnet-name: % is literal', [{ Name: 'subnet-name', Values: ['%'] }], set(d)],
      ['subnet-name: _ is literal', [{ Name: 'subnet-name', Values: ['a_w'] }], set(c)],
      ['zone', [{ Name: 'zone', Values: ['local-2'] }], set(b, d)],
      ['tag-key', [{ Name: 'tag-key', Values: ['tier'] }], set(a, d)],
      ['tag:env', [{ Name: 'tag:env', Values: ['prod', 'dev'] }], set(a, b)],
      ['tag:tier empty value', [{ Name: 'tag:tier', Values: [''] }], set(d)],
      ['tag:unknown', [{ Name: 'tag:nope', Values: ['x'] }], []],
      ['cdc-id', [{ Name: 'cdc-id', Values: ['cluster-1'] }], []],
      ['is-cdc-subnet 0', [{ Name: 'is-cdc-subnet', Values: ['0'] }], set(a, b, c, d)],
      ['is-cdc-subnet 1', [{ Name: 'is-cdc-subnet', Values: ['1'] }], []],
      ['ipv6-cidr-block', [{ Name: 'ipv6-cidr-block', Values: ['2402:4e00::/64'] }], []],
      ['isp-type', [{ Name: 'isp-type', Values: ['BGP'] }], []],
      ['address-type', [{ Name: 'address-type', Values: ['GUA'] }], []],
      ['filters AND', [{ Name: 'zone', Values: ['local-1'] }, { Name: 'vpc-id', Values: [v1] }], set(a)],
      ['same filter twice ANDs', [{ Name: 'zone', Values: ['local-1'] }, { Name: 'zone', Values: ['local-2'] }], []],
      ['tag and name', [{ Name: 'tag-key', Values: ['env'] }, { Name: 'subnet-name', Values: ['db'] }], set(b)],
    ];
    for (const [name, filters, want] of table) assert.deepEqual(await match(filters), want, name);

    // TotalCount of a filtered call counts all matches, not the page.
    const paged = await vpc.DescribeSubnets({ Filters: [{ Name: 'vpc-id', Values: [v1, v2] }], Limit: '1' });
    assert.equal(paged.TotalCount, 4);
    assert.equal(paged.SubnetSet!.length, 1);
    // Ids that do not exist are simply absent.
    const some = await vpc.DescribeSubnets({ SubnetIds: [a, 'subnet-00000000'] });
    assert.deepEqual(some.SubnetSet!.map((s) => s.SubnetId), [a]);
    assert.equal(some.TotalCount, 1);

    for (const id of mine) await vpc.DeleteSubnet({ SubnetId: id });
    await vpc.DeleteVpc({ VpcId: v1 });
    await vpc.DeleteVpc({ VpcId: v2 });
  });

  it('pages with Offset/Limit (strings or numbers) and with MaxResults/NextToken', async () => {
    const vpc = r.vpc();
    const v = (await vpc.CreateVpc({ VpcName: 'pages', CidrBlock: '10.30.0.0/16' })).Vpc!.VpcId!;
    const made = (
      await vpc.CreateSubnets({ VpcId: v, Subnets: Array.from({ length: 7 }, (_, i) => ({ CidrBlock: `10.30.${i}.0/24`, SubnetName: `p${i}`, Zone: 'local-1' })) })
    ).SubnetSet!.map((s) => s.SubnetId!);
    const total = (await snapshot()).TotalCount!;
    const f = [{ Name: 'vpc-id', Values: [v] }];

    const pages: string[][] = [];
    for (let off = 0; off < 8; off += 3) {
      const res = await vpc.DescribeSubnets({ Filters: f, Offset: String(off), Limit: '3' });
      assert.equal(res.TotalCount, 7);
      assert.equal(res.NextToken, undefined, 'no NextToken when paging by offset');
      pages.push(res.SubnetSet!.map((s) => s.SubnetId!));
    }
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    assert.deepEqual(pages.flat().sort(), [...made].sort(), 'pages cover every subnet once');
    const numeric = await vpc.DescribeSubnets(loose({ Filters: f, Offset: 3, Limit: 3 }));
    assert.deepEqual(numeric.SubnetSet!.map((s) => s.SubnetId), pages[1]);
    const past = await vpc.DescribeSubnets({ Filters: f, Offset: '50' });
    assert.deepEqual([past.TotalCount, past.SubnetSet!.length], [7, 0]);
    const none = await vpc.DescribeSubnets({ Filters: f, Limit: '0' });
    assert.deepEqual([none.TotalCount, none.SubnetSet!.length], [7, 0]);
    const defaults = await vpc.DescribeSubnets({});
    assert.equal(defaults.TotalCount, total, 'unfiltered TotalCount counts every subnet of the account');
    assert.equal(defaults.SubnetSet!.length, Math.min(20, total));

    const byToken: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await vpc.DescribeSubnets({ Filters: f, MaxResults: 2, ...(token ? { NextToken: token } : {}) });
      assert.equal(res.TotalCount, 7);
      byToken.push(...res.SubnetSet!.map((s) => s.SubnetId!));
      token = res.NextToken;
      if (!token) break;
    }
    assert.deepEqual(byToken, pages.flat(), 'NextToken pages in the same order as offsets');

    for (const id of made) await vpc.DeleteSubnet({ SubnetId: id });
    await vpc.DeleteVpc({ VpcId: v });
  });

  it('enforces the subnets-per-VPC quota, per VPC, counting whole batches', async () => {
    const name = 'quota-tenant';
    const creds = await r.newAccount(name);
    const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', name, '--set', 'subnetPerVpc=3', ...(r.database ? ['--database', r.database] : [])]);
    assert.equal(q.code, 0, q.stderr);
    const vpc = r.vpc(creds);
    const v = (await vpc.CreateVpc({ VpcName: 'q', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const sub = (i: number) => ({ CidrBlock: `10.0.${i}.0/24`, SubnetName: `q${i}`, Zone: 'local-1' });
    const count = async () => (await vpc.DescribeSubnets({})).TotalCount;

    const tooMany = await errorOf(vpc.CreateSubnets({ VpcId: v, Subnets: [sub(0), sub(1), sub(2), sub(3)] }));
    assert.equal(tooMany.code, 'LimitExceeded');
    assert.match(tooMany.message, /3/);
    assert.equal(await count(), 0);
    await vpc.CreateSubnets({ VpcId: v, Subnets: [sub(0), sub(1)] });
    assert.equal(await errorCode(vpc.CreateSubnets({ VpcId: v, Subnets: [sub(2), sub(3)] })), 'LimitExceeded');
    assert.equal(await count(), 2);
    const third = (await vpc.CreateSubnet({ VpcId: v, ...sub(2) })).Subnet!.SubnetId!;
    assert.equal(await errorCode(vpc.CreateSubnet({ VpcId: v, ...sub(3) })), 'LimitExceeded');
    assert.equal(await count(), 3);

    // The quota is per VPC: another VPC of the same account has its own.
    const v2 = (await vpc.CreateVpc({ VpcName: 'q2', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    await vpc.CreateSubnets({ VpcId: v2, Subnets: [sub(0), sub(1), sub(2)] });
    assert.equal(await count(), 6);
    // Deleting frees a place.
    await vpc.DeleteSubnet({ SubnetId: third });
    await vpc.CreateSubnet({ VpcId: v, ...sub(9) });
    assert.equal(await count(), 6);
  });

  it('keeps accounts apart: foreign subnets are invisible and answer ResourceNotFound', async () => {
    const admin = r.vpc();
    const mine = (await admin.CreateSubnet({ VpcId: vpcId, SubnetName: 'private', CidrBlock: '10.0.50.0/24', Zone: 'local-1', Tags: [{ Key: 'k', Value: 'v' }] }))
      .Subnet!;
    const other: Creds = await r.newAccount('other-tenant');
    const them = r.vpc(other);
    const theirVpc = (await them.CreateVpc({ VpcName: 'theirs', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;

    const unfiltered = await them.DescribeSubnets({});
    assert.deepEqual([unfiltered.TotalCount, unfiltered.SubnetSet], [0, []]);
    assert.equal((await them.DescribeSubnets({ SubnetIds: [mine.SubnetId!] })).TotalCount, 0);
    for (const filters of [
      [{ Name: 'vpc-id', Values: [vpcId] }],
      [{ Name: 'subnet-id', Values: [mine.SubnetId!] }],
      [{ Name: 'tag-key', Values: ['k'] }],
      [{ Name: 'tag:k', Values: ['v'] }],
      [{ Name: 'subnet-name', Values: ['private'] }],
    ])
      assert.equal((await them.DescribeSubnets({ Filters: filters })).TotalCount, 0, filters[0]!.Name);
    assert.equal(await errorCode(them.ModifySubnetAttribute({ SubnetId: mine.SubnetId!, SubnetName: 'stolen' })), 'ResourceNotFound');
    assert.equal(await errorCode(them.DeleteSubnet({ SubnetId: mine.SubnetId! })), 'ResourceNotFound');
    assert.equal(await errorCode(them.CreateSubnet({ VpcId: vpcId, SubnetName: 'x', CidrBlock: '10.0.51.0/24', Zone: 'local-1' })), 'ResourceNotFound');
    assert.equal(await errorCode(them.CreateSubnets({ VpcId: vpcId, Subnets: [{ SubnetName: 'x', CidrBlock: '10.0.51.0/24', Zone: 'local-1' }] })), 'ResourceNotFound');
    // The same block in their own VPC is fine: address plans of accounts are independent.
    const theirs = (await them.CreateSubnet({ VpcId: theirVpc, SubnetName: 'same', CidrBlock: '10.0.50.0/24', Zone: 'local-1' })).Subnet!;
    assert.equal((await admin.DescribeSubnets({ SubnetIds: [theirs.SubnetId!] })).TotalCount, 0);
    assert.equal(await errorCode(admin.DeleteSubnet({ SubnetId: theirs.SubnetId! })), 'ResourceNotFound');
    assert.equal((await them.DescribeSubnets({})).TotalCount, 1);

    assert.deepEqual((await admin.DescribeSubnets({ SubnetIds: [mine.SubnetId!] })).SubnetSet, [mine], 'untouched by the other account');
    await admin.DeleteSubnet({ SubnetId: mine.SubnetId! });
  });

  it('DeleteVpc refuses while subnets remain and succeeds once they are gone', async () => {
    const vpc = r.vpc();
    const v = (await vpc.CreateVpc({ VpcName: 'del', CidrBlock: '10.40.0.0/16' })).Vpc!.VpcId!;
    const ids = (
      await vpc.CreateSubnets({ VpcId: v, Subnets: Array.from({ length: 6 }, (_, i) => ({ CidrBlock: `10.40.${i}.0/24`, SubnetName: `d${i}`, Zone: 'local-1' })) })
    ).SubnetSet!.map((s) => s.SubnetId!);
    const e = await errorOf(vpc.DeleteVpc({ VpcId: v }));
    assert.equal(e.code, 'ResourceInUse');
    assert.match(e.message, /subnet-[0-9a-z]{8}.*…/);
    for (const id of ids.slice(0, 5)) await vpc.DeleteSubnet({ SubnetId: id });
    const one = await errorOf(vpc.DeleteVpc({ VpcId: v }));
    assert.equal(one.code, 'ResourceInUse');
    assert.match(one.message, new RegExp(`\\(${ids[5]}\\)`), 'names the last subnet, without an ellipsis');
    await vpc.DeleteSubnet({ SubnetId: ids[5]! });
    await vpc.DeleteVpc({ VpcId: v });
    assert.equal((await vpc.DescribeVpcs({ VpcIds: [v] })).TotalCount, 0);
  });
});
