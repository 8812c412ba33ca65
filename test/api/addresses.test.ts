/**
 * Elastic IPs through the official SDK (vpc AllocateAddresses … DescribeAddressQuota, and cvm DescribeInstances /
 * TerminateInstances where EIPs show), against a real server on SQLite or PostgreSQL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Address, AllocateAddressesRequest, AssociateAddressRequest, ModifyAddressAttributeRequest } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, errorOf, loose, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

/** What an EIP test needs of a region: the server, its store, and the account's network to bind to. */
async function setUp(extra: string[] = []) {
  const r = await startRegion(extra);
  const store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
  return { r, store };
}

/** A VPC with a subnet in local-1 for the account, and a way to launch instances in it. */
async function network(r: TestRegion, creds?: Creds, cidr = '10.0.0.0/16') {
  const vpc = r.vpc(creds);
  const vpcId = (await vpc.CreateVpc({ VpcName: 'v', CidrBlock: cidr })).Vpc!.VpcId!;
  const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: cidr.replace('0.0/16', '1.0/24'), Zone: 'local-1' })).Subnet!.SubnetId!;
  const launch = async (n = 1) =>
    (await r.cvm(creds).RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, InstanceCount: n })).InstanceIdSet!;
  return { vpcId, subnetId, launch };
}

