import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Instance, RunInstancesRequest } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_models.js';
import { newIdentities } from '../../src/api/cvm/instances.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, loose, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

const byName = (a: Instance, b: Instance) => a.InstanceName!.localeCompare(b.InstanceName!);

describe(`instances through the official SDK cvm client (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  // The admin account's network: VPC A (10.0.0.0/16) with subnets in local-1 and local-2, VPC B with one
  // subnet in local-1, and three security groups.
  let vpcA: string, subA1: string, subA2: string, vpcB: string, subB1: string;
  let sg1: string, sg2: string, sg3: string;

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    const vpc = r.vpc();
    vpcA = (await vpc.CreateVpc({ VpcName: 'a', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    subA1 = (await vpc.CreateSubnet({ VpcId: vpcA, SubnetName: 'a1', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    subA2 = (await vpc.CreateSubnet({ VpcId: vpcA, SubnetName: 'a2', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    vpcB = (await vpc.CreateVpc({ VpcName: 'b', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    subB1 = (await vpc.CreateSubnet({ VpcId: vpcB, SubnetName: 'b1', CidrBlock: '10.1.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const group = async (name: string) =>
      (await vpc.CreateSecurityGroup({ GroupName: name, GroupDescription: name })).SecurityGroup!.SecurityGroupId!;
    sg1 = await group('sg1');
    sg2 = await group('sg2');
    sg3 = await group('sg3');
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  /** A RunInstances request for subnet A1 in local-1, with `extra` on top. */
  const req = (extra: Partial<RunInstancesRequest> = {}): RunInstancesRequest => ({
    Placement: { Zone: 'local-1' },
    VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1 },
    ...extra,
  });
  const describeOne = async (id: string, creds?: Creds) => {
    const res = await r.cvm(creds).DescribeInstances({ InstanceIds: [id] });
    assert.equal(res.TotalCount, 1);
    return res.InstanceSet![0]!;
  };
  /** Everything RunInstances and friends write, to prove a rejected call changed nothing. */
  const state = async () => ({
    revision: await store.revision(),
    instances: await store.db.selectFrom('instances').selectAll().orderBy('id').execute(),
    sgs: await store.db.selectFrom('instance_sgs').selectAll().orderBy('instance_id').orderBy('sg_id').execute(),
    ips: await store.db.selectFrom('private_ips').selectAll().orderBy('subnet_id').orderBy('ip').execute(),
    usage: await store.db.selectFrom('usage').selectAll().orderBy('account').orderBy('kind').execute(),
    tags: await store.db.selectFrom('tags').selectAll().orderBy('resource_id').orderBy('key').execute(),
    idempotency: await store.db.selectFrom('idempotency').select(['account', 'action', 'token']).orderBy('token').execute(),
  });
  /** The account's instance count in the usage table (now, or in a state() snapshot). */
  const instanceUsage = async (uin: string, rows?: { account: string; kind: string; count: number }[]) =>
    (rows ?? (await state()).usage).find((u) => u.account === uin && u.kind === 'instance')?.count ?? 0;
  const changesOf = async (id: string) =>
    (await store.db.selectFrom('changes').select(['kind', 'op']).where('resource_id', '=', id).orderBy('revision').execute()).map((c) => `${c.kind}:${c.op}`);
  const dbArgs = () => (r.database ? ['--database', r.database] : []);
  /** A fresh account with a VPC (10.0.0.0/16) and a subnet 10.0.1.0/24 in local-1, and optional quota overrides. */
  async function tenant(name: string, quotas: string[] = []) {
    const creds = await r.newAccount(name);
    if (quotas.length) {
      const q = await r.weft(['account', 'quota', '--data-dir', r.dataDir, '--name', name, ...dbArgs(), '--set', ...quotas]);
      assert.equal(q.code, 0, q.stderr);
    }
    const vpc = r.vpc(creds);
    const vpcId = (await vpc.CreateVpc({ VpcName: 'v', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const base = (extra: Partial<RunInstancesRequest> = {}): RunInstancesRequest => ({
      Placement: { Zone: 'local-1' },
      VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId },
      ...extra,
    });
    return { creds, vpc, cvm: r.cvm(creds), vpcId, subnetId, req: base };
  }

  it('launches, describes and terminates an instance, with every field of the request model', async () => {
    const cvm = r.cvm();
    const before_ = await state();
    const password = 'Weft-Secret-Passw0rd!';
    const res = await cvm.RunInstances({
      InstanceChargeType: 'POSTPAID_BY_HOUR',
      InstanceChargePrepaid: { Period: 1 },
      Placement: { Zone: 'local-1', ProjectId: 0 },
      InstanceType: 'S5.LARGE8',
      ImageId: 'img-eb30mz89',
      SystemDisk: { DiskType: 'CLOUD_SSD', DiskSize: 100 },
      DataDisks: [{ DiskSize: 200, DiskType: 'CLOUD_PREMIUM' }],
      VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, AsVpcGateway: false, Ipv6AddressCount: 0 },
      InternetAccessible: { InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR', InternetMaxBandwidthOut: 0, PublicIpAssigned: false },
      InstanceCount: 1,
      MinCount: 1,
      InstanceName: 'web',
      LoginSettings: { Password: password },
      SecurityGroupIds: [sg2, sg1],
      EnhancedService: { SecurityService: { Enabled: true } },
      ClientToken: 'lifecycle-token',
      HostName: 'web-host',
      ActionTimer: { TimerAction: 'TerminateInstances' },
      DisasterRecoverGroupIds: [],
      TagSpecification: [
        { ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'prod' }] },
        { ResourceType: 'disk', Tags: [{ Key: 'ignored', Value: 'x' }] },
      ],
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: '1' } },
      UserData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
      Metadata: { Items: [] },
      DryRun: false,
      CpuTopology: { CoreCount: 2 },
      CamRoleName: 'role',
      HpcClusterId: 'hpc-xxxxxxxx',
      DedicatedClusterId: 'cluster-x',
      ChcIds: [],
      PartitionNumber: 1,
      DisableApiTermination: false,
      EnableJumboFrame: false,
      NetworkInterfaces: [],
    });
    assert.equal(res.InstanceIdSet!.length, 1);
    const id = res.InstanceIdSet![0]!;
    assert.match(id, /^ins-[0-9a-z]{8}$/);

    const i = await describeOne(id);
    assert.match(i.CreatedTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(i.Uuid!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(
      { ...i, CreatedTime: undefined, Uuid: undefined },
      {
        Placement: { Zone: 'local-1', ProjectId: 0 },
        InstanceId: id,
        InstanceType: 'S5.LARGE8',
        CPU: 4,
        Memory: 8,
        RestrictState: 'NORMAL',
        InstanceName: 'web',
        InstanceChargeType: 'POSTPAID_BY_HOUR',
        SystemDisk: { DiskType: 'CLOUD_SSD', DiskId: '', DiskSize: 100 },
        DataDisks: [],
        PrivateIpAddresses: ['10.0.1.2'],
        PublicIpAddresses: [],
        InternetAccessible: { InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR', InternetMaxBandwidthOut: 0, PublicIpAssigned: false },
        VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, AsVpcGateway: false },
        ImageId: 'img-eb30mz89',
        CreatedTime: undefined,
        OsName: 'Linux',
        SecurityGroupIds: [sg2, sg1],
        LoginSettings: { KeyIds: [] },
        InstanceState: 'PENDING',
        Tags: [{ Key: 'env', Value: 'prod' }],
        StopChargingMode: 'NOT_APPLICABLE',
        Uuid: undefined,
        LatestOperation: 'RunInstances',
        LatestOperationState: 'OPERATING',
        LatestOperationRequestId: res.RequestId,
        IPv6Addresses: [],
        IsolatedSource: 'NOTISOLATED',
        DisableApiTermination: false,
      },
    );

    // What the store holds: a MAC, an ENI, the address, the bound groups in order, the change log.
    const row = await store.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.match(row.mac, /^52:54(:[0-9a-f]{2}){4}$/);
    assert.match(row.eni_id, /^eni-[0-9a-z]{8}$/);
    assert.deepEqual(
      await store.db.selectFrom('private_ips').select(['subnet_id', 'ip', 'owner_kind', 'owner_id']).where('owner_id', '=', id).execute(),
      [{ subnet_id: subA1, ip: '10.0.1.2', owner_kind: 'instance', owner_id: id }],
    );
    assert.deepEqual(
      await store.db.selectFrom('instance_sgs').select(['sg_id', 'position']).where('instance_id', '=', id).orderBy('position').execute(),
      [
        { sg_id: sg2, position: 0 },
        { sg_id: sg1, position: 1 },
      ],
    );
    assert.deepEqual(await changesOf(id), ['instance:create']);
    // The password is nowhere in the store, not even inside the idempotency record.
    for (const table of ['instances', 'idempotency', 'tags', 'changes'] as const) {
      const rows = await store.db.selectFrom(table).selectAll().execute();
      assert.ok(!JSON.stringify(rows).includes(password), `${table} holds the password`);
    }

    await cvm.TerminateInstances({ InstanceIds: [id] });
    assert.equal((await cvm.DescribeInstances({ InstanceIds: [id] })).TotalCount, 0);
    assert.deepEqual(await changesOf(id), ['instance:create', 'instance:delete']);
    const after_ = await state();
    assert.deepEqual(after_.instances, before_.instances);
    assert.deepEqual(after_.sgs, before_.sgs);
    assert.deepEqual(after_.ips, before_.ips);
    assert.deepEqual(after_.tags, before_.tags);
    assert.equal(await instanceUsage(r.admin.Uin), await instanceUsage(r.admin.Uin, before_.usage), 'the quota is released');
    assert.equal(await errorCode(cvm.TerminateInstances({ InstanceIds: [id] })), 'InvalidInstanceId.NotFound');
  });

  it('launches with defaults: S5.MEDIUM2, the placeholder image, no security group, unnamed', async () => {
    const cvm = r.cvm();
    const [id] = (await cvm.RunInstances(req())).InstanceIdSet!;
    const i = await describeOne(id!);
    assert.deepEqual(
      [i.InstanceType, i.CPU, i.Memory, i.ImageId, i.SecurityGroupIds, i.InstanceName, i.InstanceChargeType, i.SystemDisk],
      ['S5.MEDIUM2', 2, 2, 'img-00000000', [], '未命名', 'POSTPAID_BY_HOUR', { DiskType: 'CLOUD_PREMIUM', DiskId: '', DiskSize: 50 }],
    );
    await cvm.TerminateInstances({ InstanceIds: [id!] });
  });

  it('gives requested addresses, refuses taken, outside, reserved and malformed ones, and reuses freed ones', async () => {
    const cvm = r.cvm();
    const at = (ip: string) => req({ VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, PrivateIpAddresses: [ip] } });
    const [first] = (await cvm.RunInstances(at('10.0.1.50'))).InstanceIdSet!;
    assert.deepEqual((await describeOne(first!)).PrivateIpAddresses, ['10.0.1.50']);

    const snapshot = await state();
    for (const [ips, code] of [
      [['10.0.1.50'], 'VpcIpIsUsed'], // taken
      [['10.0.2.9'], 'VpcAddrNotInSubNet'], // in the VPC, other subnet
      [['192.168.0.9'], 'VpcAddrNotInSubNet'],
      [['10.0.1.0'], 'VpcIpIsUsed'], // network address
      [['10.0.1.1'], 'VpcIpIsUsed'], // gateway
      [['10.0.1.255'], 'VpcIpIsUsed'], // last address
      [['10.0.1.300'], 'InvalidParameterValue.IPAddressMalformed'],
      [['banana'], 'InvalidParameterValue.IPAddressMalformed'],
      [['10.0.1.60', '10.0.1.61'], 'InvalidParameterCombination'], // two addresses, one instance
    ] as const) {
      const body = req({ VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, PrivateIpAddresses: [...ips] } });
      assert.equal(await errorCode(cvm.RunInstances(body)), code, ips.join(','));
    }
    assert.equal(
      await errorCode(cvm.RunInstances(req({ InstanceCount: 2, VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, PrivateIpAddresses: ['10.0.1.70', '10.0.1.70'] } }))),
      'InvalidParameterValue.Duplicate',
    );
    // One bad address of three sinks the whole batch.
    assert.equal(
      await errorCode(cvm.RunInstances(req({ InstanceCount: 3, VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, PrivateIpAddresses: ['10.0.1.71', '10.0.1.72', '10.0.1.50'] } }))),
      'VpcIpIsUsed',
    );
    assert.deepEqual(await state(), snapshot, 'rejected launches change nothing');

    // A batch gets its addresses in order.
    const batch = (await cvm.RunInstances(req({ InstanceCount: 3, VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, PrivateIpAddresses: ['10.0.1.73', '10.0.1.71', '10.0.1.72'] } })))
      .InstanceIdSet!;
    assert.deepEqual(
      await Promise.all(batch.map(async (id) => (await describeOne(id)).PrivateIpAddresses![0])),
      ['10.0.1.73', '10.0.1.71', '10.0.1.72'],
    );

    await cvm.TerminateInstances({ InstanceIds: [first!, ...batch] });
    const [again] = (await cvm.RunInstances(at('10.0.1.50'))).InstanceIdSet!;
    assert.notEqual(again, first);
    assert.deepEqual((await describeOne(again!)).PrivateIpAddresses, ['10.0.1.50'], 'a terminated instance frees its address');
    await cvm.TerminateInstances({ InstanceIds: [again!] });
  });

  it('names a batch by the InstanceName rules and gives each instance its own address, MAC and ENI', async () => {
    const cvm = r.cvm();
    const names = async (ids: string[]) => (await cvm.DescribeInstances({ InstanceIds: ids })).InstanceSet!.sort(byName).map((i) => i.InstanceName);
    const plain = (await cvm.RunInstances(req({ InstanceCount: 3, InstanceName: 'node-' }))).InstanceIdSet!;
    assert.equal(plain.length, 3);
    assert.deepEqual(await names(plain), ['node-1', 'node-2', 'node-3']);
    const padded = (await cvm.RunInstances(req({ InstanceCount: 2, InstanceName: 'db{R:7,F:2}' }))).InstanceIdSet!;
    assert.deepEqual(await names(padded), ['db07', 'db08']);
    const unnamed = (await cvm.RunInstances(req({ InstanceCount: 2 }))).InstanceIdSet!;
    assert.deepEqual(await names(unnamed), ['未命名', '未命名']);

    const all = [...plain, ...padded, ...unnamed];
    const rows = await store.db.selectFrom('instances').select(['id', 'mac', 'eni_id', 'private_ip']).where('id', 'in', all).execute();
    assert.equal(rows.length, 7);
    for (const column of ['id', 'mac', 'eni_id', 'private_ip'] as const) assert.equal(new Set(rows.map((x) => x[column])).size, 7, column);
    for (const id of all) assert.deepEqual(await changesOf(id), ['instance:create']);
    await cvm.TerminateInstances({ InstanceIds: all });
  });

  it('replays a ClientToken: same parameters give the same instances, different ones are refused', async () => {
    const cvm = r.cvm();
    const body = req({ InstanceName: 'idem', ClientToken: 'token-1', LoginSettings: { Password: 'First-Passw0rd' } });
    const first = await cvm.RunInstances(body);
    const count = async () => (await cvm.DescribeInstances({ Filters: [{ Name: 'instance-name', Values: ['idem'] }] })).TotalCount;
    assert.equal(await count(), 1);
    const second = await cvm.RunInstances(body);
    assert.deepEqual(second.InstanceIdSet, first.InstanceIdSet);
    assert.notEqual(second.RequestId, first.RequestId);
    // Passwords are dropped before anything is hashed or stored, so a retry with another one is the same request.
    assert.deepEqual((await cvm.RunInstances({ ...body, LoginSettings: { Password: 'Other-Passw0rd' } })).InstanceIdSet, first.InstanceIdSet);
    assert.equal(await count(), 1, 'a replay launches nothing');

    const snapshot = await state();
    assert.equal(await errorCode(cvm.RunInstances({ ...body, InstanceName: 'idem-2' })), 'IdempotentParameterMismatch');
    assert.equal(await errorCode(cvm.RunInstances({ ...body, ClientToken: 'x'.repeat(65) })), 'InvalidClientToken.TooLong');
    assert.deepEqual(await state(), snapshot);

    // A failed launch records nothing: the same token works once the cause is fixed.
    const bad = req({ InstanceName: 'idem', ClientToken: 'token-2', SecurityGroupIds: ['sg-00000000'] });
    assert.equal(await errorCode(cvm.RunInstances(bad)), 'InvalidSecurityGroupId.NotFound');
    const fixed = await cvm.RunInstances({ ...bad, SecurityGroupIds: [sg1] });
    assert.equal(fixed.InstanceIdSet!.length, 1);
    // Another account's identical token is its own.
    const other = await tenant('idem-other');
    const theirs = await other.cvm.RunInstances(other.req({ InstanceName: 'idem', ClientToken: 'token-1' }));
    assert.notDeepEqual(theirs.InstanceIdSet, first.InstanceIdSet);
    await cvm.TerminateInstances({ InstanceIds: [...first.InstanceIdSet!, ...fixed.InstanceIdSet!] });
  });

  it('filters by every supported filter and pages', async () => {
    const t = await tenant('filters');
    const { cvm, vpc } = t;
    const subnet2 = (await vpc.CreateSubnet({ VpcId: t.vpcId, SubnetName: 's2', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    const vpc2 = (await vpc.CreateVpc({ VpcName: 'v2', CidrBlock: '172.16.0.0/16' })).Vpc!.VpcId!;
    const subnet3 = (await vpc.CreateSubnet({ VpcId: vpc2, SubnetName: 's3', CidrBlock: '172.16.0.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const sgA = (await vpc.CreateSecurityGroup({ GroupName: 'a', GroupDescription: 'a' })).SecurityGroup!.SecurityGroupId!;
    const sgB = (await vpc.CreateSecurityGroup({ GroupName: 'b', GroupDescription: 'b' })).SecurityGroup!.SecurityGroupId!;
    const one = async (extra: Partial<RunInstancesRequest>) => (await cvm.RunInstances(t.req(extra))).InstanceIdSet![0]!;
    const web = await one({ InstanceName: 'Web-Front', SecurityGroupIds: [sgA], TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'prod' }] }] });
    const api = await one({
      InstanceName: 'api_1',
      SecurityGroupIds: [sgA, sgB],
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'dev' }, { Key: 'team', Value: 'core' }] }],
    });
    const db = await one({ InstanceName: 'db%', Placement: { Zone: 'local-2' }, VirtualPrivateCloud: { VpcId: t.vpcId, SubnetId: subnet2 } });
    const other = await one({ InstanceName: 'other', InstanceChargeType: 'SPOTPAID', VirtualPrivateCloud: { VpcId: vpc2, SubnetId: subnet3 } });
    const all = [web, api, db, other];
    const uuidOfDb = (await describeOne(db, t.creds)).Uuid!;
    const ipOfApi = (await describeOne(api, t.creds)).PrivateIpAddresses![0]!;

    const find = async (...filters: { Name: string; Values: string[] }[]) => {
      const res = await cvm.DescribeInstances({ Filters: filters, Limit: 100 });
      assert.equal(res.TotalCount, res.InstanceSet!.length);
      return res.InstanceSet!.map((i) => i.InstanceId!).sort();
    };
    const expect = (ids: string[]) => [...ids].sort();
    for (const [filters, want] of [
      [[{ Name: 'zone', Values: ['local-2'] }], [db]],
      [[{ Name: 'zone', Values: ['local-1', 'local-2'] }], all],
      [[{ Name: 'vpc-id', Values: [vpc2] }], [other]],
      [[{ Name: 'subnet-id', Values: [t.subnetId] }], [web, api]],
      [[{ Name: 'instance-id', Values: [web, db, 'ins-00000000'] }], [web, db]],
      [[{ Name: 'uuid', Values: [uuidOfDb] }], [db]],
      [[{ Name: 'instance-name', Values: ['web'] }], [web]], // fuzzy and case-insensitive
      [[{ Name: 'instance-name', Values: ['_'] }], [api]], // LIKE characters are literal
      [[{ Name: 'instance-name', Values: ['%'] }], [db]],
      [[{ Name: 'instance-name', Values: ['WEB', 'oth'] }], [web, other]],
      [[{ Name: 'private-ip-address', Values: [ipOfApi] }], [api]],
      [[{ Name: 'instance-state', Values: ['PENDING'] }], all],
      [[{ Name: 'instance-state', Values: ['RUNNING'] }], []],
      [[{ Name: 'security-group-id', Values: [sgA] }], [web, api]],
      [[{ Name: 'security-group-id', Values: [sgB] }], [api]],
      [[{ Name: 'tag-key', Values: ['env'] }], [web, api]],
      [[{ Name: 'tag-key', Values: ['team'] }], [api]],
      [[{ Name: 'tag-value', Values: ['prod', 'core'] }], [web, api]],
      [[{ Name: 'tag:env', Values: ['prod'] }], [web]],
      [[{ Name: 'tag:env', Values: ['prod', 'dev'] }], [web, api]],
      [[{ Name: 'tag:team', Values: ['prod'] }], []],
      [[{ Name: 'instance-charge-type', Values: ['SPOTPAID'] }], [other]],
      [[{ Name: 'project-id', Values: ['0'] }], all],
      [[{ Name: 'project-id', Values: ['7'] }], []],
      [[{ Name: 'host-id', Values: ['host-12345678'] }], []],
      [[{ Name: 'public-ip-address', Values: ['203.0.113.1'] }], []],
      [[{ Name: 'creation-start-time', Values: ['2000-01-01 00:00:00'] }], all],
      [[{ Name: 'creation-end-time', Values: ['2000-01-01 00:00:00'] }], []],
      [[{ Name: 'creation-start-time', Values: ['2999-01-01 00:00:00'] }], []],
      // Filters combine with AND.
      [[{ Name: 'security-group-id', Values: [sgA] }, { Name: 'tag:env', Values: ['dev'] }], [api]],
      [[{ Name: 'zone', Values: ['local-1'] }, { Name: 'vpc-id', Values: [t.vpcId] }], [web, api]],
    ] as const)
      assert.deepEqual(await find(...filters.map((f) => ({ Name: f.Name, Values: [...f.Values] }))), expect([...want]), JSON.stringify(filters));

    // InstanceIds: unknown but well-formed IDs are simply absent; order and duplicates do not matter.
    const byIds = await cvm.DescribeInstances({ InstanceIds: [db, 'ins-00000000', web, web] });
    assert.equal(byIds.TotalCount, 2);
    assert.deepEqual(byIds.InstanceSet!.map((i) => i.InstanceId).sort(), expect([db, web]));

    // Paging: no filter counts through the usage row; 22 more make pages of the default size 20.
    const batch = (await cvm.RunInstances(t.req({ InstanceCount: 22, InstanceName: 'page-' }))).InstanceIdSet!;
    const first = await cvm.DescribeInstances({});
    assert.equal(first.TotalCount, 26);
    assert.equal(first.InstanceSet!.length, 20);
    const second = await cvm.DescribeInstances({ Offset: 20 });
    assert.equal(second.InstanceSet!.length, 6);
    const seen = [...first.InstanceSet!, ...second.InstanceSet!].map((i) => i.InstanceId!);
    assert.deepEqual([...seen].sort(), expect([...all, ...batch]), 'pages cover everything once');
    const small = [];
    for (let offset = 0; offset < 26; offset += 7) small.push(...(await cvm.DescribeInstances({ Offset: offset, Limit: 7 })).InstanceSet!.map((i) => i.InstanceId!));
    assert.deepEqual(small, seen, 'pages are stable');
    const filteredPage = await cvm.DescribeInstances({ Filters: [{ Name: 'instance-name', Values: ['page-'] }], Offset: 20, Limit: 5 });
    assert.equal(filteredPage.TotalCount, 22);
    assert.equal(filteredPage.InstanceSet!.length, 2);
    assert.equal((await cvm.DescribeInstances({ Offset: 100 })).InstanceSet!.length, 0);

    // The admin account sees none of this tenant's instances.
    assert.equal((await r.cvm().DescribeInstances({ InstanceIds: [web, db] })).TotalCount, 0);
    assert.equal((await r.cvm().DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [t.vpcId] }] })).TotalCount, 0);
  });

  it('rejects bad DescribeInstances input with exact codes', async () => {
    const cvm = r.cvm();
    const id = (await cvm.RunInstances(req())).InstanceIdSet![0]!;
    for (const [body, code] of [
      [{ InstanceIds: ['ins-BAD'] }, 'InvalidInstanceId.Malformed'],
      [{ InstanceIds: ['i-12345678'] }, 'InvalidInstanceId.Malformed'],
      [{ InstanceIds: Array.from({ length: 101 }, () => id) }, 'InvalidParameterValue.LimitExceeded'],
      [{ InstanceIds: [id], Filters: [{ Name: 'zone', Values: ['local-1'] }] }, 'InvalidParameter'],
      [{ Filters: [{ Name: 'colour', Values: ['red'] }] }, 'InvalidFilter'],
      [{ Filters: [{ Name: 'tag:', Values: ['x'] }] }, 'InvalidFilter'],
      [{ Filters: [{ Name: 'zone', Values: [] }] }, 'InvalidFilter'],
      [{ Filters: [{ Name: 'zone', Values: ['a', 'b', 'c', 'd', 'e', 'f'] }] }, 'InvalidFilterValue.LimitExceeded'],
      [{ Filters: Array.from({ length: 11 }, () => ({ Name: 'zone', Values: ['local-1'] })) }, 'InvalidParameterValue.LimitExceeded'],
      [{ Filters: [{ Name: 'creation-start-time', Values: ['yesterday'] }] }, 'InvalidParameterValue.InvalidTimeFormat'],
      [{ Filters: [{ Name: 'zone', Values: 'local-1' }] }, 'InvalidParameter'],
      [{ Limit: 101 }, 'InvalidParameterValue.Range'],
      [{ Offset: -1 }, 'InvalidParameterValue.Range'],
      [{ Limit: 'ten' }, 'InvalidParameter'],
      [{ InstanceId: id }, 'UnknownParameter'],
    ] as const)
      assert.equal(await errorCode(cvm.DescribeInstances(loose(body))), code, JSON.stringify(body).slice(0, 120));
    await cvm.TerminateInstances({ InstanceIds: [id] });
  });

  it('rejects bad RunInstances input with exact codes and changes nothing', async () => {
    const cvm = r.cvm();
    const tiny = (await r.vpc().CreateSubnet({ VpcId: vpcA, SubnetName: 'tiny', CidrBlock: '10.0.9.0/28', Zone: 'local-1' })).Subnet!.SubnetId!;
    const vpcOf = (v: Record<string, unknown>) => ({ VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA1, ...v } });
    const cases: [string, Record<string, unknown>, string][] = [
      ['no Placement', { Placement: undefined }, 'MissingParameter'],
      ['zone of another region', { Placement: { Zone: 'ap-guangzhou-3' } }, 'InvalidZone.MismatchRegion'],
      ['unknown project', { Placement: { Zone: 'local-1', ProjectId: 5 } }, 'InvalidProjectId.NotFound'],
      ['no VirtualPrivateCloud', { VirtualPrivateCloud: undefined }, 'MissingParameter'],
      ['no SubnetId', { VirtualPrivateCloud: { VpcId: vpcA } }, 'MissingParameter'],
      ['malformed VpcId', vpcOf({ VpcId: 'vpc-XYZ' }), 'InvalidParameterValue.VpcIdMalformed'],
      ['malformed SubnetId', vpcOf({ SubnetId: 'subnet-1' }), 'InvalidParameterValue.SubnetIdMalformed'],
      ['missing VPC', vpcOf({ VpcId: 'vpc-00000000' }), 'InvalidParameterValue.VpcIdNotExist'],
      ['missing subnet', vpcOf({ SubnetId: 'subnet-00000000' }), 'InvalidParameterValue.SubnetNotExist'],
      ['subnet of another VPC', vpcOf({ SubnetId: subB1 }), 'InvalidParameterValue.VpcIdSubnetIdNotMatch'],
      ['subnet in another zone', vpcOf({ SubnetId: subA2 }), 'InvalidParameterValue.SubnetIdZoneIdNotMatch'],
      ['public gateway', vpcOf({ AsVpcGateway: true }), 'UnsupportedOperation'],
      ['IPv6', vpcOf({ Ipv6AddressCount: 1 }), 'InvalidParameterValue.VpcNotSupportIpv6Address'],
      ['unknown instance type', { InstanceType: 'S5.MEDIUM3' }, 'InvalidParameterValue.InstanceTypeNotFound'],
      ['malformed instance type', { InstanceType: 'tiny' }, 'InvalidInstanceType.Malformed'],
      ['malformed image', { ImageId: 'ubuntu' }, 'InvalidImageId.Malformed'],
      ['no instances', { InstanceCount: 0 }, 'InvalidParameterValue.Range'],
      ['too many instances', { InstanceCount: 101 }, 'InvalidParameterValue.Range'],
      ['count as text', { InstanceCount: 'two' }, 'InvalidParameter'],
      ['long name', { InstanceName: 'n'.repeat(129) }, 'InvalidInstanceName.TooLong'],
      ['malformed group', { SecurityGroupIds: ['sg-bad'] }, 'InvalidSgId.Malformed'],
      ['missing group', { SecurityGroupIds: [sg1, 'sg-00000000'] }, 'InvalidSecurityGroupId.NotFound'],
      ['group twice', { SecurityGroupIds: [sg1, sg1] }, 'InvalidParameterValue.Duplicate'],
      ['public bandwidth', { InternetAccessible: { InternetMaxBandwidthOut: 10 } }, 'InvalidParameter.InternetAccessibleNotSupported'],
      ['public IP', { InternetAccessible: { PublicIpAssigned: true } }, 'InvalidParameter.InternetAccessibleNotSupported'],
      ['unknown charge type', { InstanceChargeType: 'FREE' }, 'InvalidParameterValue'],
      ['prepaid without period', { InstanceChargeType: 'PREPAID' }, 'MissingParameter'],
      ['user data not base64', { UserData: 'not base64!' }, 'InvalidParameterValue.InvalidUserDataFormat'],
      ['launch template', { LaunchTemplate: { LaunchTemplateId: 'lt-12345678' } }, 'InvalidParameterValue.LaunchTemplateNotFound'],
      ['second network interface', { NetworkInterfaces: [{ VpcId: vpcA }] }, 'UnsupportedOperation'],
      ['duplicate tag', { TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] }] }, 'InvalidParameterValue.Duplicate'],
      ['unknown parameter', { Colour: 'red' }, 'UnknownParameter'],
      ['unknown nested parameter', { Placement: { Zone: 'local-1', Rack: 1 } }, 'UnknownParameter'],
      ['long client token', { ClientToken: 't'.repeat(65) }, 'InvalidClientToken.TooLong'],
      ['password of wrong type', { LoginSettings: { Password: 12345678 } }, 'InvalidParameter'],
      // A /28 subnet has 13 usable addresses: a batch of 14 cannot fit.
      ['batch larger than the subnet', { InstanceCount: 14, VirtualPrivateCloud: { VpcId: vpcA, SubnetId: tiny } }, 'FailedOperation.NoAvailableIpAddressCountInSubnet'],
    ];
    const snapshot = await state();
    for (const [what, extra, code] of cases) {
      const body = { ...req(), ...extra };
      assert.equal(await errorCode(cvm.RunInstances(loose(body))), code, what);
      assert.deepEqual(await state(), snapshot, `${what} changed state`);
    }
    // DryRun: every check runs (a bad one still fails), nothing is created.
    assert.equal(await errorCode(cvm.RunInstances(req({ DryRun: true, SecurityGroupIds: ['sg-00000000'] }))), 'InvalidSecurityGroupId.NotFound');
    const dry = await cvm.RunInstances(req({ DryRun: true, InstanceCount: 3, ClientToken: 'dry' }));
    assert.equal(dry.InstanceIdSet, undefined);
    assert.deepEqual(await state(), snapshot, 'DryRun changed state');
    await r.vpc().DeleteSubnet({ SubnetId: tiny });
  });

  it('rejects bad TerminateInstances input; protected instances stay', async () => {
    const cvm = r.cvm();
    const [id, guarded] = [(await cvm.RunInstances(req())).InstanceIdSet![0]!, (await cvm.RunInstances(req({ DisableApiTermination: true }))).InstanceIdSet![0]!];
    assert.equal((await describeOne(guarded)).DisableApiTermination, true);
    const snapshot = await state();
    for (const [body, code] of [
      [{ InstanceIds: [] }, 'InvalidParameterValue'],
      [{}, 'MissingParameter'],
      [{ InstanceIds: ['ins-BAD'] }, 'InvalidInstanceId.Malformed'],
      [{ InstanceIds: [id, 'ins-00000000'] }, 'InvalidInstanceId.NotFound'],
      [{ InstanceIds: Array.from({ length: 101 }, () => id) }, 'InvalidParameterValue.LimitExceeded'],
      [{ InstanceIds: [id, guarded] }, 'UnsupportedOperation.InstancesProtected'],
      [{ InstanceIds: [id], Force: true }, 'UnknownParameter'],
    ] as const) {
      assert.equal(await errorCode(cvm.TerminateInstances(loose(body))), code, JSON.stringify(body).slice(0, 80));
      assert.deepEqual(await state(), snapshot);
    }
    // The same ID twice is one instance.
    await cvm.TerminateInstances({ InstanceIds: [id, id], ReleaseAddress: false, ReleasePrepaidDataDisks: false });
    assert.equal((await cvm.DescribeInstances({ InstanceIds: [id, guarded] })).TotalCount, 1);
    // The protected instance has no way out (no ModifyInstanceDisableApiTermination yet): unprotect it in the store.
    await store.write(async (w) => w.tx.updateTable('instances').set({ disable_api_termination: 0 }).where('id', '=', guarded).execute());
    await cvm.TerminateInstances({ InstanceIds: [guarded] });
  });

  it('associates security groups in order and disassociates them, across several instances', async () => {
    const cvm = r.cvm();
    const ids = (await cvm.RunInstances(req({ InstanceCount: 2, SecurityGroupIds: [sg1] }))).InstanceIdSet!;
    const groupsOf = async () => {
      const set = (await cvm.DescribeInstances({ InstanceIds: ids })).InstanceSet!;
      return ids.map((id) => set.find((i) => i.InstanceId === id)!.SecurityGroupIds);
    };
    const res = await cvm.AssociateSecurityGroups({ SecurityGroupIds: [sg3, sg2], InstanceIds: ids });
    assert.deepEqual(await groupsOf(), [
      [sg1, sg3, sg2],
      [sg1, sg3, sg2],
    ]);
    const i = await describeOne(ids[0]!);
    assert.deepEqual([i.LatestOperation, i.LatestOperationState, i.LatestOperationRequestId], ['AssociateSecurityGroups', 'SUCCESS', res.RequestId]);
    assert.deepEqual(await changesOf(ids[0]!), ['instance:create', 'instance:update']);

    await cvm.AssociateSecurityGroups({ SecurityGroupIds: [sg2], InstanceIds: [ids[0]!] });
    assert.deepEqual((await groupsOf())[0], [sg1, sg3, sg2], 'binding a bound group again changes nothing');
    await cvm.DisassociateSecurityGroups({ SecurityGroupIds: [sg3], InstanceIds: ids });
    assert.deepEqual(await groupsOf(), [
      [sg1, sg2],
      [sg1, sg2],
    ]);
    await cvm.AssociateSecurityGroups({ SecurityGroupIds: [sg3], InstanceIds: [ids[1]!] });
    assert.deepEqual(await groupsOf(), [
      [sg1, sg2],
      [sg1, sg2, sg3],
    ]);
    const j = await describeOne(ids[0]!);
    assert.deepEqual([j.LatestOperation, j.LatestOperationState], ['DisassociateSecurityGroups', 'SUCCESS']);
    // An instance may end up with no group at all.
    await cvm.DisassociateSecurityGroups({ SecurityGroupIds: [sg1, sg2], InstanceIds: [ids[0]!] });
    assert.deepEqual((await groupsOf())[0], []);
    assert.deepEqual(
      (await cvm.DescribeInstances({ Filters: [{ Name: 'security-group-id', Values: [sg3] }] })).InstanceSet!.map((x) => x.InstanceId),
      [ids[1]],
    );

    const snapshot = await state();
    for (const [action, body, code] of [
      ['AssociateSecurityGroups', { SecurityGroupIds: ['sg-bad'], InstanceIds: ids }, 'InvalidSgId.Malformed'],
      ['AssociateSecurityGroups', { SecurityGroupIds: ['sg-00000000'], InstanceIds: ids }, 'InvalidSecurityGroupId.NotFound'],
      ['AssociateSecurityGroups', { SecurityGroupIds: [sg1], InstanceIds: ['ins-BAD'] }, 'InvalidInstanceId.Malformed'],
      ['AssociateSecurityGroups', { SecurityGroupIds: [sg1], InstanceIds: [ids[0], 'ins-00000000'] }, 'InvalidInstanceId.NotFound'],
      ['AssociateSecurityGroups', { SecurityGroupIds: [], InstanceIds: ids }, 'InvalidParameterValue'],
      ['AssociateSecurityGroups', { SecurityGroupIds: [sg1] }, 'MissingParameter'],
      ['DisassociateSecurityGroups', { SecurityGroupIds: [sg3], InstanceIds: ids }, 'FailedOperation.SecurityGroupActionFailed'],
      ['DisassociateSecurityGroups', { SecurityGroupIds: ['sg-00000000'], InstanceIds: ids }, 'InvalidSecurityGroupId.NotFound'],
      ['DisassociateSecurityGroups', { SecurityGroupIds: [sg3], InstanceIds: ['ins-00000000'] }, 'InvalidInstanceId.NotFound'],
      ['DisassociateSecurityGroups', { SecurityGroupIds: ['x'], InstanceIds: ids }, 'InvalidSgId.Malformed'],
    ] as const) {
      const call = action === 'AssociateSecurityGroups' ? cvm.AssociateSecurityGroups(loose(body)) : cvm.DisassociateSecurityGroups(loose(body));
      assert.equal(await errorCode(call), code, `${action} ${JSON.stringify(body)}`);
      assert.deepEqual(await state(), snapshot);
    }
    await cvm.TerminateInstances({ InstanceIds: ids });
  });

  it('enforces the instance quota and the security-groups-per-instance quota', async () => {
    const t = await tenant('quotas', ['instance=3', 'sgPerInstance=2']);
    const groups = [];
    for (const n of ['a', 'b', 'c']) groups.push((await t.vpc.CreateSecurityGroup({ GroupName: n, GroupDescription: n })).SecurityGroup!.SecurityGroupId!);
    const two = (await t.cvm.RunInstances(t.req({ InstanceCount: 2, SecurityGroupIds: groups.slice(0, 2) }))).InstanceIdSet!;
    const snapshot = await state();
    assert.equal(await errorCode(t.cvm.RunInstances(t.req({ InstanceCount: 2 }))), 'LimitExceeded.InstanceQuota');
    assert.equal(await errorCode(t.cvm.RunInstances(t.req({ SecurityGroupIds: groups }))), 'LimitExceeded.SingleUSGQuota');
    assert.equal(await errorCode(t.cvm.AssociateSecurityGroups({ SecurityGroupIds: [groups[2]!], InstanceIds: [two[0]!] })), 'LimitExceeded.AssociateUSGLimitExceeded');
    assert.deepEqual(await state(), snapshot);
    const third = (await t.cvm.RunInstances(t.req())).InstanceIdSet![0]!;
    assert.equal(await errorCode(t.cvm.RunInstances(t.req())), 'LimitExceeded.InstanceQuota');
    assert.equal((await t.cvm.DescribeInstances({})).TotalCount, 3);
    await t.cvm.TerminateInstances({ InstanceIds: [third] });
    const fourth = (await t.cvm.RunInstances(t.req())).InstanceIdSet![0]!;
    // Swapping a group keeps within the limit.
    await t.cvm.DisassociateSecurityGroups({ SecurityGroupIds: [groups[0]!], InstanceIds: [two[0]!] });
    await t.cvm.AssociateSecurityGroups({ SecurityGroupIds: [groups[2]!], InstanceIds: [two[0]!] });
    assert.deepEqual((await describeOne(two[0]!, t.creds)).SecurityGroupIds, [groups[1], groups[2]]);
    await t.cvm.TerminateInstances({ InstanceIds: [...two, fourth] });
    assert.equal((await t.cvm.DescribeInstances({})).TotalCount, 0);
  });

  it("keeps accounts apart: another account cannot see, terminate or use an account's instances, subnets or groups", async () => {
    const cvm = r.cvm();
    const mine = (await cvm.RunInstances(req({ SecurityGroupIds: [sg1] }))).InstanceIdSet![0]!;
    const t = await tenant('intruder');
    const theirSg = (await t.vpc.CreateSecurityGroup({ GroupName: 'x', GroupDescription: 'x' })).SecurityGroup!.SecurityGroupId!;
    const theirs = (await t.cvm.RunInstances(t.req())).InstanceIdSet![0]!;
    const snapshot = await state();

    assert.equal((await t.cvm.DescribeInstances({ InstanceIds: [mine] })).TotalCount, 0);
    assert.equal((await t.cvm.DescribeInstances({ Filters: [{ Name: 'instance-id', Values: [mine] }] })).TotalCount, 0);
    assert.equal((await t.cvm.DescribeInstances({ Filters: [{ Name: 'security-group-id', Values: [sg1] }] })).TotalCount, 0);
    assert.deepEqual((await t.cvm.DescribeInstances({})).InstanceSet!.map((i) => i.InstanceId), [theirs]);
    for (const [what, call, code] of [
      ['terminate mine', () => t.cvm.TerminateInstances({ InstanceIds: [mine] }), 'InvalidInstanceId.NotFound'],
      ['launch in my VPC', () => t.cvm.RunInstances(req()), 'InvalidParameterValue.VpcIdNotExist'],
      ['launch in my subnet', () => t.cvm.RunInstances(t.req({ VirtualPrivateCloud: { VpcId: t.vpcId, SubnetId: subA1 } })), 'InvalidParameterValue.SubnetNotExist'],
      ['launch with my group', () => t.cvm.RunInstances(t.req({ SecurityGroupIds: [sg1] })), 'InvalidSecurityGroupId.NotFound'],
      ['bind my group to theirs', () => t.cvm.AssociateSecurityGroups({ SecurityGroupIds: [sg1], InstanceIds: [theirs] }), 'InvalidSecurityGroupId.NotFound'],
      ['bind their group to mine', () => t.cvm.AssociateSecurityGroups({ SecurityGroupIds: [theirSg], InstanceIds: [mine] }), 'InvalidInstanceId.NotFound'],
      ['unbind my group from mine', () => t.cvm.DisassociateSecurityGroups({ SecurityGroupIds: [sg1], InstanceIds: [mine] }), 'InvalidSecurityGroupId.NotFound'],
      ['I terminate theirs', () => cvm.TerminateInstances({ InstanceIds: [theirs] }), 'InvalidInstanceId.NotFound'],
    ] as const) {
      assert.equal(await errorCode(call()), code, what);
      assert.deepEqual(await state(), snapshot, what);
    }
    assert.equal((await describeOne(mine)).InstanceState, 'PENDING');
    await cvm.TerminateInstances({ InstanceIds: [mine] });
    await t.cvm.TerminateInstances({ InstanceIds: [theirs] });
  });

  it('DeleteSubnet and DeleteSecurityGroup refuse while an instance uses them', async () => {
    const cvm = r.cvm();
    const vpc = r.vpc();
    const subnet = (await vpc.CreateSubnet({ VpcId: vpcA, SubnetName: 'busy', CidrBlock: '10.0.5.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const sg = (await vpc.CreateSecurityGroup({ GroupName: 'busy', GroupDescription: 'busy' })).SecurityGroup!.SecurityGroupId!;
    const id = (await cvm.RunInstances(req({ VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subnet }, SecurityGroupIds: [sg] }))).InstanceIdSet![0]!;
    assert.equal(await errorCode(vpc.DeleteSubnet({ SubnetId: subnet })), 'ResourceInUse');
    assert.equal(await errorCode(vpc.DeleteSecurityGroup({ SecurityGroupId: sg })), 'ResourceInUse');
    await cvm.DisassociateSecurityGroups({ SecurityGroupIds: [sg], InstanceIds: [id] });
    await vpc.DeleteSecurityGroup({ SecurityGroupId: sg });
    assert.equal(await errorCode(vpc.DeleteSubnet({ SubnetId: subnet })), 'ResourceInUse');
    await cvm.TerminateInstances({ InstanceIds: [id] });
    await vpc.DeleteSubnet({ SubnetId: subnet });
  });

  it('draws a MAC, ENI or instance ID again when it is already in use or drawn twice', async () => {
    const id = (await r.cvm().RunInstances(req())).InstanceIdSet![0]!;
    const row = await store.db.selectFrom('instances').select(['mac', 'eni_id']).where('id', '=', id).executeTakeFirstOrThrow();
    const sequence = (...xs: string[]) => () => xs.shift() ?? assert.fail('drew more than expected');
    const draw = {
      id: sequence(id, 'ins-new00001', 'ins-new00002'),
      eniId: sequence('eni-new00001', 'eni-new00001', 'eni-new00002'),
      mac: sequence(row.mac, '52:54:00:00:00:02', '52:54:00:00:00:02', '52:54:00:00:00:03'),
    };
    const drawn = await store.write((w) => newIdentities(w, 2, draw));
    assert.deepEqual(
      drawn.map((x) => [x.id, x.eniId, x.mac]),
      [
        ['ins-new00002', 'eni-new00001', '52:54:00:00:00:02'], // id and MAC taken by the existing instance
        ['ins-new00001', 'eni-new00002', '52:54:00:00:00:03'], // ENI and MAC drawn twice in the batch
      ],
    );
    await r.cvm().TerminateInstances({ InstanceIds: [id] });
  });

  // Last: it adds a host, which the controller's scheduler may then use for other instances of its zone.
  it('reports RUNNING once the instance\'s host has applied its placement', async () => {
    const cvm = r.cvm();
    const id = (await cvm.RunInstances(req({ Placement: { Zone: 'local-2' }, VirtualPrivateCloud: { VpcId: vpcA, SubnetId: subA2 } }))).InstanceIdSet![0]!;
    const stateOf = async () => {
      const i = await describeOne(id);
      return [i.InstanceState, i.LatestOperationState];
    };
    assert.deepEqual(await stateOf(), ['PENDING', 'OPERATING']);
    const placedAt = 1_000_000;
    await store.write(async (w) => {
      await w.tx
        .insertInto('hosts')
        .values({ id: 'h-test', zone: 'local-2', underlay: '100.64.9.9', token_hash: 'x', applied_revision: placedAt - 1, reported_at: null, report: null, created_at: w.now })
        .execute();
      await w.tx.updateTable('instances').set({ host_id: 'h-test', placed_revision: placedAt }).where('id', '=', id).execute();
    });
    assert.deepEqual(await stateOf(), ['PENDING', 'OPERATING'], 'the host has not applied the placement yet');
    await store.write(async (w) => w.tx.updateTable('hosts').set({ applied_revision: placedAt }).where('id', '=', 'h-test').execute());
    assert.deepEqual(await stateOf(), ['RUNNING', 'SUCCESS']);
    const running = await cvm.DescribeInstances({ Filters: [{ Name: 'instance-state', Values: ['RUNNING'] }] });
    assert.deepEqual(running.InstanceSet!.map((i) => i.InstanceId), [id]);
    await cvm.TerminateInstances({ InstanceIds: [id] });
  });
});
