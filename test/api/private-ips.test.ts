import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { releaseAddresses, takeAddresses, type Holder } from '../../src/api/vpc/addresses.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, errorOf, loose, modelFields, startRegion, type TestRegion } from '../helpers/region.js';

describe(`DescribeVpcPrivateIpAddresses and addresses held in subnets (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpc: VpcClient;
  let vpcId: string;
  let subnetA: string; // 10.0.1.0/24
  let subnetB: string; // 10.0.2.0/28

  /** What RunInstances and friends will do: take addresses in a subnet for a holder, through addresses.ts. */
  const take = async (subnetId: string, holder: Holder, requested?: string) => {
    const subnet = await store.db.selectFrom('subnets').selectAll().where('id', '=', subnetId).executeTakeFirstOrThrow();
    return (await store.write((w) => takeAddresses(w, subnet, [holder], requested ? [requested] : [])))[0]!;
  };
  const release = (holderId: string) => store.write((w) => releaseAddresses(w, holderId));
  const available = async (client: VpcClient, id: string) => (await client.DescribeSubnets({ SubnetIds: [id] })).SubnetSet![0]!.AvailableIpAddressCount;

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    vpc = r.vpc();
    vpcId = (await vpc.CreateVpc({ VpcName: 'ips', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const [a, b] = (
      await vpc.CreateSubnets({
        VpcId: vpcId,
        Subnets: [
          { CidrBlock: '10.0.1.0/24', SubnetName: 'a', Zone: 'local-1' },
          { CidrBlock: '10.0.2.0/28', SubnetName: 'b', Zone: 'local-2' },
        ],
      })
    ).SubnetSet!;
    subnetA = a!.SubnetId!;
    subnetB = b!.SubnetId!;
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  it('returns the addresses in use, in request order, and omits free ones', async () => {
    assert.equal(await take(subnetA, { kind: 'instance', id: 'ins-aaaaaaaa' }, '10.0.1.10'), '10.0.1.10');
    assert.equal(await take(subnetA, { kind: 'instance', id: 'ins-aaaaaaab' }), '10.0.1.2');
    assert.equal(await take(subnetB, { kind: 'clb', id: 'lb-aaaaaaaa' }), '10.0.2.2');
    assert.equal(await take(subnetB, { kind: 'widget', id: 'wdg-aaaaaaaa' }), '10.0.2.3');

    const res = await vpc.DescribeVpcPrivateIpAddresses({
      VpcId: vpcId,
      PrivateIpAddresses: ['10.0.2.2', '10.0.1.10', '10.0.1.99', '10.0.0.5', '10.0.1.2', '10.0.1.10', '10.0.2.3'],
    });
    const set = res.VpcPrivateIpAddressSet!;
    for (const x of set) {
      assert.deepEqual(Object.keys(x).sort(), modelFields('VpcPrivateIpAddress'));
      assert.match(x.CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    }
    assert.deepEqual(
      set.map((x) => [x.PrivateIpAddress, x.CidrBlock, x.PrivateIpAddressType]),
      [
        ['10.0.2.2', '10.0.2.0/28', 'CLB'],
        ['10.0.1.10', '10.0.1.0/24', 'CVM'],
        ['10.0.1.2', '10.0.1.0/24', 'CVM'],
        ['10.0.2.3', '10.0.2.0/28', 'WIDGET'],
      ],
    );
    const free = await vpc.DescribeVpcPrivateIpAddresses({ VpcId: vpcId, PrivateIpAddresses: ['10.0.1.3', '10.0.200.1'] });
    assert.deepEqual(free.VpcPrivateIpAddressSet, []);
  });

  it('counts held addresses in AvailableIpAddressCount and refuses to delete a subnet that holds any', async () => {
    assert.equal(await available(vpc, subnetA), 253 - 2);
    assert.equal(await available(vpc, subnetB), 13 - 2);
    const filtered = await vpc.DescribeSubnets({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] });
    assert.deepEqual(
      filtered.SubnetSet!.map((s) => [s.SubnetId, s.AvailableIpAddressCount, s.TotalIpAddressCount]).sort(),
      [
        [subnetA, 251, 256],
        [subnetB, 11, 16],
      ].sort(),
    );

    const revision = await store.revision();
    const e = await errorOf(vpc.DeleteSubnet({ SubnetId: subnetA }));
    assert.equal(e.code, 'ResourceInUse');
    assert.match(e.message, /10\.0\.1\.10 by instance ins-aaaaaaaa/);
    assert.match(e.message, /10\.0\.1\.2 by instance ins-aaaaaaab/);
    assert.equal(await errorCode(vpc.DeleteVpc({ VpcId: vpcId })), 'ResourceInUse');
    assert.equal(await store.revision(), revision, 'refusals change nothing');
    assert.equal((await vpc.DescribeSubnets({ SubnetIds: [subnetA] })).TotalCount, 1);

    // Released addresses are free again: gone from the listing, counted as available.
    await release('ins-aaaaaaaa');
    await release('ins-aaaaaaab');
    assert.equal(await available(vpc, subnetA), 253);
    assert.deepEqual((await vpc.DescribeVpcPrivateIpAddresses({ VpcId: vpcId, PrivateIpAddresses: ['10.0.1.10', '10.0.1.2'] })).VpcPrivateIpAddressSet, []);
    await vpc.DeleteSubnet({ SubnetId: subnetA });
    assert.equal(await errorCode(vpc.DeleteSubnet({ SubnetId: subnetB })), 'ResourceInUse', 'b still holds the CLB address');
    // Subnet a is gone; its block can be used again.
    subnetA = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a2', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
  });

  it('refuses bad input with the exact code', async () => {
    const ok = { VpcId: vpcId, PrivateIpAddresses: ['10.0.2.2'] };
    const cases: [string, () => Promise<unknown>, string, RegExp?][] = [
      ['malformed address', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: ['10.0.2.2', '10.0.1.256'] }), 'InvalidParameterValue.Malformed', /PrivateIpAddresses\.1/],
      ['leading zeros', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: ['10.0.01.2'] }), 'InvalidParameterValue.Malformed'],
      ['a CIDR, not an address', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: ['10.0.1.0/24'] }), 'InvalidParameterValue.Malformed'],
      ['IPv6', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: ['fd00::1'] }), 'InvalidParameterValue.Malformed'],
      ['outside the VPC', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: ['10.1.0.1'] }), 'InvalidParameterValue', /10\.0\.0\.0\/16/],
      ['no addresses', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: [] }), 'InvalidParameterValue', /PrivateIpAddresses/],
      [
        'more than 100 addresses',
        () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, PrivateIpAddresses: Array.from({ length: 101 }, (_, i) => `10.0.3.${i}`) }),
        'LimitExceeded',
      ],
      ['addresses not a list', () => vpc.DescribeVpcPrivateIpAddresses(loose({ ...ok, PrivateIpAddresses: '10.0.2.2' })), 'InvalidParameter'],
      ['missing addresses', () => vpc.DescribeVpcPrivateIpAddresses(loose({ VpcId: vpcId })), 'MissingParameter'],
      ['malformed VPC id', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, VpcId: 'vpc-x' }), 'InvalidParameterValue.Malformed'],
      ['unknown VPC', () => vpc.DescribeVpcPrivateIpAddresses({ ...ok, VpcId: 'vpc-00000000' }), 'ResourceNotFound'],
    ];
    for (const [name, call, code, message] of cases) {
      const e = await errorOf(call());
      assert.equal(e.code, code, `${name}: ${e.message}`);
      if (message) assert.match(e.message, message, name);
    }
  });

  it('keeps accounts apart', async () => {
    const other = await r.newAccount('ip-tenant');
    const them = r.vpc(other);
    const theirVpc = (await them.CreateVpc({ VpcName: 'same-plan', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const theirSubnet = (await them.CreateSubnet({ VpcId: theirVpc, SubnetName: 'b', CidrBlock: '10.0.2.0/28', Zone: 'local-1' })).Subnet!.SubnetId!;
    await take(theirSubnet, { kind: 'instance', id: 'ins-bbbbbbbb' }, '10.0.2.2');

    assert.equal(await errorCode(them.DescribeVpcPrivateIpAddresses({ VpcId: vpcId, PrivateIpAddresses: ['10.0.2.2'] })), 'ResourceNotFound');
    assert.equal(await errorCode(vpc.DescribeVpcPrivateIpAddresses({ VpcId: theirVpc, PrivateIpAddresses: ['10.0.2.2'] })), 'ResourceNotFound');
    // The same address in each account's own VPC: each sees only its own holder.
    const mine = await vpc.DescribeVpcPrivateIpAddresses({ VpcId: vpcId, PrivateIpAddresses: ['10.0.2.2', '10.0.2.3'] });
    assert.deepEqual(mine.VpcPrivateIpAddressSet!.map((x) => [x.PrivateIpAddress, x.PrivateIpAddressType]), [
      ['10.0.2.2', 'CLB'],
      ['10.0.2.3', 'WIDGET'],
    ]);
    const theirs = await them.DescribeVpcPrivateIpAddresses({ VpcId: theirVpc, PrivateIpAddresses: ['10.0.2.2', '10.0.2.3'] });
    assert.deepEqual(theirs.VpcPrivateIpAddressSet!.map((x) => [x.PrivateIpAddress, x.PrivateIpAddressType]), [['10.0.2.2', 'CVM']]);
    assert.equal(await available(them, theirSubnet), 12);
  });
});
