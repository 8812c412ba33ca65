/**
 * NAT gateways through the official SDK (vpc CreateNatGateway … DisassociateNatGatewayAddress, the EIPs they hold,
 * routes to them, DescribeVpcTaskResult, their SNAT and DNAT rules), against a real server on SQLite or PostgreSQL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CreateNatGatewayRequest, NatGateway, Route } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorOf, loose, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

describe(`NAT gateways through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpcId: string;
  let tenant: Creds;
  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    vpcId = (await r.vpc().CreateVpc({ VpcName: 'v', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    tenant = await r.newAccount('nat-tenant');
    // The tests hold more EIPs than Tencent's 20 at once; the EIP quota is addresses.test.ts's to test.
    const dbArgs = r.database ? ['--database', r.database] : [];
    const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', 'admin', ...dbArgs, '--set', 'eipPerAccount=200']);
    assert.equal(q.code, 0, q.stderr);
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const vpc = (creds?: Creds) => r.vpc(creds);
  /** Allocates EIPs and answers their public addresses. */
  const eips = async (n: number, creds?: Creds) => {
    const ids = (await vpc(creds).AllocateAddresses({ AddressCount: n })).AddressSet!;
    const set = (await vpc(creds).DescribeAddresses({ AddressIds: ids })).AddressSet!;
    return ids.map((id) => set.find((a) => a.AddressId === id)!.AddressIp!);
  };
  const eipByIp = async (ip: string, creds?: Creds) =>
    (await vpc(creds).DescribeAddresses({ Filters: [{ Name: 'address-ip', Values: [ip] }] })).AddressSet![0]!;
  const describeNat = async (id: string, creds?: Creds): Promise<NatGateway> => {
    const res = await vpc(creds).DescribeNatGateways({ NatGatewayIds: [id] });
    assert.equal(res.TotalCount, 1, `${id} is described`);
    return res.NatGatewaySet![0]!;
  };
  const waitAvailable = async (id: string, creds?: Creds) => {
    for (let i = 0; i < 200; i++) {
      const n = await describeNat(id, creds);
      if (n.State === 'AVAILABLE') return n;
      assert.equal(n.State, 'PENDING', `${id} is PENDING until AVAILABLE`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    throw new Error(`${id} never became AVAILABLE`);
  };
  /** The task's end is recorded just after the gateway turns AVAILABLE: wait for both before comparing state. */
  const waitTask = async (taskId: string, creds?: Creds) => {
    for (let i = 0; i < 200; i++) {
      const t = await vpc(creds).DescribeVpcTaskResult({ TaskId: taskId });
      if (t.Status !== 'RUNNING') return t;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    throw new Error(`task ${taskId} never finished`);
  };
  /** Creates a gateway holding fresh EIPs, waits until it is AVAILABLE. */
  const newNat = async (req: Partial<CreateNatGatewayRequest> = {}, creds?: Creds, inVpc = vpcId) => {
    const ips = req.PublicIpAddresses ?? (await eips(1, creds));
    const res = await vpc(creds).CreateNatGateway({ NatGatewayName: 'n', VpcId: inVpc, ...req, PublicIpAddresses: ips });
    const id = res.NatGatewaySet![0]!.NatGatewayId!;
    const nat = await waitAvailable(id, creds);
    await waitTask(res.RequestId!, creds);
    return { id, ips, requestId: res.RequestId!, nat };
  };
  const mainTable = async (v = vpcId) =>
    (await vpc().DescribeRouteTables({ Filters: [{ Name: 'vpc-id', Values: [v] }, { Name: 'association.main', Values: ['true'] }] })).RouteTableSet![0]!.RouteTableId!;
  /** Everything the NAT actions write, to prove a rejected call changed nothing. */
  const state = async () => ({
    revision: await store.revision(),
    nats: await store.db.selectFrom('nat_gateways').selectAll().orderBy('id').execute(),
    addresses: await store.db.selectFrom('addresses').selectAll().orderBy('id').execute(),
    routes: await store.db.selectFrom('routes').selectAll().orderBy('id').execute(),
    snat: await store.db.selectFrom('nat_snat_rules').selectAll().orderBy('id').execute(),
    dnat: await store.db.selectFrom('nat_dnat_rules').selectAll().orderBy('nat_gateway_id').orderBy('protocol').orderBy('public_ip').orderBy('public_port').execute(),
    tags: await store.db.selectFrom('tags').selectAll().orderBy('resource_id').orderBy('key').execute(),
  });
  async function refused(name: string, call: () => Promise<unknown>, code: string, message?: RegExp) {
    const before_ = await state();
    const e = await errorOf(call());
    assert.equal(e.code, code, `${name}: ${e.message}`);
    if (message) assert.match(e.message, message, name);
    assert.deepEqual(await state(), before_, `${name}: nothing written`);
  }

  it('creates a gateway PENDING, a task makes it AVAILABLE, and DescribeVpcTaskResult answers that task', async () => {
    const ips = await eips(2);
    const res = await vpc().CreateNatGateway({
      NatGatewayName: 'first',
      VpcId: vpcId,
      PublicIpAddresses: ips,
      InternetMaxBandwidthOut: 200,
      MaxConcurrentConnection: 3000000,
      Tags: [{ Key: 'team', Value: 'net' }],
    });
    assert.equal(res.TotalCount, 1);
    const created = res.NatGatewaySet![0]!;
    assert.equal(created.State, 'PENDING', 'the answer precedes the task');
    assert.deepEqual(Object.keys(created).sort(), modelFields('NatGateway'));
    const n = await waitAvailable(created.NatGatewayId!);
    assert.match(n.NatGatewayId!, /^nat-[0-9a-z]{8}$/);
    assert.equal(n.NatGatewayName, 'first');
    assert.equal(n.VpcId, vpcId);
    assert.equal(n.InternetMaxBandwidthOut, 200);
    assert.equal(n.MaxConcurrentConnection, 3000000);
    assert.equal(n.Zone, 'local-1');
    assert.equal(n.NetworkState, 'AVAILABLE');
    assert.deepEqual(n.PublicIpAddressSet!.map((a) => a.PublicIpAddress).sort(), [...ips].sort());
    assert.deepEqual(n.TagSet, [{ Key: 'team', Value: 'net' }]);
    const task = await waitTask(res.RequestId!);
    assert.equal(task.Status, 'SUCCESS');
    assert.match(task.Output!, /AVAILABLE/);
    assert.equal((await errorOf(vpc(tenant).DescribeVpcTaskResult({ TaskId: res.RequestId! }))).code, 'ResourceNotFound', "another account's task");
    // The EIPs show as held by the gateway, as Tencent shows a NAT gateway's EIP.
    for (const ip of ips) {
      const a = await eipByIp(ip);
      assert.equal(a.AddressStatus, 'BIND');
      assert.equal(a.InstanceId, n.NatGatewayId);
      assert.equal(a.InstanceType, 'NAT');
    }
    const byType = await vpc().DescribeAddresses({ Filters: [{ Name: 'instance-type', Values: ['NAT'] }, { Name: 'instance-id', Values: [n.NatGatewayId!] }] });
    assert.equal(byType.TotalCount, 2);
    await vpc().DeleteNatGateway({ NatGatewayId: n.NatGatewayId! });
  });

  it('refuses bad creations with Tencent codes and writes nothing, a batch with one bad EIP included', async () => {
    const [free, other] = await eips(2);
    const { id: holder, ips: held } = await newNat();
    const [foreign] = await eips(1, tenant);
    const ok = { NatGatewayName: 'n', VpcId: vpcId };
    const cases: [string, CreateNatGatewayRequest, string][] = [
      ['one EIP already held', { ...ok, PublicIpAddresses: [free!, held[0]!] }, 'ResourceInUse.Address'],
      ["another account's EIP", { ...ok, PublicIpAddresses: [free!, foreign!] }, 'UnsupportedOperation.PublicIpAddressIsNotExisted'],
      ['no EIPs', { ...ok }, 'InvalidParameterValue.Empty'],
      ['AddressCount 0', { ...ok, AddressCount: 0 }, 'InvalidParameterValue.Range'],
      ['eleven with new ones', { ...ok, PublicIpAddresses: [free!], AddressCount: 10 }, 'LimitExceeded.PublicIpAddressPerNatGatewayLimitExceeded'],
      ['bad bandwidth', { ...ok, PublicIpAddresses: [free!], InternetMaxBandwidthOut: 30 }, 'InvalidParameterValue.Range'],
      ['bad connections', { ...ok, PublicIpAddresses: [free!], MaxConcurrentConnection: 5 }, 'InvalidParameterValue.Range'],
      ['long name', { ...ok, NatGatewayName: 'x'.repeat(61), PublicIpAddresses: [free!] }, 'InvalidParameterValue.TooLong'],
      ['malformed VPC', { ...ok, VpcId: 'vpc-1', PublicIpAddresses: [free!] }, 'InvalidVpcId.Malformed'],
      ['missing VPC', { ...ok, VpcId: 'vpc-zzzzzzzz', PublicIpAddresses: [free!] }, 'InvalidVpcId.NotFound'],
      ['eleven EIPs', { ...ok, PublicIpAddresses: Array.from({ length: 11 }, (_, i) => `198.51.100.${200 + i}`) }, 'LimitExceeded.PublicIpAddressPerNatGatewayLimitExceeded'],
      ['bad zone', { ...ok, PublicIpAddresses: [free!], Zone: 'mars-1' }, 'UnsupportedOperation.NotSupportZone'],
    ];
    for (const [name, req, code] of cases) await refused(name, () => vpc().CreateNatGateway(req), code);
    const tenantVpc = (await vpc(tenant).CreateVpc({ VpcName: 't', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    await refused("another account's VPC", () => vpc().CreateNatGateway({ ...ok, VpcId: tenantVpc, PublicIpAddresses: [free!] }), 'InvalidVpcId.NotFound');
    assert.equal((await eipByIp(free!)).AddressStatus, 'UNBIND');
    // An EIP held by a gateway is refused by the EIP actions, with what to do instead.
    const heldEip = await eipByIp(held[0]!);
    const ins = await r.cvm().RunInstances({
      Placement: { Zone: 'local-1' },
      VirtualPrivateCloud: { VpcId: vpcId, SubnetId: (await vpc().CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.0.9.0/24', Zone: 'local-1' })).Subnet!.SubnetId! },
    });
    await refused('bind to an instance', () => vpc().AssociateAddress({ AddressId: heldEip.AddressId!, InstanceId: ins.InstanceIdSet![0]! }), 'UnsupportedOperation.AddressStatusNotPermit', /DisassociateNatGatewayAddress/);
    await refused('unbind as an instance EIP', () => vpc().DisassociateAddress({ AddressId: heldEip.AddressId! }), 'UnsupportedOperation.AddressStatusNotPermit', /DisassociateNatGatewayAddress/);
    await refused('release', () => vpc().ReleaseAddresses({ AddressIds: [heldEip.AddressId!] }), 'InvalidAddressState', /NAT gateway/);
    await r.cvm().TerminateInstances({ InstanceIds: ins.InstanceIdSet! });
    await vpc().DeleteNatGateway({ NatGatewayId: holder });
    void other;
  });

  it('allocates new EIPs for a gateway (AddressCount), which stay in the account when it goes', async () => {
    const res = await vpc().CreateNatGateway({ NatGatewayName: 'fresh', VpcId: vpcId, AddressCount: 2 });
    const id = res.NatGatewaySet![0]!.NatGatewayId!;
    await waitTask(res.RequestId!);
    const n = await waitAvailable(id);
    assert.equal(n.PublicIpAddressSet!.length, 2);
    const [given] = await eips(1);
    await vpc().AssociateNatGatewayAddress({ NatGatewayId: id, AddressCount: 1, PublicIpAddresses: [given!] });
    const set = (await describeNat(id)).PublicIpAddressSet!;
    assert.equal(set.length, 4);
    for (const a of set) {
      const eip = await eipByIp(a.PublicIpAddress!);
      assert.deepEqual([eip.AddressId, eip.InstanceType, eip.InstanceId, eip.InternetChargeType], [a.AddressId, 'NAT', id, 'TRAFFIC_POSTPAID_BY_HOUR']);
    }
    await refused('AddressCount 0', () => vpc().AssociateNatGatewayAddress({ NatGatewayId: id, AddressCount: 0 }), 'InvalidParameterValue.Malformed');
    await vpc().DeleteNatGateway({ NatGatewayId: id });
    const ids = set.map((a) => a.AddressId!);
    const after = await vpc().DescribeAddresses({ AddressIds: ids });
    assert.equal(after.TotalCount, 4);
    assert.ok(after.AddressSet!.every((a) => a.AddressStatus === 'UNBIND'));
    await vpc().ReleaseAddresses({ AddressIds: ids });
  });

  it('keeps at most natGatewayPerVpc (3) gateways in a VPC', async () => {
    const v = (await vpc().CreateVpc({ VpcName: 'q', CidrBlock: '10.2.0.0/16' })).Vpc!.VpcId!;
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await newNat({}, undefined, v)).id);
    const [ip] = await eips(1);
    await refused('a fourth', () => vpc().CreateNatGateway({ NatGatewayName: 'n', VpcId: v, PublicIpAddresses: [ip!] }), 'LimitExceeded.NatGatewayPerVpcLimitExceeded');
    await refused('DeleteVpc', () => vpc().DeleteVpc({ VpcId: v }), 'ResourceInUse', /NAT gateways/);
    for (const id of made) await vpc().DeleteNatGateway({ NatGatewayId: id });
    await vpc().DeleteVpc({ VpcId: v });
  });

  it('describes by IDs, filters and pages, and refuses IDs with filters', async () => {
    const a = await newNat({ NatGatewayName: 'alpha', Tags: [{ Key: 'env', Value: 'prod' }] });
    const b = await newNat({ NatGatewayName: 'beta' });
    const ids = async (req: Parameters<ReturnType<typeof vpc>['DescribeNatGateways']>[0]) =>
      ((await vpc().DescribeNatGateways(req)).NatGatewaySet ?? []).map((n) => n.NatGatewayId);
    assert.deepEqual(await ids({ Filters: [{ Name: 'nat-gateway-name', Values: ['alpha'] }] }), [a.id]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'nat-gateway-id', Values: [b.id] }] }), [b.id]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), [a.id, b.id]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag-key', Values: ['env'] }] }), [a.id]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag:env', Values: ['prod'] }] }), [a.id]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'nat-state', Values: ['AVAILABLE'] }] }), [a.id, b.id]);
    const page = await vpc().DescribeNatGateways({ Offset: 1, Limit: 1 });
    assert.equal(page.TotalCount, 2);
    assert.deepEqual(page.NatGatewaySet!.map((n) => n.NatGatewayId), [b.id]);
    assert.equal((await errorOf(vpc().DescribeNatGateways({ NatGatewayIds: [a.id], Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).code, 'InvalidParameter.Coexist');
    assert.equal((await errorOf(vpc().DescribeNatGateways({ Filters: [{ Name: 'colour', Values: ['x'] }] }))).code, 'InvalidParameter.FilterInvalidKey');
    assert.equal((await errorOf(vpc().DescribeNatGateways({ NatGatewayIds: ['nat-1'] }))).code, 'InvalidParameterValue.Malformed');
    // Another account sees none of them, and cannot act on them.
    assert.equal((await vpc(tenant).DescribeNatGateways({ NatGatewayIds: [a.id] })).TotalCount, 0);
    assert.equal((await vpc(tenant).DescribeNatGateways({})).TotalCount, 0);
    await refused('tenant modifies', () => vpc(tenant).ModifyNatGatewayAttribute({ NatGatewayId: a.id, NatGatewayName: 'x' }), 'ResourceNotFound');
    await refused('tenant deletes', () => vpc(tenant).DeleteNatGateway({ NatGatewayId: a.id }), 'ResourceNotFound');
    const foreign = await errorOf(vpc(tenant).DeleteNatGateway({ NatGatewayId: a.id }));
    const absent = await errorOf(vpc(tenant).DeleteNatGateway({ NatGatewayId: 'nat-zzzzzzzz' }));
    assert.equal(foreign.message.replaceAll(a.id, 'ID'), absent.message.replaceAll('nat-zzzzzzzz', 'ID'), 'a foreign gateway answers as a missing one');
    const tenantIps = await eips(1, tenant);
    await refused('tenant associates', () => vpc(tenant).AssociateNatGatewayAddress({ NatGatewayId: a.id, PublicIpAddresses: tenantIps }), 'ResourceNotFound');
    await refused('tenant disassociates', () => vpc(tenant).DisassociateNatGatewayAddress({ NatGatewayId: a.id, PublicIpAddresses: a.ips }), 'ResourceNotFound');
    for (const n of [a, b]) await vpc().DeleteNatGateway({ NatGatewayId: n.id });
  });

  it('modifies name, bandwidth and deletion protection', async () => {
    const { id } = await newNat();
    await vpc().ModifyNatGatewayAttribute({ NatGatewayId: id, NatGatewayName: 'renamed', InternetMaxBandwidthOut: 500, DeletionProtectionEnabled: true });
    const n = await describeNat(id);
    assert.equal(n.NatGatewayName, 'renamed');
    assert.equal(n.InternetMaxBandwidthOut, 500);
    assert.equal(n.DeletionProtectionEnabled, true);
    await refused('protected', () => vpc().DeleteNatGateway({ NatGatewayId: id }), 'UnsupportedOperation.DeletionProtectionEnabled');
    await refused('bad bandwidth', () => vpc().ModifyNatGatewayAttribute({ NatGatewayId: id, InternetMaxBandwidthOut: 7 }), 'InvalidParameterValue.Malformed');
    await refused('security groups', () => vpc().ModifyNatGatewayAttribute({ NatGatewayId: id, ModifySecurityGroup: true, SecurityGroupIds: [] }), 'UnsupportedOperation');
    await vpc().ModifyNatGatewayAttribute({ NatGatewayId: id, DeletionProtectionEnabled: false });
    await vpc().DeleteNatGateway({ NatGatewayId: id });
  });

  it('adds and removes EIPs: all or nothing, never the last one', async () => {
    const { id, ips } = await newNat();
    const more = await eips(2);
    const [boundElsewhere] = await eips(1);
    const { id: other } = await newNat({ PublicIpAddresses: [boundElsewhere!] });
    await refused('one held elsewhere', () => vpc().AssociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: [...more, boundElsewhere!] }), 'ResourceInUse.Address');
    await vpc().AssociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: more });
    assert.equal((await describeNat(id)).PublicIpAddressSet!.length, 3);
    await refused('not its EIP', () => vpc().DisassociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: [more[0]!, boundElsewhere!] }), 'ResourceNotFound');
    await refused('all of them', () => vpc().DisassociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: [...ips, ...more] }), 'UnsupportedOperation.PublicIpAddressDisassociate');
    await vpc().DisassociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: more });
    assert.deepEqual((await describeNat(id)).PublicIpAddressSet!.map((a) => a.PublicIpAddress), ips);
    for (const ip of more) assert.equal((await eipByIp(ip)).AddressStatus, 'UNBIND');
    const eleven = await eips(10);
    await refused('over ten', () => vpc().AssociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: eleven }), 'LimitExceeded.PublicIpAddressPerNatGatewayLimitExceeded');
    await vpc().ReleaseAddresses({ AddressIds: await Promise.all([...more, ...eleven].map(async (ip) => (await eipByIp(ip)).AddressId!)) });
    for (const n of [id, other]) await vpc().DeleteNatGateway({ NatGatewayId: n });
  });

  it('routes 0.0.0.0/0 to a gateway of the VPC, and a route blocks its deletion; deletion unbinds its EIPs', async () => {
    const { id, ips } = await newNat();
    const rtb = await mainTable();
    const route = (GatewayId: string) => ({ RouteTableId: rtb, Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayType: 'NAT', GatewayId }] });
    await refused('malformed', () => vpc().CreateRoutes(route('nat-1')), 'InvalidParameterValue.Malformed');
    await refused('missing', () => vpc().CreateRoutes(route('nat-zzzzzzzz')), 'InvalidParameterValue.RouteNextHopInvalid');
    const otherVpc = (await vpc().CreateVpc({ VpcName: 'o', CidrBlock: '10.3.0.0/16' })).Vpc!.VpcId!;
    const { id: elsewhere } = await newNat({}, undefined, otherVpc);
    await refused("another VPC's gateway", () => vpc().CreateRoutes(route(elsewhere)), 'InvalidParameterValue.RouteNextHopInvalid');
    const tenantVpc = (await vpc(tenant).CreateVpc({ VpcName: 't', CidrBlock: '10.4.0.0/16' })).Vpc!.VpcId!;
    const { id: foreign } = await newNat({}, tenant, tenantVpc);
    await refused("another account's gateway", () => vpc().CreateRoutes(route(foreign)), 'InvalidParameterValue.RouteNextHopInvalid');
    await vpc().CreateRoutes(route(id));
    const routes = (await vpc().DescribeRouteTables({ RouteTableIds: [rtb] })).RouteTableSet![0]!.RouteSet!;
    const r0 = routes.find((x) => x.GatewayType === 'NAT')!;
    assert.equal(r0.GatewayId, id);
    assert.equal(r0.DestinationCidrBlock, '0.0.0.0/0');
    await refused('routes point at it', () => vpc().DeleteNatGateway({ NatGatewayId: id }), 'UnsupportedOperation.NatGatewayHaveRoute', /0\.0\.0\.0\/0/);
    await vpc().DeleteRoutes({ RouteTableId: rtb, Routes: [loose<Route>({ RouteId: r0.RouteId! })] });
    await vpc().DeleteNatGateway({ NatGatewayId: id });
    assert.equal((await vpc().DescribeNatGateways({ NatGatewayIds: [id] })).TotalCount, 0);
    const a = await eipByIp(ips[0]!);
    assert.equal(a.AddressStatus, 'UNBIND');
    assert.equal(a.InstanceId, null);
    assert.equal(a.InstanceType, null);
    await vpc().ReleaseAddresses({ AddressIds: [a.AddressId!] });
    await vpc().DeleteNatGateway({ NatGatewayId: elsewhere });
    await vpc(tenant).DeleteNatGateway({ NatGatewayId: foreign });
  });

  it('a gateway whose task a controller restart cut short is resumed by the restarted controller', async () => {
    const { id, requestId } = await newNat();
    // As a controller that died mid-task leaves them: the gateway PENDING, its task RUNNING, owned by that replica.
    await store.db.updateTable('nat_gateways').set({ state: 'PENDING' }).where('id', '=', id).execute();
    await store.db.updateTable('tasks').set({ status: 'RUNNING', output: null }).where('id', '=', requestId).execute();
    assert.ok((await store.db.selectFrom('tasks').select('owner').where('id', '=', requestId).executeTakeFirstOrThrow()).owner);
    await r.restart();
    for (let i = 0; (await describeNat(id)).State !== 'AVAILABLE'; i++) {
      assert.ok(i < 200, 'the resumed task makes the gateway AVAILABLE');
      await new Promise((ok) => setTimeout(ok, 50));
    }
    assert.equal((await vpc().DescribeVpcTaskResult({ TaskId: requestId })).Status, 'SUCCESS');
    await vpc().DeleteNatGateway({ NatGatewayId: id });
  });

  it('a gateway whose task nobody can resume becomes PENDFAILURE, which can be deleted', async () => {
    const { id, requestId, ips } = await newNat();
    // A task without its work recorded (a controller older than task resumption left it): the restart cannot resume it.
    await store.db.updateTable('nat_gateways').set({ state: 'PENDING' }).where('id', '=', id).execute();
    await store.db.updateTable('tasks').set({ status: 'RUNNING', output: null, work: null }).where('id', '=', requestId).execute();
    await refused('delete while PENDING', () => vpc().DeleteNatGateway({ NatGatewayId: id }), 'UnsupportedOperation.MutexOperationTaskRunning');
    await r.restart();
    assert.equal((await describeNat(id)).State, 'PENDFAILURE');
    assert.equal((await vpc().DescribeVpcTaskResult({ TaskId: requestId })).Status, 'FAILED');
    await refused('associate to a failed gateway', () => vpc().AssociateNatGatewayAddress({ NatGatewayId: id, AddressCount: 1 }), 'UnsupportedOperation.InvalidState');
    await vpc().DeleteNatGateway({ NatGatewayId: id });
    assert.equal((await eipByIp(ips[0]!)).AddressStatus, 'UNBIND');
  });

  it("records 'nat_gateway' and 'vpc' changes, which the document cache knows", async () => {
    const rev = await store.revision();
    const { id } = await newNat();
    const changes = await store.db.selectFrom('changes').select(['kind', 'resource_id', 'op']).where('revision', '>', rev).execute();
    const kinds = changes.map((c) => `${c.kind}:${c.resource_id}:${c.op}`);
    assert.ok(kinds.includes(`nat_gateway:${id}:create`), kinds.join(' '));
    assert.ok(kinds.includes(`vpc:${vpcId}:update`), kinds.join(' '));
    await vpc().DeleteNatGateway({ NatGatewayId: id });
  });

  /** A subnet of the VPC with one instance: what SNAT and DNAT rules name. */
  const workload = async (cidr: string) => {
    const subnet = (await vpc().CreateSubnet({ VpcId: vpcId, SubnetName: 'w', CidrBlock: cidr, Zone: 'local-1' })).Subnet!;
    const insId = (await r.cvm().RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet.SubnetId! } })).InstanceIdSet![0]!;
    const ins = (await r.cvm().DescribeInstances({ InstanceIds: [insId] })).InstanceSet![0]!;
    const eni = (await store.db.selectFrom('instances').select('eni_id').where('id', '=', insId).executeTakeFirstOrThrow()).eni_id;
    return { subnetId: subnet.SubnetId!, cidr: subnet.CidrBlock!, insId, ip: ins.PrivateIpAddresses![0]!, eni };
  };

  it('keeps SNAT rules for a subnet or an interface over the gateway\'s EIPs, all or nothing', async () => {
    const { id, ips } = await newNat({ PublicIpAddresses: await eips(2) });
    const w = await workload('10.0.20.0/24');
    const [stranger] = await eips(1);
    const snat = (rules: object[]) => vpc().CreateNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, SourceIpTranslationNatRules: rules as never });
    const subnetRule = { ResourceType: 'SUBNET', ResourceId: w.subnetId, PrivateIpAddress: w.cidr, PublicIpAddresses: [ips[0]], Description: 'web' };
    const eniRule = { ResourceType: 'NETWORKINTERFACE', ResourceId: w.eni, PrivateIpAddress: w.ip, PublicIpAddresses: ips, Description: 'one' };
    await refused('an EIP not of the gateway', () => snat([subnetRule, { ...eniRule, PublicIpAddresses: [stranger] }]), 'UnsupportedOperation.NatGatewayEipNotExists');
    await refused('a subnet of no VPC of ours', () => snat([{ ...subnetRule, ResourceId: 'subnet-zzzzzzzz' }]), 'ResourceNotFound');
    await refused('the wrong interface address', () => snat([{ ...eniRule, PrivateIpAddress: '10.0.20.250' }]), 'UnsupportedOperation.NatGatewaySnatPipNeedVm');
    await refused('twice in one request', () => snat([subnetRule, subnetRule]), 'InvalidParameterValue.NatSnatRuleExists');
    await refused('USERDEFINED', () => snat([{ ...subnetRule, ResourceType: 'USERDEFINED', ResourceId: '' }]), 'InvalidParameterValue');
    await snat([subnetRule, eniRule]);
    await refused('again', () => snat([subnetRule]), 'InvalidParameterValue.NatSnatRuleExists');
    const list = await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id });
    assert.equal(list.TotalCount, 2);
    const rules = list.SourceIpTranslationNatRuleSet!;
    for (const x of rules) assert.deepEqual(Object.keys(x).sort(), modelFields('SourceIpTranslationNatRule'));
    const sub = rules.find((x) => x.ResourceType === 'SUBNET')!;
    assert.match(sub.NatGatewaySnatId!, /^snat-[0-9a-z]{8}$/);
    assert.deepEqual([sub.NatGatewayId, sub.VpcId, sub.PrivateIpAddress, sub.Description], [id, vpcId, w.cidr, 'web']);
    assert.equal((await describeNat(id)).SourceIpTranslationNatRuleSet!.length, 2);
    const filtered = await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id, Filters: [{ Name: 'resource-id', Values: [w.eni] }] });
    assert.deepEqual(filtered.SourceIpTranslationNatRuleSet!.map((x) => x.ResourceId), [w.eni]);
    const paged = await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id, Offset: 1, Limit: 1 });
    assert.equal(paged.TotalCount, 2);
    assert.equal(paged.SourceIpTranslationNatRuleSet!.length, 1);
    // Modify changes only the EIPs and the description, of the rule named by its ID.
    await vpc().ModifyNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, SourceIpTranslationNatRule: { ...subnetRule, NatGatewaySnatId: sub.NatGatewaySnatId, PublicIpAddresses: ips, Description: 'all' } });
    const after = (await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id, Filters: [{ Name: 'resource-id', Values: [w.subnetId] }] })).SourceIpTranslationNatRuleSet![0]!;
    assert.deepEqual([after.PublicIpAddresses!.sort(), after.Description], [[...ips].sort(), 'all']);
    await refused('modify to a foreign EIP', () => vpc().ModifyNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, SourceIpTranslationNatRule: { ...subnetRule, NatGatewaySnatId: sub.NatGatewaySnatId, PublicIpAddresses: [stranger!] } }), 'UnsupportedOperation.UnbindEIP');
    await refused('modify a missing rule', () => vpc().ModifyNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, SourceIpTranslationNatRule: { ...subnetRule, NatGatewaySnatId: 'snat-zzzzzzzz' } }), 'InvalidParameterValue.NatGatewaySnatRuleNotExists');
    await refused('tenant describes', () => vpc(tenant).DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id }), 'ResourceNotFound');
    await refused('tenant deletes', () => vpc(tenant).DeleteNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, NatGatewaySnatIds: [sub.NatGatewaySnatId!] }), 'ResourceNotFound');
    // An EIP leaving the gateway leaves its rules; a rule left with none is deleted.
    await vpc().ModifyNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, SourceIpTranslationNatRule: { ...subnetRule, NatGatewaySnatId: sub.NatGatewaySnatId, PublicIpAddresses: [ips[1]!] } });
    await vpc().DisassociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: [ips[1]!] });
    const left = (await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id })).SourceIpTranslationNatRuleSet!;
    assert.deepEqual(left.map((x) => [x.ResourceId, x.PublicIpAddresses]), [[w.eni, [ips[0]]]]);
    // A terminated instance takes its interface's rule with it.
    await r.cvm().TerminateInstances({ InstanceIds: [w.insId] });
    assert.equal((await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id })).TotalCount, 0);
    await snat([subnetRule]);
    const again = (await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id })).SourceIpTranslationNatRuleSet![0]!;
    await refused('delete one missing of two', () => vpc().DeleteNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, NatGatewaySnatIds: [again.NatGatewaySnatId!, 'snat-zzzzzzzz'] }), 'InvalidParameterValue.NatGatewaySnatRuleNotExists');
    await vpc().DeleteNatGatewaySourceIpTranslationNatRule({ NatGatewayId: id, NatGatewaySnatIds: [again.NatGatewaySnatId!] });
    assert.equal((await vpc().DescribeNatGatewaySourceIpTranslationNatRules({ NatGatewayId: id })).TotalCount, 0);
    await snat([subnetRule]);
    await vpc().DeleteNatGateway({ NatGatewayId: id });
    await vpc().DeleteSubnet({ SubnetId: w.subnetId });
  });

  it('forwards ports (DNAT): one rule per public address, port and protocol, named by its five fields', async () => {
    const { id, ips } = await newNat();
    const w = await workload('10.0.21.0/24');
    const [stranger] = await eips(1);
    const rule = { IpProtocol: 'TCP', PublicIpAddress: ips[0]!, PublicPort: 8080, PrivateIpAddress: w.ip, PrivatePort: 80, Description: 'web' };
    const create = (rules: (typeof rule)[]) => vpc().CreateNatGatewayDestinationIpPortTranslationNatRule({ NatGatewayId: id, DestinationIpPortTranslationNatRules: rules });
    await refused('an EIP not of the gateway', () => create([rule, { ...rule, PublicPort: 9090, PublicIpAddress: stranger! }]), 'UnsupportedOperation.NatGatewayEipNotExists');
    await refused('no instance there', () => create([{ ...rule, PrivateIpAddress: '10.0.21.250' }]), 'InvalidParameterValue.NatGatewayDnatRulePipNeedVm');
    await refused('bad protocol', () => create([{ ...rule, IpProtocol: 'ICMP' }]), 'InvalidParameterValue.Malformed');
    await refused('bad port', () => create([{ ...rule, PublicPort: 70000 }]), 'InvalidParameterValue.Malformed');
    await refused('repeated in the request', () => create([rule, { ...rule, PrivatePort: 81 }]), 'InvalidParameterValue.NatGatewayDnatRuleRepeated');
    await create([rule, { ...rule, IpProtocol: 'UDP' }]);
    await refused('same public address, port and protocol', () => create([{ ...rule, PrivatePort: 81 }]), 'InvalidParameterValue.NatGatewayDnatRuleExisted');
    const all = await vpc().DescribeNatGatewayDestinationIpPortTranslationNatRules({ NatGatewayIds: [id] });
    assert.equal(all.TotalCount, 2);
    for (const x of all.NatGatewayDestinationIpPortTranslationNatRuleSet!) assert.deepEqual(Object.keys(x).sort(), modelFields('NatGatewayDestinationIpPortTranslationNatRule'));
    const udp = await vpc().DescribeNatGatewayDestinationIpPortTranslationNatRules({ Filters: [{ Name: 'nat-gateway-id', Values: [id] }, { Name: 'public-port', Values: ['8080'] }] });
    assert.equal(udp.TotalCount, 2);
    assert.equal((await describeNat(id)).DestinationIpPortTranslationNatRuleSet!.length, 2);
    assert.equal((await vpc(tenant).DescribeNatGatewayDestinationIpPortTranslationNatRules({ NatGatewayIds: [id] })).TotalCount, 0, "another account's rules");
    assert.equal((await errorOf(vpc().DescribeNatGatewayDestinationIpPortTranslationNatRules({ NatGatewayIds: [id], Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).code, 'InvalidParameter.Coexist');
    // Modify names the old rule by all five fields.
    await refused('old rule not matching', () => vpc().ModifyNatGatewayDestinationIpPortTranslationNatRule({ NatGatewayId: id, SourceNatRule: { ...rule, PrivatePort: 99 }, DestinationNatRule: { ...rule, PublicPort: 8443 } }), 'InvalidParameterValue.NatGatewayDnatRuleNotExists');
    await refused('onto the UDP rule', () => vpc().ModifyNatGatewayDestinationIpPortTranslationNatRule({ NatGatewayId: id, SourceNatRule: rule, DestinationNatRule: { ...rule, IpProtocol: 'UDP' } }), 'UnsupportedOperation.RecordExists');
    await vpc().ModifyNatGatewayDestinationIpPortTranslationNatRule({ NatGatewayId: id, SourceNatRule: rule, DestinationNatRule: { ...rule, PublicPort: 8443, Description: 'tls' } });
    const tcp = (await vpc().DescribeNatGatewayDestinationIpPortTranslationNatRules({ Filters: [{ Name: 'public-port', Values: ['8443'] }] })).NatGatewayDestinationIpPortTranslationNatRuleSet!;
    assert.deepEqual(tcp.map((x) => [x.IpProtocol, x.PublicPort, x.PrivatePort, x.Description]), [['TCP', 8443, 80, 'tls']]);
    // An EIP that forwards ports stays on the gateway until its rules go.
    const [second] = await eips(1);
    await vpc().AssociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: [second!] });
    await refused('disassociate a forwarding EIP', () => vpc().DisassociateNatGatewayAddress({ NatGatewayId: id, PublicIpAddresses: [ips[0]!] }), 'ResourceInUse');
    const moved = { ...rule, PublicPort: 8443, Description: 'tls' };
    await refused('delete one missing of two', () => vpc().DeleteNatGatewayDestinationIpPortTranslationNatRule({ NatGatewayId: id, DestinationIpPortTranslationNatRules: [moved, rule] }), 'InvalidParameterValue.NatGatewayDnatRuleNotExists');
    await vpc().DeleteNatGatewayDestinationIpPortTranslationNatRule({ NatGatewayId: id, DestinationIpPortTranslationNatRules: [moved, { ...rule, IpProtocol: 'UDP' }] });
    assert.equal((await vpc().DescribeNatGatewayDestinationIpPortTranslationNatRules({ NatGatewayIds: [id] })).TotalCount, 0);
    await create([rule]);
    await vpc().DeleteNatGateway({ NatGatewayId: id });
    assert.equal((await vpc().DescribeNatGatewayDestinationIpPortTranslationNatRules({ NatGatewayIds: [id] })).TotalCount, 0, 'rules go with their gateway');
    await r.cvm().TerminateInstances({ InstanceIds: [w.insId] });
    await vpc().DeleteSubnet({ SubnetId: w.subnetId });
  });
});
