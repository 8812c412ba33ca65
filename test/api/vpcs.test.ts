import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName, errorCode, run, startRegion, type TestRegion } from '../helpers/region.js';

describe(`VPCs through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  before(async () => (r = await startRegion()));
  after(async () => r?.stop());

  it('creates, describes, modifies and deletes a VPC', async () => {
    const vpc = r.vpc();
    const created = await vpc.CreateVpc({ VpcName: 'prod', CidrBlock: '10.0.0.0/16', DnsServers: ['10.0.0.2'], Tags: [{ Key: 'env', Value: 'prod' }] });
    const v = created.Vpc!;
    assert.match(v.VpcId!, /^vpc-[0-9a-z]{8}$/);
    assert.equal(v.CidrBlock, '10.0.0.0/16');
    assert.equal(v.VpcName, 'prod');
    assert.deepEqual(v.DnsServerSet, ['10.0.0.2']);
    assert.deepEqual(v.TagSet, [{ Key: 'env', Value: 'prod' }]);
    assert.match(v.CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const byId = await vpc.DescribeVpcs({ VpcIds: [v.VpcId!] });
    assert.equal(byId.TotalCount, 1);
    assert.deepEqual(byId.VpcSet![0], v);

    const tagged = async (Name: string, Values: string[]) =>
      (await vpc.DescribeVpcs({ Filters: [{ Name, Values }] })).VpcSet!.map((x) => x.VpcId);
    assert.deepEqual(await tagged('tag-key', ['env']), [v.VpcId]);
    assert.deepEqual(await tagged('tag:env', ['dev', 'prod']), [v.VpcId]);
    assert.deepEqual(await tagged('tag:env', ['dev']), []);
    assert.deepEqual(await tagged('tag-key', ['owner']), []);

    await vpc.ModifyVpcAttribute({ VpcId: v.VpcId!, VpcName: 'production', EnableMulticast: 'true' });
    const after1 = (await vpc.DescribeVpcs({ VpcIds: [v.VpcId!] })).VpcSet![0]!;
    assert.equal(after1.VpcName, 'production');
    assert.equal(after1.EnableMulticast, true);

    await vpc.DeleteVpc({ VpcId: v.VpcId! });
    assert.equal((await vpc.DescribeVpcs({ VpcIds: [v.VpcId!] })).TotalCount, 0);
    assert.equal(await errorCode(vpc.DeleteVpc({ VpcId: v.VpcId! })), 'ResourceNotFound');
  });

  it('filters and pages', async () => {
    const vpc = r.vpc();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await vpc.CreateVpc({ VpcName: `page-${i}`, CidrBlock: '172.16.0.0/16' })).Vpc!.VpcId!);
    const all = await vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: ['PAGE-'] }] });
    assert.equal(all.TotalCount, 5);
    const p1 = await vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: ['page-'] }], Offset: '0', Limit: '2' });
    const p2 = await vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: ['page-'] }], Offset: '2', Limit: '2' });
    assert.equal(p1.VpcSet!.length, 2);
    assert.equal(p1.TotalCount, 5);
    assert.notDeepEqual(p1.VpcSet!.map((x) => x.VpcId), p2.VpcSet!.map((x) => x.VpcId));
    const none = await vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: ['%'] }] });
    assert.equal(none.TotalCount, 0, 'a % in a name filter is a literal, not a wildcard');
    for (const id of ids) await vpc.DeleteVpc({ VpcId: id });
  });

  it('rejects CIDRs outside the private ranges or masks', async () => {
    const vpc = r.vpc();
    for (const [cidr, code] of [
      ['10.0.0.1/16', 'InvalidParameterValue.Malformed'],
      ['10.0.0.0/33', 'InvalidParameterValue.Malformed'],
      ['banana', 'InvalidParameterValue.Malformed'],
      ['8.8.8.0/24', 'InvalidParameterValue'],
      ['10.0.0.0/8', 'InvalidParameterValue'],
      ['192.168.0.0/15', 'InvalidParameterValue'],
      ['10.0.0.0/29', 'InvalidParameterValue'],
    ] as const)
      assert.equal(await errorCode(vpc.CreateVpc({ VpcName: 'x', CidrBlock: cidr })), code, cidr);
    assert.equal((await vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: ['x'] }] })).TotalCount, 0);
  });

  it('counts concurrent creations of a fresh account against its quota exactly: no lost update, no conflict', async () => {
    const creds = await r.newAccount('vpc-race');
    const q = await run(['account', 'quota', '--data-dir', r.dataDir, '--name', 'vpc-race', ...(r.database ? ['--database', r.database] : []), '--set', 'vpc=5']);
    assert.equal(q.code, 0, q.stderr);
    const vpc = r.vpc(creds);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        vpc.CreateVpc({ VpcName: `race-${i}`, CidrBlock: `10.${i}.0.0/16` }).then(
          () => 'created',
          (e: { code?: string }) => e.code ?? 'error',
        ),
      ),
    );
    assert.deepEqual(
      outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {}),
      { created: 5, LimitExceeded: 7 },
    );
    assert.equal((await vpc.DescribeVpcs({})).TotalCount, 5, 'the usage row agrees with the rows');
  });
});
