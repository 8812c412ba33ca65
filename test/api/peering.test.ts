import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CreateVpcPeeringConnectionRequest } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, errorOf, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

describe(`VPC peering through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let tenant: Creds; // the peer account of cross-account connections
  let stranger: Creds; // neither side
  const vpcs: Record<string, string> = {};
  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    tenant = await r.newAccount('peer-tenant');
    stranger = await r.newAccount('stranger');
    const mk = async (name: string, cidr: string, creds?: Creds) =>
      (vpcs[name] = (await r.vpc(creds).CreateVpc({ VpcName: name, CidrBlock: cidr })).Vpc!.VpcId!);
    await mk('a', '10.0.0.0/16');
    await mk('b', '10.1.0.0/16');
    await mk('b2', '10.1.0.0/20'); // overlaps b
    await mk('c', '10.3.0.0/16');
    await mk('t', '10.2.0.0/16', tenant);
    await mk('t2', '10.4.0.0/16', tenant);
    await mk('s', '10.5.0.0/16', stranger);
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const admin = () => r.vpc();
  const request = (from: string, to: string, uin: string, name = `${from}-${to}`): CreateVpcPeeringConnectionRequest => ({
    SourceVpcId: vpcs[from]!,
    DestinationVpcId: vpcs[to]!,
    DestinationUin: uin,
    DestinationRegion: 'local',
    PeeringConnectionName: name,
  });
  const changesOf = async (id: string) =>
    (await store.db.selectFrom('changes').select(['kind', 'op', 'account']).where('resource_id', '=', id).orderBy('revision').execute()).map(
      (c) => `${c.kind}:${c.op}:${c.account}`,
    );
  const revision = () => store.revision();

  it('joins two VPCs of one account at once, with every field of the SDK model', async () => {
    const vpc = admin();
    const rev = await revision();
    const { PeeringConnectionId: id } = await vpc.CreateVpcPeeringConnection({ ...request('a', 'b', r.admin.Uin), Bandwidth: 100, Tags: [{ Key: 'env', Value: 'dev' }] });
    assert.match(id!, /^pcx-[0-9a-z]{8}$/);
    const [pcx] = (await vpc.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet!;
    assert.deepEqual(Object.keys(pcx!).sort(), modelFields('PeerConnection'));
    const { CreateTime, ...rest } = pcx!;
    assert.match(CreateTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(rest, {
      SourceVpcId: vpcs.a,
      PeerVpcId: vpcs.b,
      PeeringConnectionId: id,
      PeeringConnectionName: 'a-b',
      State: 'ACTIVE',
      IsNgw: false,
      Bandwidth: 100,
      SourceRegion: 'local',
      DestinationRegion: 'local',
      AppId: Number(r.admin.AppId),
      PeerAppId: Number(r.admin.AppId),
      ChargeType: '',
      SourceUin: Number(r.admin.Uin),
      DestinationUin: Number(r.admin.Uin),
      TagSet: [{ Key: 'env', Value: 'dev' }],
      QosLevel: '',
      Type: 'VPC_PEER',
      DestinationVpcId: vpcs.b,
    });
    const vpcChanges = await store.db.selectFrom('changes').select('resource_id').where('kind', '=', 'vpc').where('revision', '>', rev).execute();
    assert.deepEqual(vpcChanges.map((c) => c.resource_id).sort(), [vpcs.a, vpcs.b].sort(), 'both VPCs\' hosts are told');

    await vpc.ModifyVpcPeeringConnection({ PeeringConnectionId: id!, PeeringConnectionName: 'renamed', Bandwidth: 200 });
    const [modified] = (await vpc.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet!;
    assert.deepEqual(modified, { ...pcx, PeeringConnectionName: 'renamed', Bandwidth: 200 });

    await vpc.DeleteVpcPeeringConnection({ PeeringConnectionId: id! });
    assert.equal((await vpc.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).TotalCount, 0);
    assert.equal(await errorCode(vpc.DeleteVpcPeeringConnection({ PeeringConnectionId: id! })), 'ResourceNotFound');
    const uin = r.admin.Uin;
    assert.deepEqual(await changesOf(id!), [`peering:create:${uin}`, `peering:update:${uin}`, `peering:delete:${uin}`]);
    assert.equal((await store.db.selectFrom('tags').select('key').where('resource_id', '=', id!).execute()).length, 0);
  });

  it('refuses bad requests with Tencent\'s codes and writes nothing', async () => {
    const vpc = admin();
    const { PeeringConnectionId: ab } = await vpc.CreateVpcPeeringConnection(request('a', 'b', r.admin.Uin));
    const uin = r.admin.Uin;
    const cases: [string, CreateVpcPeeringConnectionRequest, string, RegExp?][] = [
      ['a VPC with itself', request('a', 'a', uin), 'InvalidParameterValue', /itself/],
      ['a missing source VPC', { ...request('a', 'c', uin), SourceVpcId: 'vpc-00000000' }, 'ResourceNotFound', /SourceVpcId/],
      ['another account\'s VPC as source', { ...request('a', 'c', uin), SourceVpcId: vpcs.t! }, 'ResourceNotFound', /SourceVpcId/],
      ['a missing peer VPC', { ...request('a', 'c', uin), DestinationVpcId: 'vpc-00000000' }, 'ResourceNotFound', /DestinationVpcId/],
      ['the peer VPC under the wrong account', request('a', 't', uin), 'ResourceNotFound', /DestinationUin/],
      ['an unknown account', request('a', 't', '100099999999'), 'ResourceNotFound'],
      ['overlapping blocks', request('b', 'b2', uin), 'UnsupportedOperation.VpcPeerCidrConflict', /10\.1\.0\.0\/20/],
      ['a second connection between the same VPCs', request('a', 'b', uin), 'UnsupportedOperation.VpcPeerAlreadyExist', new RegExp(ab!)],
      ['the same pair the other way round', request('b', 'a', uin), 'UnsupportedOperation.VpcPeerAlreadyExist'],
      ['a peer overlapping an existing peer', request('a', 'b2', uin), 'UnauthorizedOperation.VpcPeerCidrConflict', new RegExp(vpcs.b!)],
      ['another region', { ...request('a', 'c', uin), DestinationRegion: 'ap-guangzhou' }, 'InvalidParameterValue', /DestinationRegion/],
      ['a malformed peer VPC ID', { ...request('a', 'c', uin), DestinationVpcId: 'vpc-1' }, 'InvalidParameterValue.Malformed'],
      ['a bare-metal peering', { ...request('a', 'c', uin), Type: 'VPC_BM_PEER' }, 'UnsupportedOperation'],
      ['an unknown charge type', { ...request('a', 'c', uin), ChargeType: 'FREE' }, 'InvalidParameterValue'],
      ['a negative bandwidth', { ...request('a', 'c', uin), Bandwidth: -1 }, 'InvalidParameterValue.Range'],
    ];
    for (const [name, params, code, message] of cases) {
      const rev = await revision();
      const e = await errorOf(vpc.CreateVpcPeeringConnection(params));
      assert.equal(e.code, code, `${name}: ${e.message}`);
      if (message) assert.match(e.message, message, name);
      assert.equal(await revision(), rev, `${name}: nothing written`);
    }
    await vpc.DeleteVpcPeeringConnection({ PeeringConnectionId: ab! });
  });

  it('asks another account, which alone accepts; both see it, a stranger sees nothing', async () => {
    const mine = admin();
    const theirs = r.vpc(tenant);
    const outsider = r.vpc(stranger);
    const rev = await revision();
    const { PeeringConnectionId: id } = await mine.CreateVpcPeeringConnection(request('a', 't', tenant.Uin));
    const pending = (await mine.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet![0]!;
    assert.equal(pending.State, 'PENDING');
    assert.equal(pending.DestinationUin, Number(tenant.Uin));
    assert.equal(pending.PeerAppId, Number(tenant.AppId));
    assert.deepEqual((await theirs.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet, [pending], 'the peer sees the same connection');
    const vpcChanges = await store.db.selectFrom('changes').select('resource_id').where('kind', '=', 'vpc').where('revision', '>', rev).execute();
    assert.deepEqual(vpcChanges, [], 'a pending request reaches no host');

    // Neither side: nothing to see, nothing to touch.
    const before = await revision();
    assert.equal((await outsider.DescribeVpcPeeringConnections({})).TotalCount, 0);
    assert.equal((await outsider.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).TotalCount, 0);
    for (const call of [
      () => outsider.AcceptVpcPeeringConnection({ PeeringConnectionId: id! }),
      () => outsider.RejectVpcPeeringConnection({ PeeringConnectionId: id! }),
      () => outsider.ModifyVpcPeeringConnection({ PeeringConnectionId: id!, PeeringConnectionName: 'x' }),
      () => outsider.DeleteVpcPeeringConnection({ PeeringConnectionId: id! }),
    ])
      assert.equal(await errorCode(call()), 'ResourceNotFound');
    // The requester cannot answer its own request.
    const own = await errorOf(mine.AcceptVpcPeeringConnection({ PeeringConnectionId: id! }));
    assert.equal(own.code, 'UnsupportedOperation.VpcPeerPurviewError');
    assert.match(own.message, new RegExp(tenant.Uin));
    assert.equal(await errorCode(mine.RejectVpcPeeringConnection({ PeeringConnectionId: id! })), 'UnsupportedOperation.VpcPeerPurviewError');
    assert.equal(await errorCode(mine.AcceptVpcPeeringConnection({ PeeringConnectionId: 'pcx-x' })), 'InvalidParameterValue.Malformed');
    assert.equal(await revision(), before);

    const acceptedAt = await revision();
    await theirs.AcceptVpcPeeringConnection({ PeeringConnectionId: id! });
    assert.equal((await mine.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet![0]!.State, 'ACTIVE');
    const told = await store.db.selectFrom('changes').select(['resource_id', 'account']).where('kind', '=', 'vpc').where('revision', '>', acceptedAt).execute();
    assert.deepEqual(
      told.map((c) => `${c.resource_id}@${c.account}`).sort(),
      [`${vpcs.a}@${r.admin.Uin}`, `${vpcs.t}@${tenant.Uin}`].sort(),
      'accepting tells both VPCs\' hosts, each under its owner',
    );
    assert.equal(await errorCode(theirs.AcceptVpcPeeringConnection({ PeeringConnectionId: id! })), 'UnsupportedOperation.VpcPeerInvalidStateChange');
    assert.equal(await errorCode(theirs.RejectVpcPeeringConnection({ PeeringConnectionId: id! })), 'UnsupportedOperation.VpcPeerInvalidStateChange');

    // Either side may rename or delete it.
    await theirs.ModifyVpcPeeringConnection({ PeeringConnectionId: id!, PeeringConnectionName: 'from-the-peer' });
    assert.equal((await mine.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet![0]!.PeeringConnectionName, 'from-the-peer');
    await theirs.DeleteVpcPeeringConnection({ PeeringConnectionId: id! });
    assert.equal((await mine.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).TotalCount, 0);
  });

  it('lets the peer reject; a rejected request holds nothing and either side deletes it', async () => {
    const mine = admin();
    const theirs = r.vpc(tenant);
    const { PeeringConnectionId: id } = await mine.CreateVpcPeeringConnection(request('c', 't2', tenant.Uin));
    await theirs.RejectVpcPeeringConnection({ PeeringConnectionId: id! });
    assert.equal((await mine.DescribeVpcPeeringConnections({ PeeringConnectionIds: [id!] })).PeerConnectionSet![0]!.State, 'REJECTED');
    assert.equal(await errorCode(theirs.AcceptVpcPeeringConnection({ PeeringConnectionId: id! })), 'UnsupportedOperation.VpcPeerInvalidStateChange');
    // A same-account connection is never pending: there is nothing to accept.
    const { PeeringConnectionId: local } = await mine.CreateVpcPeeringConnection(request('a', 'c', r.admin.Uin));
    assert.equal(await errorCode(mine.AcceptVpcPeeringConnection({ PeeringConnectionId: local! })), 'UnsupportedOperation.VpcPeerInvalidStateChange');
    await mine.DeleteVpcPeeringConnection({ PeeringConnectionId: local! });
    // The rejected one no longer holds the pair.
    const { PeeringConnectionId: again } = await mine.CreateVpcPeeringConnection(request('c', 't2', tenant.Uin));
    await mine.DeleteVpcPeeringConnection({ PeeringConnectionId: id! });
    await theirs.DeleteVpcPeeringConnection({ PeeringConnectionId: again! });
    assert.equal((await theirs.DescribeVpcPeeringConnections({})).TotalCount, 0);
  });

  it('takes its routes with it when deleted, in any table of either side', async () => {
    const mine = admin();
    const theirs = r.vpc(tenant);
    const { PeeringConnectionId: id } = await mine.CreateVpcPeeringConnection(request('a', 't', tenant.Uin));
    await theirs.AcceptVpcPeeringConnection({ PeeringConnectionId: id! });
    // Route tables are another module's; rows are written straight into the store here.
    const now = new Date().toISOString();
    await store.db
      .insertInto('route_tables')
      .values([
        { id: 'rtb-aaaaaaaa', account: r.admin.Uin, vpc_id: vpcs.a!, name: 'a', is_main: 0, created_at: now },
        { id: 'rtb-tttttttt', account: tenant.Uin, vpc_id: vpcs.t!, name: 't', is_main: 0, created_at: now },
      ])
      .execute();
    const route = (rid: string, n: number, table: string, dest: string, type: string, gw: string) => ({
      id: rid,
      route_id: 900000 + n,
      route_table_id: table,
      destination: dest,
      gateway_type: type,
      gateway_id: gw,
      description: '',
      enabled: 1,
      route_type: 'USER',
      created_at: now,
    });
    await store.db
      .insertInto('routes')
      .values([
        route('rti-aaaaaaa1', 1, 'rtb-aaaaaaaa', '10.2.0.0/16', 'PEERCONNECTION', id!),
        route('rti-ttttttt1', 2, 'rtb-tttttttt', '10.0.0.0/16', 'PEERCONNECTION', id!),
        route('rti-aaaaaaa2', 3, 'rtb-aaaaaaaa', '10.9.0.0/16', 'NORMAL_CVM', '10.0.0.5'),
      ])
      .execute();
    const rev = await revision();
    await mine.DeleteVpcPeeringConnection({ PeeringConnectionId: id! });
    const left = await store.db.selectFrom('routes').select('id').where('route_table_id', 'in', ['rtb-aaaaaaaa', 'rtb-tttttttt']).execute();
    assert.deepEqual(left.map((x) => x.id), ['rti-aaaaaaa2'], 'only the routes through the connection went');
    const changed = await store.db.selectFrom('changes').select(['kind', 'resource_id', 'account']).where('revision', '>', rev).execute();
    assert.deepEqual(
      changed.map((c) => `${c.kind}:${c.resource_id}@${c.account}`).sort(),
      [
        `peering:${id}@${r.admin.Uin}`,
        `route_table:rtb-aaaaaaaa@${r.admin.Uin}`,
        `route_table:rtb-tttttttt@${tenant.Uin}`,
        `vpc:${vpcs.a}@${r.admin.Uin}`,
        `vpc:${vpcs.t}@${tenant.Uin}`,
      ].sort(),
      'one revision names the connection, both tables and both VPCs',
    );
    assert.equal(new Set((await store.db.selectFrom('changes').select('revision').where('revision', '>', rev).execute()).map((c) => c.revision)).size, 1);
    await store.db.deleteFrom('routes').where('id', '=', 'rti-aaaaaaa2').execute();
    await store.db.deleteFrom('route_tables').where('id', 'in', ['rtb-aaaaaaaa', 'rtb-tttttttt']).execute();
  });

  it('filters, orders and pages DescribeVpcPeeringConnections', async () => {
    const vpc = admin();
    const uin = r.admin.Uin;
    const ab = (await vpc.CreateVpcPeeringConnection(request('a', 'b', uin, 'zz-one'))).PeeringConnectionId!;
    const ac = (await vpc.CreateVpcPeeringConnection(request('a', 'c', uin, 'aa-two'))).PeeringConnectionId!;
    const at = (await vpc.CreateVpcPeeringConnection(request('a', 't', tenant.Uin, 'mm-three'))).PeeringConnectionId!;
    const names = async (req: Parameters<typeof vpc.DescribeVpcPeeringConnections>[0]) =>
      (await vpc.DescribeVpcPeeringConnections(req)).PeerConnectionSet!.map((p) => p.PeeringConnectionName);
    assert.equal((await vpc.DescribeVpcPeeringConnections({})).TotalCount, 3);
    assert.deepEqual(await names({ OrderField: 'PeeringConnectionName' }), ['aa-two', 'mm-three', 'zz-one']);
    assert.deepEqual(await names({ OrderField: 'PeeringConnectionName', OrderDirection: 'DESC', Offset: 1, Limit: 1 }), ['mm-three']);
    assert.deepEqual(await names({ Filters: [{ Name: 'state', Values: ['PENDING'] }] }), ['mm-three']);
    assert.deepEqual((await names({ Filters: [{ Name: 'vpc-id', Values: [vpcs.c!] }] })), ['aa-two'], 'vpc-id matches either end');
    assert.deepEqual(await names({ Filters: [{ Name: 'peering-connection-name', Values: ['ONE'] }] }), ['zz-one']);
    const page = await vpc.DescribeVpcPeeringConnections({ Filters: [{ Name: 'vpc-id', Values: [vpcs.a!] }], Limit: 2 });
    assert.equal(page.TotalCount, 3);
    assert.equal(page.PeerConnectionSet!.length, 2);
    // The tenant sees only the connection it is a side of.
    assert.deepEqual((await r.vpc(tenant).DescribeVpcPeeringConnections({})).PeerConnectionSet!.map((p) => p.PeeringConnectionId), [at]);
    assert.equal(await errorCode(vpc.DescribeVpcPeeringConnections({ PeeringConnectionIds: [ab], Filters: [{ Name: 'state', Values: ['ACTIVE'] }] })), 'InvalidParameter.Coexist');
    assert.equal(await errorCode(vpc.DescribeVpcPeeringConnections({ Filters: [{ Name: 'colour', Values: ['x'] }] })), 'InvalidParameter.FilterInvalidKey');
    assert.equal(await errorCode(vpc.DescribeVpcPeeringConnections({ PeeringConnectionIds: ['pcx-1'] })), 'InvalidParameterValue.Malformed');
    for (const id of [ab, ac, at]) await vpc.DeleteVpcPeeringConnection({ PeeringConnectionId: id });
  });

  it('enforces the peerings-per-VPC quota', async () => {
    const name = 'pcx-quota';
    const creds = await r.newAccount(name);
    const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', name, '--set', 'peeringPerVpc=1', ...(r.database ? ['--database', r.database] : [])]);
    assert.equal(q.code, 0, q.stderr);
    const vpc = r.vpc(creds);
    const made: string[] = [];
    for (const [i, cidr] of ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/16'].entries()) made.push((await vpc.CreateVpc({ VpcName: `q${i}`, CidrBlock: cidr })).Vpc!.VpcId!);
    const [x, y, z] = made;
    const req = (s: string, d: string) => ({ SourceVpcId: s, DestinationVpcId: d, DestinationUin: creds.Uin, DestinationRegion: 'local', PeeringConnectionName: 'q' });
    await vpc.CreateVpcPeeringConnection(req(x!, y!));
    const e = await errorOf(vpc.CreateVpcPeeringConnection(req(x!, z!)));
    assert.equal(e.code, 'LimitExceeded.VpcPeerTotalLimitExceeded');
    // The peer end is at its quota too (y has one active connection).
    assert.equal(await errorCode(vpc.CreateVpcPeeringConnection(req(z!, y!))), 'LimitExceeded.VpcPeerAvaLimitExceeded');
  });
});