describe(`elastic IPs through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let net: Awaited<ReturnType<typeof network>>;
  let tenant: Creds;
  before(async () => {
    ({ r, store } = await setUp());
    net = await network(r);
    tenant = await r.newAccount('eip-tenant');
    // The tests below allocate more than Tencent's 40 a day; the quota itself is tested on an account of its own.
    await setQuota('admin', 100);
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const vpc = (creds?: Creds) => r.vpc(creds);
  const allocate = async (req: AllocateAddressesRequest = {}, creds?: Creds) => (await vpc(creds).AllocateAddresses(req)).AddressSet!;
  const describeEip = async (id: string, creds?: Creds): Promise<Address> => {
    const res = await vpc(creds).DescribeAddresses({ AddressIds: [id] });
    assert.equal(res.TotalCount, 1, `${id} is described`);
    return res.AddressSet![0]!;
  };
  const instance = async (id: string) => (await r.cvm().DescribeInstances({ InstanceIds: [id] })).InstanceSet![0]!;
  const changesSince = async (rev: number) =>
    (await store.db.selectFrom('changes').select(['kind', 'resource_id', 'op']).where('revision', '>', rev).orderBy('revision').execute()).map(
      (c) => `${c.kind}:${c.resource_id}:${c.op}`,
    );
  /** Everything the EIP actions write, to prove a rejected call changed nothing. */
  const state = async () => ({
    revision: await store.revision(),
    addresses: await store.db.selectFrom('addresses').selectAll().orderBy('id').execute(),
    usage: await store.db.selectFrom('usage').selectAll().orderBy('account').orderBy('kind').execute(),
    tags: await store.db.selectFrom('tags').selectAll().orderBy('resource_id').orderBy('key').execute(),
  });
  const dbArgs = () => (r.database ? ['--database', r.database] : []);
  /** Each case is refused with its code (and a message matching, if given) and writes nothing. */
  async function refused<Req>(cases: [string, Req, string, RegExp?][], call: (req: Req) => Promise<unknown>) {
    for (const [name, req, code, message] of cases) {
      const before_ = await state();
      const e = await errorOf(call(req));
      assert.equal(e.code, code, `${name}: ${e.message}`);
      if (message) assert.match(e.message, message, name);
      assert.deepEqual(await state(), before_, `${name}: nothing written`);
    }
  }
  const setQuota = async (name: string, value: number) => {
    const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', name, ...dbArgs(), '--set', `eipPerAccount=${value}`]);
    assert.equal(q.code, 0, q.stderr);
  };

  it('allocates an EIP with every field of the SDK model, a finished task, tags and a change record', async () => {
    const rev = await store.revision();
    const res = await vpc().AllocateAddresses({ AddressName: 'web-1', InternetMaxBandwidthOut: 10, Tags: [{ Key: 'env', Value: 'dev' }] });
    const [id] = res.AddressSet!;
    assert.match(id!, /^eip-[0-9a-z]{8}$/);
    assert.equal(res.AddressSet!.length, 1);
    const task = await vpc().DescribeVpcTaskResult({ TaskId: res.TaskId! });
    assert.equal(task.Status, 'SUCCESS');

    const eip = await describeEip(id!);
    assert.deepEqual(Object.keys(eip).sort(), modelFields('Address'));
    const { CreatedTime, AddressIp, ...rest } = eip;
    assert.match(CreatedTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(AddressIp!, /^(198\.51\.100|203\.0\.113)\.\d+$/);
    assert.deepEqual(rest, {
      AddressId: id,
      AddressName: 'web-1',
      AddressStatus: 'UNBIND',
      InstanceId: null,
      NetworkInterfaceId: null,
      PrivateAddressIp: null,
      IsArrears: false,
      IsBlocked: false,
      IsEipDirectConnection: false,
      AddressType: 'EIP',
      CascadeRelease: false,
      EipAlgType: { Ftp: false, Sip: false },
      InternetServiceProvider: 'BGP',
      LocalBgp: false,
      Bandwidth: 10,
      InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR',
      TagSet: [{ Key: 'env', Value: 'dev' }],
      DeadlineDate: null,
      InstanceType: null,
      Egress: null,
      AntiDDoSPackageId: '',
      RenewFlag: '',
      BandwidthPackageId: null,
      UnVpcId: '',
      DedicatedClusterId: '',
    });
    assert.deepEqual(await changesSince(rev), [`address:${id}:create`], 'an unbound EIP reaches no host');

    // Unnamed, it is answered as Tencent answers it: null. Prepaid EIPs echo their period and renewal.
    const [plain] = await allocate({ InternetChargeType: 'BANDWIDTH_PREPAID_BY_MONTH', InternetMaxBandwidthOut: 200, AddressChargePrepaid: { Period: 2, AutoRenewFlag: 0 } });
    const p = await describeEip(plain!);
    assert.equal(p.AddressName, null);
    assert.equal(p.InternetChargeType, 'BANDWIDTH_PREPAID_BY_MONTH');
    assert.equal(p.RenewFlag, 'NOTIFY_AND_MANUAL_RENEW');
    const days = (new Date(p.DeadlineDate!).getTime() - new Date(p.CreatedTime!).getTime()) / 86_400_000;
    assert.ok(days >= 59 && days <= 62, `two months after creation: ${p.DeadlineDate} vs ${p.CreatedTime}`);
    await vpc().ReleaseAddresses({ AddressIds: [id!, plain!] });
  });

  it('refuses what Weft has no public network for, and bad values, writing nothing', async () => {
    const cases: [string, AllocateAddressesRequest, string, RegExp?][] = [
      ['an Anycast EIP', { AddressType: 'AnycastEIP' }, 'UnauthorizedOperation.AnycastEip'],
      ['a high-quality EIP', { AddressType: 'HighQualityEIP' }, 'UnsupportedOperation.UnsupportedRegion', /HighQualityEIP/],
      ['a static single-line ISP', { InternetServiceProvider: 'CMCC' }, 'UnsupportedOperation.UnsupportedRegion', /CMCC/],
      ['an unknown ISP', { InternetServiceProvider: 'XYZ' }, 'InvalidParameterValue'],
      ['a bandwidth package', { InternetChargeType: 'BANDWIDTH_PACKAGE' }, 'InvalidParameterValue.BandwidthPackageNotFound'],
      ['a bandwidth package ID', { BandwidthPackageId: 'bwp-12345678' }, 'InvalidParameterValue.BandwidthPackageNotFound'],
      ['a dedicated cluster', { DedicatedClusterId: 'cluster-12345678' }, 'InvalidParameterValue.InvalidDedicatedClusterId'],
      ['no bandwidth', { InternetMaxBandwidthOut: 0 }, 'InvalidParameterValue.BandwidthTooSmall'],
      ['more than 100 Mbps by traffic', { InternetMaxBandwidthOut: 101 }, 'InvalidParameterValue.BandwidthOutOfRange', /1 to 100/],
      ['more than 200 Mbps prepaid', { InternetChargeType: 'BANDWIDTH_PREPAID_BY_MONTH', InternetMaxBandwidthOut: 201, AddressChargePrepaid: { Period: 1 } }, 'InvalidParameterValue.BandwidthOutOfRange'],
      ['prepaid without its period', { InternetChargeType: 'BANDWIDTH_PREPAID_BY_MONTH' }, 'MissingParameter', /AddressChargePrepaid/],
      ['a prepaid period of 13 months', { InternetChargeType: 'BANDWIDTH_PREPAID_BY_MONTH', AddressChargePrepaid: { Period: 13 } }, 'InvalidParameterValue.Range'],
      ['no addresses', { AddressCount: 0 }, 'InvalidParameterValue.Range'],
      ['a name with a space', { AddressName: 'web 1' }, 'InvalidParameterValue', /no spaces/],
      ['a name of 129 characters', { AddressName: 'n'.repeat(129) }, 'InvalidParameterValue.TooLong'],
      ['VipCluster and a different AddressCount', { VipCluster: ['198.51.100.200'], AddressCount: 2 }, 'InvalidParameterValue.Combination'],
      ['a VipCluster address outside the pools', { VipCluster: ['192.0.2.7'] }, 'InvalidParameterValue.AddressIpNotAvailable', /198\.51\.100\.0\/24/],
      ['a pool\'s gateway address', { VipCluster: ['203.0.113.1'] }, 'InvalidParameterValue.AddressIpNotAvailable', /kept back/],
      ['a pool\'s broadcast address', { VipCluster: ['203.0.113.255'] }, 'InvalidParameterValue.AddressIpNotAvailable', /kept back/],
      ['the same address twice', { VipCluster: ['203.0.113.77', '203.0.113.77'] }, 'InvalidParameterValue.AddressIpNotAvailable', /VipCluster\.1/],
      ['duplicate tag keys', { Tags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] }, 'InvalidParameterValue.Duplicate'],
    ];
    await refused(cases, (req) => vpc().AllocateAddresses(req));
  });

  it('gives a named address (VipCluster) once, and never the same address to two accounts', async () => {
    const [mine] = await allocate({ VipCluster: ['203.0.113.77'] });
    assert.equal((await describeEip(mine!)).AddressIp, '203.0.113.77');
    const e = await errorOf(vpc(tenant).AllocateAddresses({ VipCluster: ['203.0.113.77'] }));
    assert.equal(e.code, 'InvalidParameterValue.AddressIpNotAvailable');
    const [theirs] = await allocate({}, tenant);
    assert.notEqual((await describeEip(theirs!, tenant)).AddressIp, '203.0.113.77');
    await vpc().ReleaseAddresses({ AddressIds: [mine!] });
    await vpc(tenant).ReleaseAddresses({ AddressIds: [theirs!] });
  });

  it('describes by IDs and every filter, pages with a stable order, and refuses bad queries', async () => {
    const ids = await allocate({ AddressCount: 3, AddressName: 'flt', Tags: [{ Key: 'team', Value: 'blue' }] });
    const [other] = await allocate({ AddressName: 'flt-other', InternetMaxBandwidthOut: 5 });
    const [inst] = await net.launch();
    await vpc().AssociateAddress({ AddressId: ids[0]!, InstanceId: inst! });
    const bound = await describeEip(ids[0]!);
    const all = [...ids, other!];
    const match = async (Filters: { Name: string; Values: string[] }[]) => {
      const res = await vpc().DescribeAddresses({ Filters, Limit: 100 });
      const got = res.AddressSet!.map((a) => a.AddressId!).filter((id) => all.includes(id));
      assert.equal(res.TotalCount, res.AddressSet!.length, `${JSON.stringify(Filters)}: TotalCount counts the matches`);
      return got.sort();
    };
    const sorted = (l: string[]) => [...l].sort();
    assert.deepEqual(await match([{ Name: 'address-id', Values: [ids[1]!, other!] }]), sorted([ids[1]!, other!]));
    assert.deepEqual(await match([{ Name: 'address-name', Values: ['flt'] }]), sorted(ids), 'exact, not fuzzy');
    assert.deepEqual(await match([{ Name: 'address-name', Values: ['flt-other', 'flt'] }]), [other!], 'only the first name counts, as on Tencent');
    assert.deepEqual(await match([{ Name: 'address-ip', Values: [bound.AddressIp!] }]), [ids[0]!]);
    assert.deepEqual(await match([{ Name: 'address-status', Values: ['BIND'] }]), [ids[0]!]);
    assert.deepEqual(await match([{ Name: 'address-status', Values: ['UNBIND'] }]), sorted([ids[1]!, ids[2]!, other!]));
    assert.deepEqual(await match([{ Name: 'instance-id', Values: [inst!] }]), [ids[0]!]);
    assert.deepEqual(await match([{ Name: 'private-ip-address', Values: [bound.PrivateAddressIp!] }]), [ids[0]!]);
    assert.deepEqual(await match([{ Name: 'network-interface-id', Values: [bound.NetworkInterfaceId!] }]), [ids[0]!]);
    assert.deepEqual(await match([{ Name: 'is-arrears', Values: ['FALSE'] }]), sorted(all));
    assert.deepEqual(await match([{ Name: 'is-arrears', Values: ['TRUE'] }]), []);
    assert.deepEqual(await match([{ Name: 'instance-type', Values: ['CVM'] }]), [ids[0]!]);
    assert.deepEqual(await match([{ Name: 'instance-type', Values: ['NAT'] }]), []);
    assert.deepEqual(await match([{ Name: 'address-type', Values: ['EIP'] }]), sorted(all));
    assert.deepEqual(await match([{ Name: 'address-type', Values: ['WanIP'] }]), []);
    assert.deepEqual(await match([{ Name: 'address-isp', Values: ['BGP'] }]), sorted(all));
    assert.deepEqual(await match([{ Name: 'dedicated-cluster-id', Values: ['cluster-1'] }]), []);
    assert.deepEqual(await match([{ Name: 'tag-key', Values: ['team'] }]), sorted(ids));
    assert.deepEqual(await match([{ Name: 'tag-value', Values: ['blue'] }]), sorted(ids));
    assert.deepEqual(await match([{ Name: 'tag:team', Values: ['blue'] }]), sorted(ids));
    assert.deepEqual(await match([{ Name: 'tag:team', Values: ['red'] }]), []);
    assert.deepEqual(await match([{ Name: 'address-name', Values: ['flt'] }, { Name: 'address-status', Values: ['UNBIND'] }]), sorted([ids[1]!, ids[2]!]), 'filters AND');

    // Unfiltered: the account's count; pages in creation order, then ID.
    const everything = await vpc().DescribeAddresses({ Limit: 100 });
    assert.equal(everything.TotalCount, everything.AddressSet!.length);
    const order = everything.AddressSet!.map((a) => a.AddressId!);
    const pages: string[] = [];
    for (let offset = 0; offset < order.length; offset += 2) {
      const page = await vpc().DescribeAddresses({ Offset: offset, Limit: 2 });
      assert.equal(page.TotalCount, order.length);
      pages.push(...page.AddressSet!.map((a) => a.AddressId!));
    }
    assert.deepEqual(pages, order);
    assert.deepEqual((await vpc().DescribeAddresses({ AddressIds: ['eip-00000000'] })).AddressSet, []);

    const bad: [string, object, string][] = [
      ['an unknown filter', { Filters: [{ Name: 'vpc-id', Values: ['x'] }] }, 'InvalidParameter.InvalidFilter'],
      ['a filter without values', { Filters: [{ Name: 'address-ip', Values: [] }] }, 'InvalidParameter.InvalidFilter'],
      ['is-arrears not TRUE/FALSE', { Filters: [{ Name: 'is-arrears', Values: ['maybe'] }] }, 'InvalidParameter.InvalidFilter'],
      ['eleven filters', { Filters: Array.from({ length: 11 }, () => ({ Name: 'address-ip', Values: ['1.1.1.1'] })) }, 'LimitExceeded.NumberOfFilters'],
      ['101 values', { Filters: [{ Name: 'address-ip', Values: Array.from({ length: 101 }, (_, i) => `1.1.1.${i}`) }] }, 'InvalidParameterValue.LimitExceeded'],
      ['AddressIds with the address-id filter', { AddressIds: [ids[0]!], Filters: [{ Name: 'address-id', Values: [ids[0]!] }] }, 'InvalidParameter'],
      ['a malformed ID', { AddressIds: ['eip-1'] }, 'InvalidParameterValue.AddressIdMalformed'],
      ['101 IDs', { AddressIds: Array.from({ length: 101 }, () => ids[0]!) }, 'InvalidParameterValue.LimitExceeded'],
      ['a Limit over 100', { Limit: 101 }, 'InvalidParameterValue.Range'],
    ];
    for (const [name, req, code] of bad) assert.equal(await errorCode(vpc().DescribeAddresses(loose(req))), code, name);

    await vpc().DisassociateAddress({ AddressId: ids[0]! });
    await vpc().ReleaseAddresses({ AddressIds: all });
    await r.cvm().TerminateInstances({ InstanceIds: [inst!] });
  });

  it('binds to an instance and unbinds; DescribeInstances shows it; the instance\'s VPC is told each time', async () => {
    const [id] = await allocate();
    const [inst] = await net.launch();
    const row = await store.db.selectFrom('instances').selectAll().where('id', '=', inst!).executeTakeFirstOrThrow();
    const ip = (await describeEip(id!)).AddressIp!;
    assert.deepEqual((await instance(inst!)).PublicIpAddresses, [], 'no public address before');

    let rev = await store.revision();
    const res = await vpc().AssociateAddress({ AddressId: id!, InstanceId: inst! });
    assert.equal((await vpc().DescribeVpcTaskResult({ TaskId: res.TaskId! })).Status, 'SUCCESS');
    const eip = await describeEip(id!);
    assert.deepEqual(
      [eip.AddressStatus, eip.InstanceId, eip.NetworkInterfaceId, eip.PrivateAddressIp, eip.InstanceType, eip.IsEipDirectConnection],
      ['BIND', inst, row.eni_id, row.private_ip, 'CVM', false],
    );
    assert.deepEqual(await changesSince(rev), [`address:${id}:update`, `vpc:${net.vpcId}:update`]);
    assert.deepEqual((await instance(inst!)).PublicIpAddresses, [ip]);
    const byIp = await r.cvm().DescribeInstances({ Filters: [{ Name: 'public-ip-address', Values: [ip] }] });
    assert.deepEqual(byIp.InstanceSet!.map((i) => i.InstanceId), [inst]);

    rev = await store.revision();
    const un = await vpc().DisassociateAddress({ AddressId: id! });
    assert.equal((await vpc().DescribeVpcTaskResult({ TaskId: un.TaskId! })).Status, 'SUCCESS');
    const after_ = await describeEip(id!);
    assert.deepEqual([after_.AddressStatus, after_.InstanceId, after_.NetworkInterfaceId, after_.PrivateAddressIp, after_.InstanceType], ['UNBIND', null, null, null, null]);
    assert.equal(after_.AddressIp, ip, 'the address stays with the EIP');
    assert.deepEqual(await changesSince(rev), [`address:${id}:update`, `vpc:${net.vpcId}:update`]);
    assert.deepEqual((await instance(inst!)).PublicIpAddresses, []);
    assert.equal((await r.cvm().DescribeInstances({ Filters: [{ Name: 'public-ip-address', Values: [ip] }] })).TotalCount, 0);

    // By network interface and private address, with direct connection asked for.
    await vpc().AssociateAddress({ AddressId: id!, NetworkInterfaceId: row.eni_id, PrivateIpAddress: row.private_ip, EipDirectConnection: true });
    const viaEni = await describeEip(id!);
    assert.deepEqual([viaEni.AddressStatus, viaEni.InstanceId, viaEni.IsEipDirectConnection], ['BIND', inst, true]);
    await vpc().DisassociateAddress({ AddressId: id! });
    assert.equal((await describeEip(id!)).IsEipDirectConnection, false, 'direct connection belongs to the binding');
    await vpc().ReleaseAddresses({ AddressIds: [id!] });
    await r.cvm().TerminateInstances({ InstanceIds: [inst!] });
  });

  it('refuses bad bindings with Tencent\'s codes and writes nothing', async () => {
    const [a, b, c] = await allocate({ AddressCount: 3 });
    const [x, y, stopped] = await net.launch(3);
    const other = await network(r, tenant);
    const [foreignInst] = await other.launch();
    const [foreignEip] = await allocate({}, tenant);
    const [gone] = await net.launch();
    await r.cvm().TerminateInstances({ InstanceIds: [gone!] });
    const row = (id: string) => store.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const xr = await row(x!);
    await vpc().AssociateAddress({ AddressId: a!, InstanceId: x! });
    // A stopped instance that stopped charging cannot hold an EIP (the host plays no part here, so the state is set).
    await store.write((w) => w.tx.updateTable('instances').set({ state: 'STOPPED', spec: JSON.stringify({ StoppedMode: 'STOP_CHARGING' }) }).where('id', '=', stopped!).execute());

    const cases: [string, AssociateAddressRequest, string, RegExp?][] = [
      ['an EIP bound already', { AddressId: a!, InstanceId: y! }, 'UnsupportedOperation.AddressStatusNotPermit', new RegExp(x!)],
      ['an instance holding an EIP', { AddressId: b!, InstanceId: x! }, 'InvalidInstanceId.AlreadyBindEip', new RegExp(a!)],
      ['a private address holding an EIP', { AddressId: b!, NetworkInterfaceId: xr.eni_id, PrivateIpAddress: xr.private_ip }, 'InvalidPrivateIpAddress.AlreadyBindEip'],
      ['both an instance and an interface', { AddressId: b!, InstanceId: y!, NetworkInterfaceId: xr.eni_id, PrivateIpAddress: xr.private_ip }, 'InvalidParameterConflict'],
      ['neither', { AddressId: b! }, 'InvalidParameterValue.MissingAssociateEntity'],
      ['an interface without its address', { AddressId: b!, NetworkInterfaceId: xr.eni_id }, 'MissingParameter', /PrivateIpAddress/],
      ['a private address with an instance', { AddressId: b!, InstanceId: y!, PrivateIpAddress: '10.0.1.9' }, 'InvalidParameterValue.Combination'],
      ['another address of the interface', { AddressId: b!, NetworkInterfaceId: xr.eni_id, PrivateIpAddress: '10.0.1.250' }, 'InvalidNetworkInterfaceId.NotFound', /10\.0\.1\.250/],
      ['a missing interface', { AddressId: b!, NetworkInterfaceId: 'eni-00000000', PrivateIpAddress: '10.0.1.2' }, 'InvalidNetworkInterfaceId.NotFound'],
      ['a missing instance', { AddressId: b!, InstanceId: 'ins-00000000' }, 'InvalidInstanceId.NotFound'],
      ['a terminated instance', { AddressId: b!, InstanceId: gone! }, 'InvalidInstanceId.NotFound', new RegExp(gone!)],
      ['another account\'s instance', { AddressId: b!, InstanceId: foreignInst! }, 'InvalidInstanceId.NotFound'],
      ['another account\'s EIP', { AddressId: foreignEip!, InstanceId: y! }, 'InvalidAddressId.NotFound'],
      ['a missing EIP', { AddressId: 'eip-00000000', InstanceId: y! }, 'InvalidAddressId.NotFound'],
      ['a malformed EIP ID', { AddressId: 'eip-1', InstanceId: y! }, 'InvalidParameterValue.AddressIdMalformed'],
      ['a malformed instance ID', { AddressId: b!, InstanceId: 'i-1' }, 'InvalidParameterValue.InstanceIdMalformed'],
      ['a stopped instance that stopped charging', { AddressId: b!, InstanceId: stopped! }, 'UnsupportedOperation.InstanceStatusNotPermit'],
    ];
    await refused(cases, (req) => vpc().AssociateAddress(req));
    const before_ = await state();
    assert.equal(await errorCode(vpc().DisassociateAddress({ AddressId: b! })), 'UnsupportedOperation.AddressStatusNotPermit', 'unbinding an unbound EIP');
    assert.equal(await errorCode(vpc().DisassociateAddress({ AddressId: a!, ReallocateNormalPublicIp: true })), 'InvalidParameterValue.ResourceNotSupport');
    assert.equal(await errorCode(vpc(tenant).DisassociateAddress({ AddressId: a! })), 'InvalidAddressId.NotFound', 'another account\'s EIP');
    assert.deepEqual(await state(), before_);

    await vpc().DisassociateAddress({ AddressId: a! });
    await vpc().ReleaseAddresses({ AddressIds: [a!, b!, c!] });
    await vpc(tenant).ReleaseAddresses({ AddressIds: [foreignEip!] });
    await r.cvm().TerminateInstances({ InstanceIds: [x!, y!, stopped!] });
    await r.cvm(tenant).TerminateInstances({ InstanceIds: [foreignInst!] });
  });

  it('releases only unbound EIPs, all of a batch or none', async () => {
    const [a, b, c] = await allocate({ AddressCount: 3, Tags: [{ Key: 'k', Value: 'v' }] });
    const [inst] = await net.launch();
    await vpc().AssociateAddress({ AddressId: c!, InstanceId: inst! });
    const [foreign] = await allocate({}, tenant);
    const cases: [string, string[], string, RegExp?][] = [
      ['a bound EIP', [c!], 'InvalidAddressState', new RegExp(`${c}.*${inst}`)],
      ['a batch with a bound EIP', [a!, b!, c!], 'InvalidAddressState', new RegExp(c!)],
      ['a batch with a missing EIP', [a!, 'eip-00000000'], 'InvalidAddressId.NotFound', /eip-00000000/],
      ['a batch with another account\'s EIP', [a!, foreign!], 'InvalidAddressId.NotFound', new RegExp(foreign!)],
      ['a batch with a malformed ID', [a!, 'eip-'], 'InvalidParameterValue.AddressIdMalformed', /AddressIds\.1/],
      ['an empty batch', [], 'InvalidParameterValue'],
    ];
    await refused(cases, (ids) => vpc().ReleaseAddresses({ AddressIds: ids }));

    const held = (await vpc().DescribeAddressQuota()).QuotaSet!.find((q) => q.QuotaId === 'TOTAL_EIP_QUOTA')!.QuotaCurrent!;
    const rev = await store.revision();
    const res = await vpc().ReleaseAddresses({ AddressIds: [a!, b!, a!] });
    assert.equal((await vpc().DescribeVpcTaskResult({ TaskId: res.TaskId! })).Status, 'SUCCESS');
    assert.equal((await vpc().DescribeAddresses({ AddressIds: [a!, b!] })).TotalCount, 0);
    assert.equal((await vpc().DescribeAddressQuota()).QuotaSet!.find((q) => q.QuotaId === 'TOTAL_EIP_QUOTA')!.QuotaCurrent, held - 2);
    assert.deepEqual(await store.db.selectFrom('tags').select('key').where('resource_id', 'in', [a!, b!]).execute(), []);
    assert.deepEqual((await changesSince(rev)).sort(), [`address:${a}:delete`, `address:${b}:delete`].sort());
    assert.equal(await errorCode(vpc().ReleaseAddresses({ AddressIds: [a!] })), 'InvalidAddressId.NotFound', 'released once');

    await vpc().DisassociateAddress({ AddressId: c! });
    await vpc().ReleaseAddresses({ AddressIds: [c!] });
    await vpc(tenant).ReleaseAddresses({ AddressIds: [foreign!] });
    await r.cvm().TerminateInstances({ InstanceIds: [inst!] });
  });

  it('keeps bandwidth per address and renames; a batch with one bad item changes nothing', async () => {
    const [a, b] = await allocate({ AddressCount: 2 });
    const [prepaid] = await allocate({ InternetChargeType: 'BANDWIDTH_PREPAID_BY_MONTH', AddressChargePrepaid: { Period: 1 } });
    const [inst] = await net.launch();
    await vpc().AssociateAddress({ AddressId: a!, InstanceId: inst! });

    let rev = await store.revision();
    const res = await vpc().ModifyAddressesBandwidth({ AddressIds: [a!, b!], InternetMaxBandwidthOut: 50 });
    assert.equal((await vpc().DescribeVpcTaskResult({ TaskId: res.TaskId! })).Status, 'SUCCESS');
    assert.deepEqual([(await describeEip(a!)).Bandwidth, (await describeEip(b!)).Bandwidth, (await describeEip(prepaid!)).Bandwidth], [50, 50, 1]);
    assert.deepEqual(
      (await changesSince(rev)).sort(),
      [`address:${a}:update`, `address:${b}:update`, `vpc:${net.vpcId}:update`].sort(),
      'the bound one tells its VPC: its hosts will carry the limit',
    );
    await vpc().ModifyAddressesBandwidth({ AddressIds: [prepaid!], InternetMaxBandwidthOut: 150 });
    assert.equal((await describeEip(prepaid!)).Bandwidth, 150, 'prepaid allows up to 200');

    await refused(
      [
        ['over the ceiling of one of the batch', [[prepaid!, b!], 150], 'InvalidParameterValue.BandwidthOutOfRange', new RegExp(`${b}.*1 to 100`)],
        ['zero', [[a!], 0], 'InvalidParameterValue.BandwidthTooSmall'],
        ['a missing EIP in the batch', [[a!, 'eip-00000000'], 20], 'InvalidAddressId.NotFound'],
        ['a malformed ID in the batch', [[a!, 'x'], 20], 'InvalidParameterValue.AddressIdMalformed'],
      ],
      ([ids, mbps]: [string[], number]) => vpc().ModifyAddressesBandwidth({ AddressIds: ids, InternetMaxBandwidthOut: mbps }),
    );

    rev = await store.revision();
    await vpc().ModifyAddressAttribute({ AddressId: b!, AddressName: '名字_web-2' });
    assert.equal((await describeEip(b!)).AddressName, '名字_web-2');
    assert.deepEqual(await changesSince(rev), [`address:${b}:update`], 'a name reaches no host');
    rev = await store.revision();
    await vpc().ModifyAddressAttribute({ AddressId: a!, EipDirectConnection: 'TRUE' });
    assert.equal((await describeEip(a!)).IsEipDirectConnection, true);
    assert.deepEqual(await changesSince(rev), [`address:${a}:update`, `vpc:${net.vpcId}:update`], 'direct connection changes delivery');
    await refused<[Creds | undefined, ModifyAddressAttributeRequest]>(
      [
        ['direct connection twice', [undefined, { AddressId: a!, EipDirectConnection: 'TRUE' }], 'InvalidParameterValue.AddressAlreadyHasPassThrough'],
        ['direct connection of an unbound EIP', [undefined, { AddressId: b!, EipDirectConnection: 'TRUE' }], 'UnsupportedOperation.AddressStatusNotPermit'],
        ['direct connection neither TRUE nor FALSE', [undefined, { AddressId: a!, EipDirectConnection: 'yes' }], 'InvalidParameterValue'],
        ['a name with a space', [undefined, { AddressId: b!, AddressName: 'a b' }], 'InvalidParameterValue'],
        ['a name of 129 characters', [undefined, { AddressId: b!, AddressName: 'x'.repeat(129) }], 'InvalidParameterValue.TooLong'],
        ['another account\'s EIP', [tenant, { AddressId: a!, AddressName: 'mine' }], 'InvalidAddressId.NotFound'],
      ],
      ([creds, req]) => vpc(creds).ModifyAddressAttribute(req),
    );
    await vpc().ModifyAddressAttribute({ AddressId: a!, EipDirectConnection: 'FALSE' });
    assert.equal((await describeEip(a!)).IsEipDirectConnection, false);

    await vpc().DisassociateAddress({ AddressId: a! });
    await vpc().ReleaseAddresses({ AddressIds: [a!, b!, prepaid!] });
    await r.cvm().TerminateInstances({ InstanceIds: [inst!] });
  });

  it('answers the quota, holds an account to it and to twice it a day', async () => {
    const quota = await r.newAccount('eip-quota');
    await setQuota('eip-quota', 3);
    const client = vpc(quota);
    const quotas = async () => {
      const set = (await client.DescribeAddressQuota()).QuotaSet!;
      for (const q of set) assert.deepEqual(Object.keys(q).sort(), modelFields('Quota'));
      assert.ok(set.every((q) => q.QuotaGroup === 'local'));
      return Object.fromEntries(set.map((q) => [q.QuotaId!, [q.QuotaCurrent, q.QuotaLimit]]));
    };
    assert.deepEqual(await quotas(), { TOTAL_EIP_QUOTA: [0, 3], DAILY_EIP_APPLY: [0, 6], DAILY_PUBLIC_IP_ASSIGN: [0, 10] });
    const two = await allocate({ AddressCount: 2 }, quota);
    assert.deepEqual(await quotas(), { TOTAL_EIP_QUOTA: [2, 3], DAILY_EIP_APPLY: [2, 6], DAILY_PUBLIC_IP_ASSIGN: [0, 10] });

    let before_ = await state();
    const over = await errorOf(client.AllocateAddresses({ AddressCount: 2 }));
    assert.equal(over.code, 'AddressQuotaLimitExceeded');
    assert.match(over.message, /3 EIPs/);
    assert.deepEqual(await state(), before_, 'nothing allocated, nothing counted');

    const [third] = await allocate({}, quota);
    await client.ReleaseAddresses({ AddressIds: [...two, third!] });
    assert.deepEqual(await quotas(), { TOTAL_EIP_QUOTA: [0, 3], DAILY_EIP_APPLY: [3, 6], DAILY_PUBLIC_IP_ASSIGN: [0, 10] }, 'releasing does not give back the day\'s allocations');
    const three = await allocate({ AddressCount: 3 }, quota);
    await client.ReleaseAddresses({ AddressIds: three });
    before_ = await state();
    assert.equal(await errorCode(client.AllocateAddresses({})), 'AddressQuotaLimitExceeded.DailyAllocate');
    assert.deepEqual(await state(), before_);

    // A raised quota counts from the next call on.
    await setQuota('eip-quota', 5);
    const [more] = await allocate({}, quota);
    assert.deepEqual(await quotas(), { TOTAL_EIP_QUOTA: [1, 5], DAILY_EIP_APPLY: [7, 10], DAILY_PUBLIC_IP_ASSIGN: [0, 10] });
    await client.ReleaseAddresses({ AddressIds: [more!] });
  });

  it('replays a ClientToken: the same EIPs, allocated once; other parameters are refused', async () => {
    const body = { AddressCount: 2, ClientToken: 'eip-token-1' };
    const first = await vpc().AllocateAddresses(body);
    const held = await state();
    const again = await vpc().AllocateAddresses(body);
    assert.deepEqual(again.AddressSet, first.AddressSet);
    assert.equal(again.TaskId, first.TaskId);
    assert.deepEqual(await state(), held, 'a replay allocates nothing');
    assert.equal(await errorCode(vpc().AllocateAddresses({ ...body, AddressCount: 3 })), 'IdempotentParameterMismatch');
    await vpc().ReleaseAddresses({ AddressIds: first.AddressSet! });
  });

  it('unbinds, in the same transaction, the EIP of a terminated instance; the EIP stays allocated', async () => {
    const [id] = await allocate();
    const [inst, other] = await net.launch(2);
    await vpc().AssociateAddress({ AddressId: id!, InstanceId: inst! });
    const rev = await store.revision();
    await r.cvm().TerminateInstances({ InstanceIds: [inst!, other!] });
    const changes = await store.db.selectFrom('changes').select(['revision', 'kind', 'resource_id', 'op']).where('revision', '>', rev).execute();
    assert.equal(new Set(changes.map((c) => c.revision)).size, 1, 'one transaction');
    assert.deepEqual(
      changes.map((c) => `${c.kind}:${c.resource_id}:${c.op}`).sort(),
      [`address:${id}:update`, `vpc:${net.vpcId}:update`, `instance:${inst}:delete`, `instance:${other}:delete`].sort(),
    );
    const eip = await describeEip(id!);
    assert.deepEqual([eip.AddressStatus, eip.InstanceId, eip.PrivateAddressIp], ['UNBIND', null, null]);
    // Bound again elsewhere, it works as any unbound EIP.
    const [next] = await net.launch();
    await vpc().AssociateAddress({ AddressId: id!, InstanceId: next! });
    assert.deepEqual((await instance(next!)).PublicIpAddresses, [eip.AddressIp]);
    await r.cvm().TerminateInstances({ InstanceIds: [next!] });
    await vpc().ReleaseAddresses({ AddressIds: [id!] });
  });

  it('lets concurrent calls neither share an address nor bind twice', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => allocate({ AddressCount: 2 })));
    const ids = results.flat();
    const ips = (await vpc().DescribeAddresses({ AddressIds: ids, Limit: 100 })).AddressSet!.map((a) => a.AddressIp);
    assert.equal(new Set(ips).size, 16, 'sixteen distinct addresses');

    const [x, y] = await net.launch(2);
    // One EIP to two instances at once: exactly one wins.
    const one = await Promise.allSettled([x, y].map((inst) => vpc().AssociateAddress({ AddressId: ids[0]!, InstanceId: inst! })));
    assert.equal(one.filter((s) => s.status === 'fulfilled').length, 1, JSON.stringify(one));
    assert.deepEqual(
      one.flatMap((s) => (s.status === 'rejected' ? [(s.reason as { code: string }).code] : [])),
      ['UnsupportedOperation.AddressStatusNotPermit'],
    );
    // Two EIPs to one instance at once: exactly one wins.
    const free = one[0]!.status === 'fulfilled' ? y! : x!;
    const two = await Promise.allSettled([ids[1]!, ids[2]!].map((eip) => vpc().AssociateAddress({ AddressId: eip, InstanceId: free })));
    assert.equal(two.filter((s) => s.status === 'fulfilled').length, 1, JSON.stringify(two));
    assert.deepEqual(
      two.flatMap((s) => (s.status === 'rejected' ? [(s.reason as { code: string }).code] : [])),
      ['InvalidInstanceId.AlreadyBindEip'],
    );
    // Terminating an instance while an EIP is being bound to it: the EIP is never left bound to nothing.
    const [z] = await net.launch();
    await Promise.allSettled([vpc().AssociateAddress({ AddressId: ids[3]!, InstanceId: z! }), r.cvm().TerminateInstances({ InstanceIds: [z!] })]);
    const left = await describeEip(ids[3]!);
    assert.deepEqual([left.AddressStatus, left.InstanceId], ['UNBIND', null]);

    await r.cvm().TerminateInstances({ InstanceIds: [x!, y!] });
    await vpc().ReleaseAddresses({ AddressIds: ids });
  });
});

describe(`elastic IPs from small public pools (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  before(async () => {
    // Configured out of order: the lower pool is used first all the same.
    ({ r, store } = await setUp(['--public-pools', '203.0.113.8/30,198.51.100.0/29']));
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  /** The addresses of the EIPs, in the order of `ids`. */
  const ipsOf = async (ids: string[]) => {
    const byId = new Map((await r.vpc().DescribeAddresses({ AddressIds: ids })).AddressSet!.map((a) => [a.AddressId!, a.AddressIp!]));
    return ids.map((id) => byId.get(id));
  };

  it('gives the lowest free address, skipping each pool\'s first two and last, and fails whole when the pools run out', async () => {
    const vpc = r.vpc();
    const first = (await vpc.AllocateAddresses({ AddressCount: 2 })).AddressSet!;
    assert.deepEqual((await ipsOf(first)).sort(), ['198.51.100.2', '198.51.100.3']);
    const more = (await vpc.AllocateAddresses({ AddressCount: 3 })).AddressSet!;
    assert.deepEqual((await ipsOf(more)).sort(), ['198.51.100.4', '198.51.100.5', '198.51.100.6']);
    // A freed address is the lowest free one again.
    await vpc.ReleaseAddresses({ AddressIds: [first[1]!] });
    const [again] = (await vpc.AllocateAddresses({})).AddressSet!;
    assert.deepEqual(await ipsOf([again!]), ['198.51.100.3']);
    // One address left (203.0.113.10); two asked for: nothing at all.
    const before_ = { revision: await store.revision(), addresses: await store.db.selectFrom('addresses').selectAll().orderBy('id').execute() };
    const e = await errorOf(vpc.AllocateAddresses({ AddressCount: 2 }));
    assert.equal(e.code, 'ResourceInsufficient');
    assert.match(e.message, /198\.51\.100\.0\/29, 203\.0\.113\.8\/30.*1 free/);
    assert.deepEqual({ revision: await store.revision(), addresses: await store.db.selectFrom('addresses').selectAll().orderBy('id').execute() }, before_);
    const quota = (await vpc.DescribeAddressQuota()).QuotaSet!.find((q) => q.QuotaId === 'TOTAL_EIP_QUOTA')!;
    assert.equal(quota.QuotaCurrent, 5, 'the refused request counted nothing');
    const [last] = (await vpc.AllocateAddresses({})).AddressSet!;
    assert.deepEqual(await ipsOf([last!]), ['203.0.113.10']);
    assert.equal(await errorCode(vpc.AllocateAddresses({})), 'ResourceInsufficient');
  });

  it('refuses to start with a pool that is not one', async () => {
    for (const [pools, why] of [
      ['198.51.100.1/24', /network address/],
      ['198.51.100.0/31', /too small/],
      ['198.51.100.0/24,198.51.100.128/25', /overlap/],
    ] as const) {
      const res = await r.weft(['server', '--data-dir', join(r.dataDir, 'never'), '--listen', '127.0.0.1:0', '--public-pools', pools]);
      assert.equal(res.code, 2, `${pools}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, why, pools);
    }
  });
});
