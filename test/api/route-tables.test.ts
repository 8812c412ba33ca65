import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Route, RouteTable } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorOf, loose, modelFields, startRegion, type TestRegion } from '../helpers/region.js';

describe(`route tables through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const dbArgs = () => (r.database ? ['--database', r.database] : []);
  let tenants = 0;
  /** A fresh account with a VPC 10.0.0.0/16 and a subnet 10.0.1.0/24, with optional quota overrides. */
  async function tenant(quotas: string[] = []) {
    const name = `t${++tenants}`;
    const creds = await r.newAccount(name);
    if (quotas.length) {
      const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', name, ...dbArgs(), '--set', ...quotas]);
      assert.equal(q.code, 0, q.stderr);
    }
    const vpc = r.vpc(creds);
    const vpcId = (await vpc.CreateVpc({ VpcName: 'v', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const main = await mainTable(vpc, vpcId);
    return { creds, uin: creds.Uin, vpc, cvm: r.cvm(creds), vpcId, subnetId, main };
  }
  type Tenant = Awaited<ReturnType<typeof tenant>>;

  async function mainTable(vpc: ReturnType<TestRegion['vpc']>, vpcId: string): Promise<RouteTable> {
    const res = await vpc.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] });
    assert.equal(res.TotalCount, 1, 'exactly one main table');
    return res.RouteTableSet![0]!;
  }
  const table = async (t: Tenant, id: string) => {
    const res = await t.vpc.DescribeRouteTables({ RouteTableIds: [id] });
    assert.equal(res.TotalCount, 1);
    return res.RouteTableSet![0]!;
  };
  const userRoutes = async (t: Tenant, id: string) => (await table(t, id)).RouteSet!.filter((x) => x.RouteType === 'USER');
  /** Private IPs of `n` new instances in the tenant's subnet. */
  async function instances(t: Tenant, n: number, subnetId = t.subnetId): Promise<string[]> {
    const ids = (
      await t.cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: t.vpcId, SubnetId: subnetId }, InstanceCount: n })
    ).InstanceIdSet!;
    const rows = await store.db.selectFrom('instances').select('private_ip').where('id', 'in', ids).orderBy('private_ip').execute();
    return rows.map((x) => x.private_ip);
  }
  const changesOf = async (id: string) =>
    (await store.db.selectFrom('changes').select(['kind', 'op']).where('resource_id', '=', id).orderBy('revision').execute()).map((c) => `${c.kind}:${c.op}`);
  /** A peering row as the peering actions would write it (they are another module's). */
  async function peering(vpcId: string, peerVpcId: string, state: string, account: string, peerAccount = account) {
    const id = `pcx-${Math.random().toString(36).slice(2, 10).padEnd(8, '0')}`;
    await store.write(async (w) => {
      await w.tx
        .insertInto('peerings')
        .values({ id, account, name: 'p', vpc_id: vpcId, peer_account: peerAccount, peer_vpc_id: peerVpcId, state, bandwidth: 0, created_at: w.now })
        .execute();
    });
    return id;
  }
  /** Everything that an action could change, to prove a refused request changed nothing. */
  const snapshot = async () => ({
    revision: await store.revision(),
    tables: await store.db.selectFrom('route_tables').selectAll().orderBy('id').execute(),
    routes: await store.db.selectFrom('routes').selectAll().orderBy('id').execute(),
    subnets: await store.db.selectFrom('subnets').select(['id', 'route_table_id']).orderBy('id').execute(),
    nextRouteId: (await store.db.selectFrom('meta').select('next_route_id').executeTakeFirstOrThrow()).next_route_id,
  });
  type Case = [name: string, call: () => Promise<unknown>, code: string, message?: RegExp];
  async function refusals(cases: Case[]) {
    for (const [name, call, code, message] of cases) {
      const before_ = await snapshot();
      const e = await errorOf(call()).catch((x: Error) => assert.fail(`${name}: ${x.message}`));
      assert.equal(e.code, code, `${name}: ${e.message}`);
      if (message) assert.match(e.message, message, name);
      assert.deepEqual(await snapshot(), before_, `${name}: nothing changed`);
    }
  }

  it('gives every VPC a main table named default with its LOCAL route, and every subnet an association with it', async () => {
    const t = await tenant();
    const m = t.main;
    assert.match(m.RouteTableId!, /^rtb-[0-9a-z]{8}$/);
    assert.deepEqual(Object.keys(m).sort(), modelFields('RouteTable'));
    assert.deepEqual({ ...m, RouteSet: undefined, CreatedTime: undefined, RouteTableId: undefined }, {
      VpcId: t.vpcId,
      RouteTableName: 'default',
      AssociationSet: [{ SubnetId: t.subnetId, RouteTableId: m.RouteTableId }],
      Main: true,
      TagSet: [],
      LocalCidrForCcn: [{ Cidr: '10.0.0.0/16', PublishedToVbc: false }],
      RouteSet: undefined,
      CreatedTime: undefined,
      RouteTableId: undefined,
    });
    assert.equal(m.RouteSet!.length, 1);
    const local = m.RouteSet![0]!;
    assert.deepEqual(Object.keys(local).sort(), modelFields('Route'));
    assert.match(local.RouteItemId!, /^rti-[0-9a-z]{8}$/);
    assert.equal(typeof local.RouteId, 'number');
    assert.match(local.CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const { RouteItemId: _i, RouteId: _r, CreatedTime: _c, ...rest } = local;
    assert.deepEqual(rest, {
      DestinationCidrBlock: '10.0.0.0/16',
      GatewayType: 'LOCAL',
      GatewayId: 'Local',
      RouteDescription: '',
      Enabled: true,
      RouteType: 'NETD',
      RouteTableId: m.RouteTableId,
      DestinationIpv6CidrBlock: '',
      PublishedToVbc: false,
      CdcId: '',
    } satisfies Omit<Route, 'RouteItemId' | 'RouteId' | 'CreatedTime'>);
    const subnet = (await t.vpc.DescribeSubnets({ SubnetIds: [t.subnetId] })).SubnetSet![0]!;
    assert.equal(subnet.RouteTableId, m.RouteTableId, 'DescribeSubnets shows the association');
    assert.equal(subnet.NetworkAclId, '');
    assert.deepEqual(await changesOf(m.RouteTableId!), ['route_table:create']);
  });

  it('creates, describes, renames and deletes route tables, with tags, filters and paging', async () => {
    const t = await tenant();
    const created = (await t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'Backend-Routes', Tags: [{ Key: 'env', Value: 'prod' }] })).RouteTable!;
    assert.deepEqual(Object.keys(created).sort(), modelFields('RouteTable'));
    assert.equal(created.Main, false);
    assert.deepEqual(created.AssociationSet, []);
    assert.deepEqual(created.TagSet, [{ Key: 'env', Value: 'prod' }]);
    assert.deepEqual(
      created.RouteSet!.map((x) => [x.DestinationCidrBlock, x.GatewayType, x.GatewayId, x.RouteType]),
      [['10.0.0.0/16', 'LOCAL', 'Local', 'NETD']],
      'a new table has the LOCAL route too',
    );
    assert.deepEqual(await table(t, created.RouteTableId!), created);
    const other = (await t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'other' })).RouteTable!;

    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      ((await t.vpc.DescribeRouteTables({ Filters: filters })).RouteTableSet ?? []).map((x) => x.RouteTableId);
    const all = [t.main.RouteTableId, created.RouteTableId, other.RouteTableId];
    assert.deepEqual(await ids([{ Name: 'vpc-id', Values: [t.vpcId] }]), all);
    assert.deepEqual(await ids([{ Name: 'route-table-name', Values: ['backend'] }]), [created.RouteTableId], 'names match in part, any case');
    assert.deepEqual(await ids([{ Name: 'association.main', Values: ['false'] }]), [created.RouteTableId, other.RouteTableId]);
    assert.deepEqual(await ids([{ Name: 'route-table-id', Values: [other.RouteTableId!] }]), [other.RouteTableId]);
    assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['env'] }]), [created.RouteTableId]);
    assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['prod'] }]), [created.RouteTableId]);
    assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['dev'] }]), []);
    assert.deepEqual(await ids([{ Name: 'visible', Values: ['true'] }]), all);
    assert.deepEqual(await ids([{ Name: 'visible', Values: ['false'] }]), []);

    const all_ = await t.vpc.DescribeRouteTables({});
    assert.equal(all_.TotalCount, 3);
    const page = await t.vpc.DescribeRouteTables({ Offset: '1', Limit: '1' });
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(page.RouteTableSet!.map((x) => x.RouteTableId), [created.RouteTableId]);
    const bare = await t.vpc.DescribeRouteTables({ RouteTableIds: [created.RouteTableId!], NeedRouterInfo: false });
    assert.deepEqual(bare.RouteTableSet![0]!.RouteSet, [], 'NeedRouterInfo false leaves the routes out');

    await t.vpc.ModifyRouteTableAttribute({ RouteTableId: created.RouteTableId!, RouteTableName: 'renamed' });
    assert.equal((await table(t, created.RouteTableId!)).RouteTableName, 'renamed');
    await t.vpc.ModifyRouteTableAttribute({ RouteTableId: t.main.RouteTableId!, RouteTableName: 'main-renamed' });
    assert.equal((await table(t, t.main.RouteTableId!)).RouteTableName, 'main-renamed', 'the main table can be renamed');

    await t.vpc.DeleteRouteTable({ RouteTableId: created.RouteTableId! });
    assert.equal((await t.vpc.DescribeRouteTables({ RouteTableIds: [created.RouteTableId!] })).TotalCount, 0);
    assert.equal((await store.db.selectFrom('routes').select('id').where('route_table_id', '=', created.RouteTableId!).execute()).length, 0, 'its routes go with it');
    assert.equal((await store.db.selectFrom('tags').select('key').where('resource_id', '=', created.RouteTableId!).execute()).length, 0, 'its tags go with it');
    assert.deepEqual(await changesOf(created.RouteTableId!), ['route_table:create', 'route_table:update', 'route_table:delete']);
  });

  it('refuses bad table requests with Tencent codes, changing nothing', async () => {
    const t = await tenant(['routeTablePerVpc=2']);
    const sub2 = (await t.vpc.CreateSubnet({ VpcId: t.vpcId, SubnetName: 's2', CidrBlock: '10.0.2.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const used = (await t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'used' })).RouteTable!.RouteTableId!;
    await t.vpc.ReplaceRouteTableAssociation({ RouteTableId: used, SubnetId: sub2 });
    const otherVpc = (await t.vpc.CreateVpc({ VpcName: 'o', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    const otherMain = (await mainTable(t.vpc, otherVpc)).RouteTableId!;
    await refusals([
      ['a third table over the quota of 2', () => t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'x' }), 'LimitExceeded', /quota is 2/],
      ['a table in an unknown VPC', () => t.vpc.CreateRouteTable({ VpcId: 'vpc-00000000', RouteTableName: 'x' }), 'ResourceNotFound'],
      ['an empty name', () => t.vpc.CreateRouteTable({ VpcId: otherVpc, RouteTableName: '' }), 'InvalidParameterValue'],
      ['a name over 60 bytes', () => t.vpc.CreateRouteTable({ VpcId: otherVpc, RouteTableName: 'x'.repeat(61) }), 'InvalidParameterValue'],
      ['describe: malformed id', () => t.vpc.DescribeRouteTables({ RouteTableIds: ['rtb-x'] }), 'InvalidParameterValue.Malformed'],
      ['describe: ids and filters', () => t.vpc.DescribeRouteTables({ RouteTableIds: [used], Filters: [{ Name: 'vpc-id', Values: [t.vpcId] }] }), 'InvalidParameter.Coexist'],
      ['describe: unknown filter', () => t.vpc.DescribeRouteTables({ Filters: [{ Name: 'color', Values: ['x'] }] }), 'InvalidParameter.FilterInvalidKey'],
      ['describe: next-hop-type alone', () => t.vpc.DescribeRouteTables({ Filters: [{ Name: 'next-hop-type', Values: ['LOCAL'] }] }), 'InvalidParameter.FilterMissParameter'],
      ['describe: Limit over 100', () => t.vpc.DescribeRouteTables({ Limit: '101' }), 'InvalidParameterValue.Range'],
      ['modify: unknown table', () => t.vpc.ModifyRouteTableAttribute({ RouteTableId: 'rtb-00000000', RouteTableName: 'x' }), 'ResourceNotFound'],
      ['delete the main table', () => t.vpc.DeleteRouteTable({ RouteTableId: t.main.RouteTableId! }), 'UnsupportedOperation.NotSupportDeleteDefaultRouteTable', /main/],
      ['delete a table with a subnet', () => t.vpc.DeleteRouteTable({ RouteTableId: used }), 'UnsupportedOperation.DelRouteWithSubnet', new RegExp(sub2)],
      ['delete: malformed id', () => t.vpc.DeleteRouteTable({ RouteTableId: 'rtb_1' }), 'InvalidParameterValue.Malformed'],
      ['associate with a table of another VPC', () => t.vpc.ReplaceRouteTableAssociation({ RouteTableId: otherMain, SubnetId: t.subnetId }), 'UnsupportedOperation.VpcMismatch'],
      ['associate an unknown subnet', () => t.vpc.ReplaceRouteTableAssociation({ RouteTableId: used, SubnetId: 'subnet-00000000' }), 'ResourceNotFound'],
      ['associate without a subnet', () => t.vpc.ReplaceRouteTableAssociation({ RouteTableId: used }), 'MissingParameter', /SubnetId/],
      [
        'create subnets with a table of another VPC',
        () => t.vpc.CreateSubnets({ VpcId: t.vpcId, Subnets: [{ CidrBlock: '10.0.3.0/24', SubnetName: 'a', Zone: 'local-1', RouteTableId: otherMain }] }),
        'UnsupportedOperation.VpcMismatch',
        /Subnets\.0\.RouteTableId/,
      ],
      [
        'create subnets, the second with an unknown table',
        () =>
          t.vpc.CreateSubnets({
            VpcId: t.vpcId,
            Subnets: [
              { CidrBlock: '10.0.3.0/24', SubnetName: 'a', Zone: 'local-1' },
              { CidrBlock: '10.0.4.0/24', SubnetName: 'b', Zone: 'local-1', RouteTableId: 'rtb-00000000' },
            ],
          }),
        'ResourceNotFound',
        /Subnets\.1\.RouteTableId/,
      ],
    ]);
  });

  it('associates subnets: new ones with the main table or the one named, moved by ReplaceRouteTableAssociation', async () => {
    const t = await tenant();
    const rtb = (await t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'b' })).RouteTable!.RouteTableId!;
    const made = (
      await t.vpc.CreateSubnets({
        VpcId: t.vpcId,
        Subnets: [
          { CidrBlock: '10.0.2.0/24', SubnetName: 'a', Zone: 'local-1' },
          { CidrBlock: '10.0.3.0/24', SubnetName: 'b', Zone: 'local-1', RouteTableId: rtb },
        ],
      })
    ).SubnetSet!;
    assert.deepEqual(made.map((s) => s.RouteTableId), [t.main.RouteTableId, rtb]);
    assert.deepEqual((await table(t, rtb)).AssociationSet, [{ SubnetId: made[1]!.SubnetId, RouteTableId: rtb }]);

    await t.vpc.ReplaceRouteTableAssociation({ RouteTableId: rtb, SubnetId: t.subnetId });
    const [s] = (await t.vpc.DescribeSubnets({ SubnetIds: [t.subnetId] })).SubnetSet!;
    assert.equal(s!.RouteTableId, rtb);
    assert.deepEqual(
      (await table(t, rtb)).AssociationSet!.map((a) => a.SubnetId).sort(),
      [t.subnetId, made[1]!.SubnetId].sort(),
    );
    assert.deepEqual((await table(t, t.main.RouteTableId!)).AssociationSet, [{ SubnetId: made[0]!.SubnetId, RouteTableId: t.main.RouteTableId }]);
    assert.deepEqual((await changesOf(rtb)).slice(-1), ['route_table:update']);
    assert.ok((await changesOf(t.subnetId)).includes('subnet:update'), "the subnet's hosts recompile (the old and the new table's holders through the table changes)");

    // Back to main, and the table can go.
    await t.vpc.ReplaceRouteTableAssociation({ RouteTableId: t.main.RouteTableId!, SubnetId: t.subnetId });
    await t.vpc.ReplaceRouteTableAssociation({ RouteTableId: t.main.RouteTableId!, SubnetId: made[1]!.SubnetId! });
    await t.vpc.DeleteRouteTable({ RouteTableId: rtb });
  });

  it('routes to instances of the VPC, several to one destination forming an ECMP group, and through active peerings', async () => {
    const t = await tenant();
    const [ip1, ip2] = await instances(t, 2);
    const peer = await tenant(); // another account's VPC, 10.0.0.0/16 as well: peer with a different block
    const peerVpc = (await peer.vpc.CreateVpc({ VpcName: 'peer', CidrBlock: '172.16.0.0/16' })).Vpc!.VpcId!;
    const pcx = await peering(t.vpcId, peerVpc, 'ACTIVE', t.uin, peer.uin);
    const rtb = t.main.RouteTableId!;
    const before_ = await store.revision();
    const res = await t.vpc.CreateRoutes({
      RouteTableId: rtb,
      Routes: [
        { DestinationCidrBlock: '192.168.0.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1!, RouteDescription: 'via one' },
        { DestinationCidrBlock: '192.168.0.0/24', GatewayType: 'normal_cvm', GatewayId: ip2! },
        { DestinationCidrBlock: '172.16.8.0/24', GatewayType: 'PEERCONNECTION', GatewayId: pcx },
      ],
    });
    assert.equal(res.TotalCount, 3);
    assert.equal(res.RouteTableSet!.length, 1);
    const routes = res.RouteTableSet![0]!.RouteSet!;
    assert.deepEqual(
      routes.map((x) => [x.DestinationCidrBlock, x.GatewayType, x.GatewayId, x.RouteType, x.Enabled, x.RouteDescription]),
      [
        ['10.0.0.0/16', 'LOCAL', 'Local', 'NETD', true, ''],
        ['192.168.0.0/24', 'NORMAL_CVM', ip1, 'USER', true, 'via one'],
        ['192.168.0.0/24', 'NORMAL_CVM', ip2, 'USER', true, ''],
        ['172.16.8.0/24', 'PEERCONNECTION', pcx, 'USER', true, ''],
      ],
    );
    const ids = routes.map((x) => x.RouteId!);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'RouteIds grow');
    assert.equal(new Set(routes.map((x) => x.RouteItemId)).size, 4);
    assert.deepEqual(await table(t, rtb), res.RouteTableSet![0]);
    const changes = await store.db.selectFrom('changes').select(['kind', 'resource_id', 'op']).where('revision', '>', before_).execute();
    assert.deepEqual(
      changes.map((c) => `${c.kind}:${c.resource_id}:${c.op}`).sort(),
      [`route_table:${rtb}:update`],
      "one write: the table's change reaches the hosts holding it (no next hop here is placed on a host)",
    );

    // An ECMP group has at most 8 next hops; a route created disabled does not count.
    const more = await instances(t, 7);
    const to = (ip: string, Enabled?: boolean) => ({ DestinationCidrBlock: '192.168.0.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip, ...(Enabled === undefined ? {} : { Enabled }) });
    await t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: more.slice(0, 6).map((ip) => to(ip)) });
    const e = await errorOf(t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [to(more[6]!)] }));
    assert.equal(e.code, 'UnsupportedOperation.Ecmp', e.message);
    assert.match(e.message, /Routes\.0.*at most 8/);
    await t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [to(more[6]!, false)] });
    const ninth = (await userRoutes(t, rtb)).find((x) => x.GatewayId === more[6])!;
    assert.equal(ninth.Enabled, false);
    assert.equal((await errorOf(t.vpc.EnableRoutes({ RouteTableId: rtb, RouteItemIds: [ninth.RouteItemId!] }))).code, 'UnsupportedOperation.Ecmp');
    await t.vpc.DeleteRoutes({ RouteTableId: rtb, Routes: (await userRoutes(t, rtb)).filter((x) => more.includes(x.GatewayId)).map((x) => loose<Route>({ RouteId: x.RouteId })) });

    // The next-hop-type filter narrows the RouteSet of the one table asked for.
    const peered = await t.vpc.DescribeRouteTables({
      Filters: [
        { Name: 'route-table-id', Values: [rtb] },
        { Name: 'vpc-id', Values: [t.vpcId] },
        { Name: 'next-hop-type', Values: ['PEERCONNECTION'] },
      ],
    });
    assert.deepEqual(peered.RouteTableSet![0]!.RouteSet!.map((x) => x.GatewayId), [pcx]);

    // The peer side may route back through the same (ACTIVE) peering, into this VPC's block.
    const peerMain = (await mainTable(peer.vpc, peerVpc)).RouteTableId!;
    await peer.vpc.CreateRoutes({ RouteTableId: peerMain, Routes: [{ DestinationCidrBlock: '10.0.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: pcx }] });
    assert.equal((await userRoutes(peer, peerMain)).length, 1);
  });

  it('refuses bad routes with Tencent codes naming Routes.N, all or nothing', async () => {
    const t = await tenant(['routePerTable=3']);
    const [ip] = await instances(t, 1);
    const stranger = await tenant();
    // Both VPCs use 10.0.1.0/24: the stranger's second address is one no instance of ours has.
    const foreignIp = (await instances(stranger, 2)).find((x) => x !== ip)!;
    const peerVpc = (await t.vpc.CreateVpc({ VpcName: 'peer', CidrBlock: '172.16.0.0/16' })).Vpc!.VpcId!;
    const active = await peering(t.vpcId, peerVpc, 'ACTIVE', t.uin);
    const pending = await peering(t.vpcId, peerVpc, 'PENDING', t.uin);
    const elsewhere = await peering(stranger.vpcId, peerVpc, 'ACTIVE', stranger.uin, t.uin);
    const rtb = t.main.RouteTableId!;
    await t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: '192.168.1.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip! }] });
    const good = { DestinationCidrBlock: '192.168.9.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip! };
    const create = (...routes: Route[]) => t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: routes });
    await refusals([
      ['host bits set', () => create(good, { ...good, DestinationCidrBlock: '192.168.2.7/24' }), 'InvalidParameterValue.Malformed', /Routes\.1\.DestinationCidrBlock.*192\.168\.2\.0\/24/],
      ['not a CIDR', () => create({ ...good, DestinationCidrBlock: 'somewhere' }), 'InvalidParameterValue.Malformed', /Routes\.0\.DestinationCidrBlock/],
      ['inside the VPC', () => create(good, { ...good, DestinationCidrBlock: '10.0.5.0/24' }), 'InvalidParameterValue.VpcCidrConflict', /Routes\.1/],
      ['equal to the VPC', () => create({ ...good, DestinationCidrBlock: '10.0.0.0/16' }), 'InvalidParameterValue.VpcCidrConflict', /Routes\.0/],
      ['the same route as a stored one', () => create(good, { ...good, DestinationCidrBlock: '192.168.1.0/24' }), 'InvalidParameterValue.Duplicate', /Routes\.1.*RouteId/],
      ['the same route twice in the request', () => create(good, good), 'InvalidParameterValue.Duplicate', /`Routes\.1`.*`Routes\.0`/],
      [
        'a peering route outside the peer VPC, second in a batch',
        () => create(good, { DestinationCidrBlock: '192.168.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: active }),
        'InvalidParameterValue.CidrNotInPeerVpc',
        /Routes\.1\.DestinationCidrBlock.*172\.16\.0\.0\/16/,
      ],
      ['a NORMAL_CVM next hop that is not an address', () => create({ ...good, GatewayId: 'ins-12345678' }), 'InvalidParameterValue.RouteNextHopInvalid', /Routes\.0\.GatewayId/],
      ['an address no instance has', () => create(good, { ...good, GatewayId: '10.0.1.250' }), 'InvalidParameterValue.RouteNextHopInvalid', /Routes\.1\.GatewayId.*10\.0\.1\.250/],
      ["another account's instance address", () => create({ ...good, GatewayId: foreignIp! }), 'InvalidParameterValue.RouteNextHopInvalid', /Routes\.0\.GatewayId/],
      ['a pending peering', () => create({ DestinationCidrBlock: '172.16.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: pending }), 'InvalidParameterValue.RouteNextHopInvalid', /Routes\.0\.GatewayId/],
      ["another VPC's peering", () => create({ DestinationCidrBlock: '172.16.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: elsewhere }), 'InvalidParameterValue.RouteNextHopInvalid'],
      ['a malformed peering ID', () => create({ DestinationCidrBlock: '172.16.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: 'pcx-1' }), 'InvalidParameterValue.Malformed', /Routes\.0\.GatewayId/],
      ['outside the peer VPC', () => create({ DestinationCidrBlock: '172.17.0.0/24', GatewayType: 'PEERCONNECTION', GatewayId: active }), 'InvalidParameterValue.CidrNotInPeerVpc', /172\.16\.0\.0\/16/],
      ['a LOCAL route', () => create({ ...good, GatewayType: 'LOCAL', GatewayId: 'Local' }), 'UnsupportedOperation.SystemRoute', /Routes\.0\.GatewayType/],
      ['a missing NAT gateway next hop', () => create(good, { ...good, GatewayType: 'NAT', GatewayId: 'nat-12345678' }), 'InvalidParameterValue.RouteNextHopInvalid', /Routes\.1\.GatewayId.*not a NAT gateway/],
      ['a VPN gateway next hop', () => create(good, { ...good, GatewayType: 'VPN', GatewayId: 'vpngw-12345678' }), 'UnsupportedOperation', /Routes\.1\.GatewayType.*VPN gateways/],
      ['an unknown next hop type', () => create({ ...good, GatewayType: 'TELEPORT' }), 'InvalidParameterValue', /Routes\.0\.GatewayType/],
      ['an IPv6 destination', () => create({ ...good, DestinationIpv6CidrBlock: '2001:db8::/64' }), 'UnsupportedOperation', /Ipv6/],
      ['over the routes quota of 3', () => create(good, { ...good, DestinationCidrBlock: '192.168.10.0/24' }, { ...good, DestinationCidrBlock: '192.168.11.0/24' }), 'LimitExceeded', /quota is 3/],
      ['no routes', () => create(), 'InvalidParameterValue', /Routes/],
      ['an unknown table', () => t.vpc.CreateRoutes({ RouteTableId: 'rtb-00000000', Routes: [good] }), 'ResourceNotFound'],
      ['a malformed table id', () => t.vpc.CreateRoutes({ RouteTableId: 'rtb-0', Routes: [good] }), 'InvalidParameterValue.Malformed'],
      ['a missing GatewayId', () => create(loose({ DestinationCidrBlock: '192.168.9.0/24', GatewayType: 'NORMAL_CVM' })), 'MissingParameter', /Routes\.0\.GatewayId/],
    ]);
    // Different types for one destination, both valid next hops: refused as ECMP across types; and two peerings for one destination.
    const peer2 = (await t.vpc.CreateVpc({ VpcName: 'peer2', CidrBlock: '172.16.0.0/16' })).Vpc!.VpcId!;
    const active2 = await peering(peer2, t.vpcId, 'ACTIVE', t.uin);
    await refusals([
      [
        'one destination, NORMAL_CVM and PEERCONNECTION',
        () => create({ DestinationCidrBlock: '172.16.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: active }, { ...good, DestinationCidrBlock: '172.16.1.0/24' }),
        'UnsupportedOperation.EcmpWithUserRoute',
        /Routes\.1/,
      ],
      [
        'one destination, two peerings',
        () =>
          create(
            { DestinationCidrBlock: '172.16.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: active },
            { DestinationCidrBlock: '172.16.1.0/24', GatewayType: 'PEERCONNECTION', GatewayId: active2 },
          ),
        'UnsupportedOperation.Ecmp',
        /Routes\.1/,
      ],
    ]);
  });

  it('replaces, disables, enables, deletes and resets routes; the LOCAL route stays the system’s', async () => {
    const t = await tenant();
    const [ip1, ip2, ip3] = await instances(t, 3);
    const rtb = (await t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'r' })).RouteTable!.RouteTableId!;
    await t.vpc.CreateRoutes({
      RouteTableId: rtb,
      Routes: [
        { DestinationCidrBlock: '192.168.1.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1!, RouteDescription: 'keep me' },
        { DestinationCidrBlock: '192.168.2.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! },
        { DestinationCidrBlock: '192.168.3.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! },
      ],
    });
    const [a, b, c] = await userRoutes(t, rtb);
    const local = (await table(t, rtb)).RouteSet!.find((x) => x.GatewayType === 'LOCAL')!;

    // Replace by RouteId and by RouteItemId: IDs, creation time and (absent) description stay.
    const rep = await t.vpc.ReplaceRoutes({
      RouteTableId: rtb,
      Routes: [
        { RouteId: a!.RouteId, DestinationCidrBlock: '192.168.10.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip2! },
        loose<Route>({ RouteItemId: b!.RouteItemId, DestinationCidrBlock: '192.168.2.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip3!, RouteDescription: 'moved' }),
      ],
    });
    assert.deepEqual(rep.OldRouteSet, [a, b]);
    assert.deepEqual(rep.NewRouteSet, [
      { ...a, DestinationCidrBlock: '192.168.10.0/24', GatewayId: ip2 },
      { ...b, GatewayId: ip3, RouteDescription: 'moved' },
    ]);
    assert.deepEqual(await userRoutes(t, rtb), [...rep.NewRouteSet!, c]);

    // Disable keeps the route listed, Enabled false; a disabled route may meet another type's route, and Enable checks again.
    await t.vpc.DisableRoutes({ RouteTableId: rtb, RouteIds: [c!.RouteId!] });
    assert.equal((await userRoutes(t, rtb)).find((x) => x.RouteId === c!.RouteId)!.Enabled, false);
    await t.vpc.DisableRoutes({ RouteTableId: rtb, RouteItemIds: [c!.RouteItemId!] }); // already disabled: nothing to do
    const peerVpc = (await t.vpc.CreateVpc({ VpcName: 'peer', CidrBlock: '192.168.0.0/16' })).Vpc!.VpcId!;
    const pcx = await peering(t.vpcId, peerVpc, 'ACTIVE', t.uin);
    await t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: '192.168.3.0/24', GatewayType: 'PEERCONNECTION', GatewayId: pcx }] });
    await refusals([
      ['enable a route another type now serves', () => t.vpc.EnableRoutes({ RouteTableId: rtb, RouteIds: [c!.RouteId!] }), 'UnsupportedOperation.EcmpWithUserRoute', /RouteIds\.0/],
      ['replace the LOCAL route', () => t.vpc.ReplaceRoutes({ RouteTableId: rtb, Routes: [{ RouteId: local.RouteId, DestinationCidrBlock: '192.168.50.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! }] }), 'UnsupportedOperation.SystemRoute', /Routes\.0/],
      ['delete the LOCAL route', () => t.vpc.DeleteRoutes({ RouteTableId: rtb, Routes: [loose({ RouteId: local.RouteId })] }), 'UnsupportedOperation.SystemRoute'],
      ['disable the LOCAL route', () => t.vpc.DisableRoutes({ RouteTableId: rtb, RouteItemIds: [local.RouteItemId!] }), 'UnsupportedOperation.SystemRoute', /RouteItemIds\.0/],
      ['replace onto a destination in the VPC', () => t.vpc.ReplaceRoutes({ RouteTableId: rtb, Routes: [{ RouteId: c!.RouteId, DestinationCidrBlock: '10.0.9.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! }] }), 'InvalidParameterValue.VpcCidrConflict'],
      [
        'replace the second into a copy of the first',
        () =>
          t.vpc.ReplaceRoutes({
            RouteTableId: rtb,
            Routes: [
              { RouteId: a!.RouteId, DestinationCidrBlock: '192.168.20.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! },
              { RouteId: b!.RouteId, DestinationCidrBlock: '192.168.20.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! },
            ],
          }),
        'InvalidParameterValue.Duplicate',
        /Routes\.1/,
      ],
      ['replace a route of no ID', () => t.vpc.ReplaceRoutes({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: '192.168.20.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! }] }), 'MissingParameter', /Routes\.0/],
      ['replace an unknown RouteId', () => t.vpc.ReplaceRoutes({ RouteTableId: rtb, Routes: [{ RouteId: 999999, DestinationCidrBlock: '192.168.20.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! }] }), 'ResourceNotFound', /999999/],
      ['RouteId and RouteItemId of two routes', () => t.vpc.DeleteRoutes({ RouteTableId: rtb, Routes: [loose({ RouteId: a!.RouteId, RouteItemId: b!.RouteItemId })] }), 'InvalidParameterValue'],
      ['delete one route twice', () => t.vpc.DeleteRoutes({ RouteTableId: rtb, Routes: [loose({ RouteId: a!.RouteId }), loose({ RouteItemId: a!.RouteItemId })] }), 'InvalidParameterValue.Duplicate', /Routes\.1/],
      ['delete, the second unknown', () => t.vpc.DeleteRoutes({ RouteTableId: rtb, Routes: [loose({ RouteId: a!.RouteId }), loose({ RouteItemId: 'rti-00000000' })] }), 'ResourceNotFound', /Routes\.1/],
      ['delete without routes', () => t.vpc.DeleteRoutes({ RouteTableId: rtb }), 'MissingParameter'],
      ['enable by both kinds of ID', () => t.vpc.EnableRoutes({ RouteTableId: rtb, RouteIds: [a!.RouteId!], RouteItemIds: [a!.RouteItemId!] }), 'InvalidParameter.Coexist'],
      ['enable nothing', () => t.vpc.EnableRoutes({ RouteTableId: rtb }), 'MissingParameter'],
      ['enable a malformed item id', () => t.vpc.EnableRoutes({ RouteTableId: rtb, RouteItemIds: ['rti-!'] }), 'InvalidParameterValue.Malformed'],
      ['reset with a bad second route', () => t.vpc.ResetRoutes({ RouteTableId: rtb, RouteTableName: 'n', Routes: [{ DestinationCidrBlock: '192.168.7.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! }, { DestinationCidrBlock: '10.0.3.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip1! }] }), 'InvalidParameterValue.VpcCidrConflict', /Routes\.1/],
    ]);
    // Enable works once the conflicting route is disabled.
    const peered = (await userRoutes(t, rtb)).find((x) => x.GatewayType === 'PEERCONNECTION')!;
    await t.vpc.DisableRoutes({ RouteTableId: rtb, RouteItemIds: [peered.RouteItemId!] });
    await t.vpc.EnableRoutes({ RouteTableId: rtb, RouteIds: [c!.RouteId!] });
    assert.equal((await userRoutes(t, rtb)).find((x) => x.RouteId === c!.RouteId)!.Enabled, true);

    const del = await t.vpc.DeleteRoutes({ RouteTableId: rtb, Routes: [loose({ RouteId: a!.RouteId }), loose({ RouteItemId: peered.RouteItemId })] });
    assert.deepEqual(del.RouteSet!.map((x) => x.RouteItemId), [a!.RouteItemId, peered.RouteItemId]);
    assert.deepEqual((await userRoutes(t, rtb)).map((x) => x.RouteItemId), [b!.RouteItemId, c!.RouteItemId]);

    // Reset: every user route replaced (new IDs), the table renamed, the LOCAL route kept.
    await t.vpc.ResetRoutes({
      RouteTableId: rtb,
      RouteTableName: 'reset',
      Routes: [{ DestinationCidrBlock: '192.168.2.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip3! }],
    });
    const after_ = await table(t, rtb);
    assert.equal(after_.RouteTableName, 'reset');
    assert.deepEqual(after_.RouteSet!.map((x) => [x.GatewayType, x.DestinationCidrBlock, x.GatewayId]), [
      ['LOCAL', '10.0.0.0/16', 'Local'],
      ['NORMAL_CVM', '192.168.2.0/24', ip3],
    ]);
    assert.equal(after_.RouteSet![0]!.RouteItemId, local.RouteItemId);
    assert.notEqual(after_.RouteSet![1]!.RouteItemId, b!.RouteItemId, 'a reset route is a new route');
    await t.vpc.ResetRoutes({ RouteTableId: rtb, RouteTableName: 'empty', Routes: [] });
    assert.deepEqual(await userRoutes(t, rtb), []);
  });

  it('describes route conflicts: same destination, or the LOCAL route for a block in the VPC; destinations without are left out', async () => {
    const t = await tenant();
    const [ip] = await instances(t, 1);
    const rtb = t.main.RouteTableId!;
    await t.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: '192.168.1.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip! }] });
    const res = await t.vpc.DescribeRouteConflicts({ RouteTableId: rtb, DestinationCidrBlocks: ['192.168.1.0/24', '192.168.2.0/24', '10.0.3.0/24'] });
    assert.deepEqual(
      res.RouteConflictSet!.map((x) => [x.RouteTableId, x.DestinationCidrBlock, x.ConflictSet!.map((y) => `${y.GatewayType}:${y.DestinationCidrBlock}`)]),
      [
        [rtb, '192.168.1.0/24', ['NORMAL_CVM:192.168.1.0/24']],
        [rtb, '10.0.3.0/24', ['LOCAL:10.0.0.0/16']],
      ],
    );
    assert.deepEqual(Object.keys(res.RouteConflictSet![0]!).sort(), modelFields('RouteConflict'));
    assert.equal((await errorOf(t.vpc.DescribeRouteConflicts({ RouteTableId: rtb, DestinationCidrBlocks: ['1.2.3.4/8'] }))).code, 'InvalidParameterValue.Malformed');
  });

  it("never shows or touches another account's tables: they answer as missing ones", async () => {
    const owner = await tenant();
    const [ip] = await instances(owner, 1);
    const rtb = (await owner.vpc.CreateRouteTable({ VpcId: owner.vpcId, RouteTableName: 'mine' })).RouteTable!.RouteTableId!;
    await owner.vpc.CreateRoutes({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: '192.168.1.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip! }] });
    const [route] = await userRoutes(owner, rtb);
    const other = await tenant();
    const v = other.vpc;
    assert.equal((await v.DescribeRouteTables({ RouteTableIds: [rtb] })).TotalCount, 0);
    assert.equal((await v.DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [owner.vpcId] }] })).TotalCount, 0);
    assert.equal((await v.DescribeRouteTables({})).TotalCount, 1, 'only its own main table');
    const routeRef = loose<Route>({ RouteId: route!.RouteId });
    const newRoute = { DestinationCidrBlock: '192.168.5.0/24', GatewayType: 'NORMAL_CVM', GatewayId: ip! };
    await refusals(
      (
        [
          ['CreateRoutes', () => v.CreateRoutes({ RouteTableId: rtb, Routes: [newRoute] })],
          ['DeleteRoutes', () => v.DeleteRoutes({ RouteTableId: rtb, Routes: [routeRef] })],
          ['ReplaceRoutes', () => v.ReplaceRoutes({ RouteTableId: rtb, Routes: [{ ...newRoute, RouteId: route!.RouteId }] })],
          ['ResetRoutes', () => v.ResetRoutes({ RouteTableId: rtb, RouteTableName: 'x', Routes: [] })],
          ['EnableRoutes', () => v.EnableRoutes({ RouteTableId: rtb, RouteIds: [route!.RouteId!] })],
          ['DisableRoutes', () => v.DisableRoutes({ RouteTableId: rtb, RouteIds: [route!.RouteId!] })],
          ['ModifyRouteTableAttribute', () => v.ModifyRouteTableAttribute({ RouteTableId: rtb, RouteTableName: 'x' })],
          ['DeleteRouteTable', () => v.DeleteRouteTable({ RouteTableId: rtb })],
          ['ReplaceRouteTableAssociation', () => v.ReplaceRouteTableAssociation({ RouteTableId: rtb, SubnetId: other.subnetId })],
          ['ReplaceRouteTableAssociation (foreign subnet)', () => v.ReplaceRouteTableAssociation({ RouteTableId: other.main.RouteTableId!, SubnetId: owner.subnetId })],
          ['DescribeRouteConflicts', () => v.DescribeRouteConflicts({ RouteTableId: rtb, DestinationCidrBlocks: ['192.168.1.0/24'] })],
          ['CreateRouteTable in a foreign VPC', () => v.CreateRouteTable({ VpcId: owner.vpcId, RouteTableName: 'x' })],
          [
            'CreateSubnets with a foreign table',
            () => v.CreateSubnets({ VpcId: other.vpcId, Subnets: [{ CidrBlock: '10.0.2.0/24', SubnetName: 'a', Zone: 'local-1', RouteTableId: rtb }] }),
          ],
        ] as [string, () => Promise<unknown>][]
      ).map(([name, call]): Case => [name, call, 'ResourceNotFound']),
    );
  });

  it('DeleteVpc takes the main table and its routes along, and refuses while other tables, ACLs or live peerings remain', async () => {
    const t = await tenant();
    await t.vpc.DeleteSubnet({ SubnetId: t.subnetId });
    const extra = (await t.vpc.CreateRouteTable({ VpcId: t.vpcId, RouteTableName: 'extra' })).RouteTable!.RouteTableId!;
    await refusals([['a VPC with another route table', () => t.vpc.DeleteVpc({ VpcId: t.vpcId }), 'ResourceInUse', new RegExp(extra)]]);
    await t.vpc.DeleteRouteTable({ RouteTableId: extra });

    const aclId = 'acl-00000001';
    await store.write(async (w) => {
      await w.tx.insertInto('network_acls').values({ id: aclId, account: t.uin, vpc_id: t.vpcId, name: 'a', created_at: w.now }).execute();
    });
    await refusals([['a VPC with a network ACL', () => t.vpc.DeleteVpc({ VpcId: t.vpcId }), 'ResourceInUse', new RegExp(aclId)]]);
    await store.write(async (w) => void (await w.tx.deleteFrom('network_acls').where('id', '=', aclId).execute()));

    const other = (await t.vpc.CreateVpc({ VpcName: 'o', CidrBlock: '172.16.0.0/16' })).Vpc!.VpcId!;
    const pending = await peering(other, t.vpcId, 'PENDING', t.uin); // the VPC as the peer side
    await refusals([['a VPC with a pending peering', () => t.vpc.DeleteVpc({ VpcId: t.vpcId }), 'ResourceInUse', new RegExp(pending)]]);
    await store.write(async (w) => void (await w.tx.updateTable('peerings').set({ state: 'REJECTED' }).where('id', '=', pending).execute()));

    await t.vpc.DeleteVpc({ VpcId: t.vpcId });
    const left = await store.db.selectFrom('route_tables').select('id').where('vpc_id', '=', t.vpcId).execute();
    assert.deepEqual(left, []);
    assert.deepEqual(await store.db.selectFrom('routes').select('id').where('route_table_id', '=', t.main.RouteTableId!).execute(), []);
    assert.deepEqual((await changesOf(t.main.RouteTableId!)).slice(-1), ['route_table:delete']);
    assert.equal((await t.vpc.DescribeRouteTables({ RouteTableIds: [t.main.RouteTableId!] })).TotalCount, 0);
  });

  it('hands out RouteIds unique in the region across accounts', async () => {
    const [a, b] = [await tenant(), await tenant()];
    const [ipA] = await instances(a, 1);
    const [ipB] = await instances(b, 1);
    const mk = (t: Tenant, ip: string) =>
      t.vpc.CreateRoutes({
        RouteTableId: t.main.RouteTableId!,
        Routes: Array.from({ length: 5 }, (_, i) => ({ DestinationCidrBlock: `192.168.${i}.0/24`, GatewayType: 'NORMAL_CVM', GatewayId: ip })),
      });
    await Promise.all([mk(a, ipA!), mk(b, ipB!)]);
    const ids = (await store.db.selectFrom('routes').select('route_id').execute()).map((x) => Number(x.route_id));
    assert.equal(new Set(ids).size, ids.length);
  });
});
