/**
 * Load balancers (clb 2018-03-17) through the official SDK, against a real
 * server on SQLite or PostgreSQL: load balancers, listeners, targets, their
 * tasks, the codes of bad calls (each one writing nothing), and the health
 * reports LB nodes post over the controller's agents socket.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { healthCheckSpec } from '../../src/compile/load-balancers.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorOf, loose, refusalCheck, startRegion, type Creds, type TestRegion } from '../helpers/region.js';
import { until } from '../helpers/box.js';

describe(`load balancers through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let bob: Creds;
  let vpcId: string;
  let subnetId: string;
  let otherVpc: string;
  let otherSubnet: string;
  let ins: string[];
  let insIps: string[];
  let farIns: string;
  let bobIns: string;
  let bobLb: string;
  let lbToken: string;

  const clb = (c?: Creds) => r.clb(c);
  const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

  /** Waits for a task to end; answers DescribeTaskStatus's Status (0 success, 1 failed). */
  async function settled(taskId: string, c?: Creds): Promise<number> {
    for (let i = 0; i < 400; i++) {
      const s = await clb(c).DescribeTaskStatus({ TaskId: taskId });
      if (s.Status !== 2) return s.Status!;
      await sleep(25);
    }
    throw new Error(`task ${taskId} still running`);
  }
  /** Runs an action that starts a task and waits for it to succeed. */
  async function done<T extends { RequestId?: string }>(p: Promise<T>, c?: Creds): Promise<T> {
    const out = await p;
    assert.equal(await settled(out.RequestId!, c), 0, 'the task succeeds');
    return out;
  }
  async function newLb(o: { type?: 'OPEN' | 'INTERNAL'; name?: string; c?: Creds; vpc?: string; subnet?: string; tags?: Record<string, string> } = {}) {
    const type = o.type ?? 'INTERNAL';
    const out = await done(
      clb(o.c).CreateLoadBalancer({
        LoadBalancerType: type,
        VpcId: o.vpc ?? vpcId,
        ...(type === 'INTERNAL' && { SubnetId: o.subnet ?? subnetId }),
        ...(o.name && { LoadBalancerName: o.name }),
        ...(o.tags && { Tags: Object.entries(o.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) }),
      }),
      o.c,
    );
    return out.LoadBalancerIds![0]!;
  }
  const describeLb = async (id: string, c?: Creds) => (await clb(c).DescribeLoadBalancers({ LoadBalancerIds: [id] })).LoadBalancerSet![0]!;

  /** Everything the clb actions write, to prove a refusal changed nothing. */
  const state = async () => ({
    revision: await store.revision(),
    lbs: await store.db.selectFrom('load_balancers').selectAll().orderBy('id').execute(),
    listeners: await store.db.selectFrom('lb_listeners').selectAll().orderBy('id').execute(),
    targets: await store.db.selectFrom('lb_targets').selectAll().orderBy('listener_id').orderBy('private_ip').orderBy('port').execute(),
    health: await store.db.selectFrom('lb_target_health').selectAll().orderBy('listener_id').orderBy('private_ip').orderBy('host_id').execute(),
    vips: await store.db.selectFrom('private_ips').selectAll().where('owner_kind', '=', 'clb').orderBy('ip').execute(),
    tasks: (await store.db.selectFrom('tasks').select('id').execute()).length,
  });
  const refused = refusalCheck(state);
  /** The change log entries since `revision`, as kind:id. */
  const changesSince = async (revision: number) =>
    [...new Set((await store.db.selectFrom('changes').select(['kind', 'resource_id']).where('revision', '>', revision).execute()).map((c) => `${c.kind}:${c.resource_id}`))].sort();

  /** Posts a health report as an LB node does, over the agents socket. */
  const postHealth = (hostId: string, token: string, body: unknown) =>
    new Promise<{ status: number; body: string }>((ok, fail) => {
      let text = '';
      request({ socketPath: join(r.dataDir, 'agents.sock'), method: 'POST', path: `/v1/hosts/${hostId}/health`, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.on('data', (d) => (text += d));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
      })
        .on('error', fail)
        .end(typeof body === 'string' ? body : JSON.stringify(body));
    });

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    const vpc = r.vpc();
    vpcId = (await vpc.CreateVpc({ VpcName: 'v', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    otherVpc = (await vpc.CreateVpc({ VpcName: 'w', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    otherSubnet = (await vpc.CreateSubnet({ VpcId: otherVpc, SubnetName: 's', CidrBlock: '10.1.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    ins = (await r.cvm().RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, InstanceCount: 3 })).InstanceIdSet!.sort();
    const described = (await r.cvm().DescribeInstances({ InstanceIds: ins })).InstanceSet!;
    insIps = ins.map((id) => described.find((d) => d.InstanceId === id)!.PrivateIpAddresses![0]!);
    farIns = (await r.cvm().RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: otherVpc, SubnetId: otherSubnet } })).InstanceIdSet![0]!;
    bob = await r.newAccount('bob');
    const bobVpc = (await r.vpc(bob).CreateVpc({ VpcName: 'b', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const bobSubnet = (await r.vpc(bob).CreateSubnet({ VpcId: bobVpc, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    bobIns = (await r.cvm(bob).RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: bobVpc, SubnetId: bobSubnet } })).InstanceIdSet![0]!;
    bobLb = await newLb({ c: bob, vpc: bobVpc, subnet: bobSubnet });
    // An LB node; its agent has not reported, so tasks do not wait for it until a test says it has.
    lbToken = await registerHost(store, { id: 'lbn1', zone: 'local-1', underlay: '100.64.2.11', role: 'lb' });
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  it('creates an internal load balancer creating (Status 0) until every LB node holds it, refusing changes meanwhile', async () => {
    // The node has reported, but not applied anything new: the task waits for it.
    await store.db.updateTable('hosts').set({ reported_at: new Date().toISOString(), applied_revision: 0 }).where('id', '=', 'lbn1').execute();
    try {
      const rev = await store.revision();
      const out = await clb().CreateLoadBalancer({ LoadBalancerType: 'INTERNAL', VpcId: vpcId, SubnetId: subnetId, LoadBalancerName: 'first', Tags: [{ TagKey: 'team', TagValue: 'net' }] });
      assert.equal(out.DealName, out.RequestId, 'the DealName is the task');
      const id = out.LoadBalancerIds![0]!;
      assert.match(id, /^lb-[0-9a-z]{8}$/);
      const lb = await describeLb(id);
      assert.equal(lb.Status, 0, 'creating');
      assert.equal((await clb().DescribeTaskStatus({ TaskId: out.RequestId! })).Status, 2, 'running');
      assert.deepEqual((await clb().DescribeTaskStatus({ DealName: out.DealName! })).LoadBalancerIds, [id]);
      assert.deepEqual(await changesSince(rev), [`load_balancer:${id}`, `vpc:${vpcId}`]);
      const vip = await store.db.selectFrom('private_ips').selectAll().where('owner_id', '=', id).execute();
      assert.deepEqual(
        vip.map((v) => [v.subnet_id, v.ip, v.owner_kind]),
        [[subnetId, lb.LoadBalancerVips![0], 'clb']],
        'the VIP is a private address of the subnet',
      );
      assert.ok(!insIps.includes(lb.LoadBalancerVips![0]!), 'not an instance address');
      await refused('a listener while creating', () => clb().CreateListener({ LoadBalancerId: id, Ports: [80], Protocol: 'TCP' }), 'FailedOperation.ResourceInOperating');
      await refused('rename while creating', () => clb().ModifyLoadBalancerAttributes({ LoadBalancerId: id, LoadBalancerName: 'x' }), 'FailedOperation.ResourceInOperating');
      await refused('delete while creating', () => clb().DeleteLoadBalancer({ LoadBalancerIds: [id] }), 'FailedOperation.ResourceInOperating');
      // The node applies the revision that holds it.
      await store.db.updateTable('hosts').set({ applied_revision: await store.revision() }).where('id', '=', 'lbn1').execute();
      assert.equal(await settled(out.RequestId!), 0);
      const now = await describeLb(id);
      assert.equal(now.Status, 1, 'normal');
      assert.deepEqual(
        [now.LoadBalancerName, now.LoadBalancerType, now.Forward, now.VpcId, now.SubnetId, now.Tags],
        ['first', 'INTERNAL', 1, vpcId, subnetId, [{ TagKey: 'team', TagValue: 'net' }]],
      );
      assert.match(now.CreateTime!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      // A listener change is a task too: busy while the node has not applied it.
      const created = await clb().CreateListener({ LoadBalancerId: id, Ports: [80], Protocol: 'TCP' });
      assert.equal((await clb().DescribeTaskStatus({ TaskId: created.RequestId! })).Status, 2);
      await refused('targets while a listener is being created', () => clb().RegisterTargets({ LoadBalancerId: id, ListenerId: created.ListenerIds![0]!, Targets: [{ InstanceId: ins[0]!, Port: 80 }] }), 'FailedOperation.ResourceInOperating');
      await store.db.updateTable('hosts').set({ applied_revision: await store.revision() }).where('id', '=', 'lbn1').execute();
      assert.equal(await settled(created.RequestId!), 0);
      assert.equal((await clb().DescribeTaskStatus({ TaskId: created.RequestId! })).LoadBalancerIds, null, 'a listener task made no load balancer');
      await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [id] }).then(async (x) => {
        await store.db.updateTable('hosts').set({ applied_revision: await store.revision() }).where('id', '=', 'lbn1').execute();
        return x;
      }));
      assert.equal((await store.db.selectFrom('private_ips').selectAll().where('owner_id', '=', id).execute()).length, 0, 'the VIP is released');
    } finally {
      await store.db.updateTable('hosts').set({ reported_at: null }).where('id', '=', 'lbn1').execute();
    }
  });

  it('gives an OPEN load balancer the lowest free public address, which AllocateAddresses then never hands out', async () => {
    const id = await newLb({ type: 'OPEN' });
    const lb = await describeLb(id);
    assert.equal(lb.LoadBalancerVips![0], '198.51.100.2', 'the lowest free address of the pools');
    assert.equal(lb.SubnetId, '');
    assert.equal(lb.NetworkAttributes!.InternetMaxBandwidthOut, 10, 'the default bandwidth');
    const eip = (await r.vpc().AllocateAddresses({ AddressCount: 1 })).AddressSet![0]!;
    const ip = (await r.vpc().DescribeAddresses({ AddressIds: [eip] })).AddressSet![0]!.AddressIp!;
    assert.notEqual(ip, '198.51.100.2');
    await refused('a public VIP that an EIP holds', () => clb().CreateLoadBalancer({ LoadBalancerType: 'OPEN', VpcId: vpcId, Vip: ip }), 'InvalidParameterValue');
    await refused('a public VIP that a load balancer holds', () => clb().CreateLoadBalancer({ LoadBalancerType: 'OPEN', VpcId: vpcId, Vip: '198.51.100.2' }), 'InvalidParameterValue');
    await refused('a public VIP outside the pools', () => clb().CreateLoadBalancer({ LoadBalancerType: 'OPEN', VpcId: vpcId, Vip: '192.0.2.9' }), 'InvalidParameterValue.Range');
    const given = await done(clb().CreateLoadBalancer({ LoadBalancerType: 'OPEN', VpcId: vpcId, Vip: '198.51.100.200', InternetAccessible: { InternetMaxBandwidthOut: 100 } }));
    const g = await describeLb(given.LoadBalancerIds![0]!);
    assert.deepEqual([g.LoadBalancerVips, g.NetworkAttributes!.InternetMaxBandwidthOut], [['198.51.100.200'], 100]);
    await r.vpc().ReleaseAddresses({ AddressIds: [eip] });
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [id, given.LoadBalancerIds![0]!] }));
    assert.equal((await clb().DescribeLoadBalancers({ LoadBalancerVips: ['198.51.100.2', '198.51.100.200'] })).TotalCount, 0);
  });

  it('creates several at once (named by the system, as Tencent names them when more than one), once per ClientToken', async () => {
    const ask = { LoadBalancerType: 'INTERNAL', VpcId: vpcId, SubnetId: subnetId, Number: 3, LoadBalancerName: 'many', ClientToken: 'tok-1' };
    const first = await done(clb().CreateLoadBalancer(ask));
    assert.equal(first.LoadBalancerIds!.length, 3);
    const again = await clb().CreateLoadBalancer(ask);
    assert.deepEqual(again.LoadBalancerIds, first.LoadBalancerIds, 'the retry answers the first call');
    const set = (await clb().DescribeLoadBalancers({ LoadBalancerIds: first.LoadBalancerIds })).LoadBalancerSet!;
    assert.equal(set.length, 3);
    for (const lb of set) assert.equal(lb.LoadBalancerName, lb.LoadBalancerId);
    assert.equal(new Set(set.map((l) => l.LoadBalancerVips![0])).size, 3, 'a VIP each');
    await refused('the token with other parameters', () => clb().CreateLoadBalancer({ ...ask, Number: 2 }), 'IdempotentParameterMismatch');
    // One of the account's load balancers has the name already: the new one is named by the system.
    const one = await newLb({ name: 'dup' });
    const two = await newLb({ name: 'dup' });
    assert.deepEqual([(await describeLb(one)).LoadBalancerName, (await describeLb(two)).LoadBalancerName], ['dup', two]);
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [...first.LoadBalancerIds!, one, two] }));
  });

  it('refuses bad CreateLoadBalancer calls with precise codes and writes nothing', async () => {
    const base = { LoadBalancerType: 'INTERNAL', VpcId: vpcId, SubnetId: subnetId };
    const taken = insIps[0]!;
    const cases: [string, Record<string, unknown>, string][] = [
      ['no VpcId', { LoadBalancerType: 'OPEN' }, 'MissingParameter'],
      ['INTERNAL without SubnetId', { LoadBalancerType: 'INTERNAL', VpcId: vpcId }, 'MissingParameter'],
      ['OPEN with a SubnetId', { ...base, LoadBalancerType: 'OPEN' }, 'InvalidParameter'],
      ['a malformed VpcId', { ...base, VpcId: 'vpc-1' }, 'InvalidParameter.FormatError'],
      ['another account\'s VPC', { LoadBalancerType: 'OPEN', VpcId: 'vpc-00000000' }, 'InvalidParameterValue'],
      ['a subnet of another VPC', { ...base, SubnetId: otherSubnet }, 'InvalidParameterValue'],
      ['a VIP outside the subnet', { ...base, Vip: '10.0.2.5' }, 'InvalidParameterValue.Range'],
      ['a VIP taken by an instance', { ...base, Vip: taken }, 'InvalidParameterValue'],
      ['a reserved VIP', { ...base, Vip: '10.0.1.1' }, 'InvalidParameterValue'],
      ['a VIP that is no address', { ...base, Vip: '10.0.1.x' }, 'InvalidParameter.FormatError'],
      ['a VIP for several', { ...base, Vip: '10.0.1.200', Number: 2 }, 'InvalidParameter'],
      ['Number 21', { ...base, Number: 21 }, 'InvalidParameterValue.Range'],
      ['Number 0', { ...base, Number: 0 }, 'InvalidParameterValue.Range'],
      ['an unknown type', { ...base, LoadBalancerType: 'PUBLIC' }, 'InvalidParameterValue'],
      ['IPv6', { ...base, LoadBalancerType: 'OPEN', SubnetId: undefined, AddressIPVersion: 'IPv6FullChain' }, 'UnsupportedOperation'],
      ['a bandwidth package', { ...base, BandwidthPackageId: 'bwp-12345678' }, 'UnsupportedOperation'],
      ['charged by bandwidth package', { ...base, InternetAccessible: { InternetChargeType: 'BANDWIDTH_PACKAGE' } }, 'UnsupportedOperation'],
      ['an exclusive cluster', { ...base, ExclusiveCluster: { L4Clusters: [{ ClusterId: 'c' }] } }, 'UnsupportedOperation'],
      ['SnatPro', { ...base, SnatPro: true }, 'UnsupportedOperation'],
      ['a performance-capacity spec', { ...base, SlaType: 'clb.c2.medium' }, 'UnsupportedOperation'],
      ['an EIP for an internal one', { ...base, EipAddressId: 'eip-12345678' }, 'UnsupportedOperation'],
      ['bandwidth 0', { ...base, LoadBalancerType: 'OPEN', SubnetId: undefined, InternetAccessible: { InternetMaxBandwidthOut: 0 } }, 'InvalidParameterValue.Range'],
      ['a name too long', { ...base, LoadBalancerName: 'x'.repeat(81) }, 'InvalidParameterValue.Length'],
      ['Forward 0', { ...base, Forward: 0 }, 'InvalidParameterValue'],
      ['a zone not of the region', { LoadBalancerType: 'OPEN', VpcId: vpcId, ZoneId: 'ap-guangzhou-1' }, 'InvalidParameterValue'],
      ['an unknown field', { ...base, Colour: 'red' }, 'UnknownParameter'],
    ];
    for (const [name, params, code] of cases) await refused(name, () => clb().CreateLoadBalancer(loose(params)), code);
    // Another account's VPC answers as a missing one.
    const bobVpc = (await r.vpc(bob).DescribeVpcs({})).VpcSet![0]!.VpcId!;
    await refused('another account\'s VPC', () => clb().CreateLoadBalancer({ LoadBalancerType: 'OPEN', VpcId: bobVpc }), 'InvalidParameterValue');
  });

  it('describes load balancers by IDs, filters and search, in the model of the SDK', async () => {
    const a = await newLb({ name: 'alpha-web', tags: { env: 'prod' } });
    const b = await newLb({ type: 'OPEN', name: 'beta' });
    await clb().ModifyLoadBalancerAttributes({ LoadBalancerId: a, DeleteProtect: true });
    const aLb = await describeLb(a);
    assert.deepEqual(aLb.AttributeFlags, ['DeleteProtect']);
    const ids = async (q: Parameters<ReturnType<typeof clb>['DescribeLoadBalancers']>[0]) =>
      (await clb().DescribeLoadBalancers(q)).LoadBalancerSet!.map((l) => l.LoadBalancerId!).filter((id) => id === a || id === b).sort();
    assert.deepEqual(await ids({ LoadBalancerIds: [a, b] }), [a, b].sort());
    assert.deepEqual(await ids({ LoadBalancerType: 'OPEN' }), [b]);
    assert.deepEqual(await ids({ LoadBalancerName: 'ALPHA' }), [a], 'fuzzy, any case');
    assert.deepEqual(await ids({ SearchKey: aLb.LoadBalancerVips![0]! }), [a]);
    assert.deepEqual(await ids({ LoadBalancerVips: aLb.LoadBalancerVips }), [a]);
    assert.deepEqual(await ids({ VpcId: otherVpc }), []);
    assert.deepEqual(await ids({ Filters: [{ Name: 'vip-isp', Values: ['INTERNAL'] }] }), [a]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'exclusive', Values: ['1'] }] }), []);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag:env', Values: ['prod'] }] }), [a]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag:env', Values: ['dev'] }] }), []);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag-key', Values: ['env'] }, { Name: 'vip-isp', Values: ['BGP'] }] }), []);
    assert.deepEqual(await ids({ Forward: 0 }), []);
    assert.deepEqual(await ids({ WithRs: 1 }), []);
    assert.deepEqual(await ids({ WithRs: 0, LoadBalancerIds: [a, b] }), [a, b].sort());
    const ordered = (await clb().DescribeLoadBalancers({ LoadBalancerIds: [a, b], OrderBy: 'LoadBalancerName', OrderType: 0 })).LoadBalancerSet!.map((l) => l.LoadBalancerId);
    assert.deepEqual(ordered, [a, b]);
    const page = await clb().DescribeLoadBalancers({ LoadBalancerIds: [a, b], Limit: 1 });
    assert.deepEqual([page.TotalCount, page.LoadBalancerSet!.length], [2, 1]);
    assert.equal((await clb(bob).DescribeLoadBalancers({ LoadBalancerIds: [a] })).TotalCount, 0, 'another account sees none');
    await refused('a malformed ID', () => clb().DescribeLoadBalancers({ LoadBalancerIds: ['lb-1'] }), 'InvalidParameter.FormatError');
    await refused('an unknown filter', () => clb().DescribeLoadBalancers({ Filters: [{ Name: 'colour', Values: ['x'] }] }), 'InvalidParameterValue.InvalidFilter');
    await refused('21 IDs', () => clb().DescribeLoadBalancers({ LoadBalancerIds: Array.from({ length: 21 }, () => a) }), 'InvalidParameterValue.Length');
    // Delete protection, all or nothing.
    await refused('delete a protected one with another', () => clb().DeleteLoadBalancer({ LoadBalancerIds: [b, a] }), 'FailedOperation', /delete protection/);
    await refused('delete an unknown one with another', () => clb().DeleteLoadBalancer({ LoadBalancerIds: [b, 'lb-00000000'] }), 'InvalidParameter.LBIdNotFound');
    await refused('delete another account\'s', () => clb().DeleteLoadBalancer({ LoadBalancerIds: [bobLb] }), 'InvalidParameter.LBIdNotFound');
    await refused('a name another load balancer has', () => clb().ModifyLoadBalancerAttributes({ LoadBalancerId: b, LoadBalancerName: 'alpha-web' }), 'InvalidParameterValue.Duplicate');
    await refused('modify another account\'s', () => clb().ModifyLoadBalancerAttributes({ LoadBalancerId: bobLb, LoadBalancerName: 'z' }), 'InvalidParameter.LBIdNotFound');
    const rev = await store.revision();
    await clb().ModifyLoadBalancerAttributes({ LoadBalancerId: a, DeleteProtect: false, LoadBalancerName: 'alpha-2', LoadBalancerPassToTarget: true });
    assert.deepEqual(await changesSince(rev), [`load_balancer:${a}`, `vpc:${vpcId}`]);
    const changed = await describeLb(a);
    assert.deepEqual([changed.LoadBalancerName, changed.LoadBalancerPassToTarget, changed.AttributeFlags], ['alpha-2', true, []]);
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [a, b] }));
  });

  it('creates TCP and UDP listeners with Tencent\'s health check defaults, and refuses what Weft cannot do', async () => {
    const lb = await newLb();
    const tcp = await done(clb().CreateListener({ LoadBalancerId: lb, Ports: [80, 443], Protocol: 'TCP', ListenerNames: ['web', 'tls'] }));
    const udp = await done(clb().CreateListener({ LoadBalancerId: lb, Ports: [80], Protocol: 'UDP', SessionExpireTime: 60 }));
    const all = (await clb().DescribeListeners({ LoadBalancerId: lb })).Listeners!;
    assert.deepEqual(
      all.map((l) => [l.ListenerId, l.Protocol, l.Port, l.ListenerName, l.Scheduler, l.SessionExpireTime]),
      [
        [tcp.ListenerIds![0], 'TCP', 80, 'web', 'WRR', 0],
        [tcp.ListenerIds![1], 'TCP', 443, 'tls', 'WRR', 0],
        [udp.ListenerIds![0], 'UDP', 80, '', 'WRR', 60],
      ],
    );
    const hc = (l: (typeof all)[number]) => {
      const h = l.HealthCheck!;
      return [h.HealthSwitch, h.CheckType, h.IntervalTime, h.TimeOut, h.HealthNum, h.UnHealthNum, h.CheckPort, h.SourceIpType];
    };
    assert.deepEqual(hc(all[0]!), [1, 'TCP', 5, 2, 3, 3, -1, 1]);
    assert.deepEqual(hc(all[2]!), [1, 'PING', 5, 2, 3, 3, -1, 1]);
    assert.equal((await clb().DescribeListeners({ LoadBalancerId: lb, Protocol: 'UDP' })).TotalCount, 1);
    assert.deepEqual((await clb().DescribeListeners({ LoadBalancerId: lb, Port: 443 })).Listeners!.map((l) => l.ListenerId), [tcp.ListenerIds![1]]);
    // An HTTP check of a TCP listener: the path, method and codes default as Tencent's.
    const http = await done(clb().CreateListener({ LoadBalancerId: lb, Ports: [8080], Protocol: 'TCP', HealthCheck: { CheckType: 'HTTP', HttpVersion: 'HTTP/1.1', HttpCheckDomain: 'app.example' } }));
    const h = (await clb().DescribeListeners({ LoadBalancerId: lb, ListenerIds: http.ListenerIds })).Listeners![0]!.HealthCheck!;
    assert.deepEqual([h.CheckType, h.HttpCheckPath, h.HttpCheckMethod, h.HttpCode, h.HttpCheckDomain, h.HttpVersion], ['HTTP', '/', 'HEAD', 31, 'app.example', 'HTTP/1.1']);
    const stored = (await store.db.selectFrom('lb_listeners').select('health_check').where('id', '=', http.ListenerIds![0]!).executeTakeFirstOrThrow()).health_check;
    assert.deepEqual(JSON.parse(stored), h, 'stored as answered');
    assert.deepEqual(
      healthCheckSpec(stored, 'tcp'),
      { type: 'http', intervalMs: 5000, timeoutMs: 2000, rise: 3, fall: 3, httpPath: '/', httpDomain: 'app.example', httpMethod: 'HEAD', httpCodes: 31 },
      'what the compiler makes the LB nodes probe',
    );

    const L = (o: Record<string, unknown>) => () => clb().CreateListener(loose({ LoadBalancerId: lb, Ports: [9000], Protocol: 'TCP', ...o }));
    const cases: [string, () => Promise<unknown>, string, RegExp?][] = [
      ['a port in use by the protocol', L({ Ports: [443] }), 'InvalidParameter.PortCheckFailed'],
      ['a port twice', L({ Ports: [9000, 9000] }), 'InvalidParameter.PortCheckFailed'],
      ['port 0', L({ Ports: [0] }), 'InvalidParameter.PortCheckFailed'],
      ['LEAST_CONN', L({ Scheduler: 'LEAST_CONN' }), 'InvalidParameterValue', /Maglev.*weights.*connection counts/],
      ['IP_HASH', L({ Scheduler: 'IP_HASH' }), 'InvalidParameterValue'],
      ['HTTP', L({ Protocol: 'HTTP' }), 'InvalidParameter.ProtocolCheckFailed'],
      ['an unknown protocol', L({ Protocol: 'SCTP' }), 'InvalidParameterValue'],
      ['CUSTOM checks', L({ HealthCheck: { CheckType: 'CUSTOM' } }), 'InvalidParameterValue', /custom probes/],
      ['PING on TCP', L({ HealthCheck: { CheckType: 'PING' } }), 'InvalidParameterValue'],
      ['TCP checks on UDP', L({ Protocol: 'UDP', HealthCheck: { CheckType: 'TCP' } }), 'InvalidParameterValue'],
      ['a timeout not under the interval', L({ HealthCheck: { IntervalTime: 3, TimeOut: 3 } }), 'InvalidParameterValue'],
      ['an interval of 1 s', L({ HealthCheck: { IntervalTime: 1 } }), 'InvalidParameterValue.Range'],
      ['HealthNum 11', L({ HealthCheck: { HealthNum: 11 } }), 'InvalidParameterValue.Range'],
      ['HTTP checks without a version', L({ HealthCheck: { CheckType: 'HTTP', HttpCheckDomain: 'a.b' } }), 'MissingParameter'],
      ['HttpCode 32', L({ HealthCheck: { CheckType: 'HTTP', HttpVersion: 'HTTP/1.1', HttpCheckDomain: 'a.b', HttpCode: 32 } }), 'InvalidParameterValue.Range'],
      ['probes from the VIP', L({ HealthCheck: { SourceIpType: 0 } }), 'InvalidParameterValue'],
      ['SessionExpireTime 10', L({ SessionExpireTime: 10 }), 'InvalidParameterValue'],
      ['names not one per port', L({ ListenerNames: ['a', 'b'] }), 'InvalidParameterValue'],
      ['a target group', L({ TargetType: 'TARGETGROUP' }), 'InvalidParameterValue'],
      ['a port range', L({ EndPort: 9010 }), 'InvalidParameterValue'],
      ['an unknown load balancer', L({ LoadBalancerId: 'lb-00000000' }), 'InvalidParameter.LBIdNotFound'],
      ['another account\'s load balancer', L({ LoadBalancerId: bobLb }), 'InvalidParameter.LBIdNotFound'],
      ['a malformed load balancer', L({ LoadBalancerId: 'clb-1' }), 'InvalidParameter.FormatError'],
    ];
    for (const [name, call, code, message] of cases) await refused(name, call, code, message);

    // ModifyListener: a change of the check keeps what it does not name.
    await done(clb().ModifyListener({ LoadBalancerId: lb, ListenerId: http.ListenerIds![0]!, ListenerName: 'app', HealthCheck: { IntervalTime: 10, HttpCheckPath: '/health' } }));
    const m = (await clb().DescribeListeners({ LoadBalancerId: lb, ListenerIds: http.ListenerIds })).Listeners![0]!;
    assert.deepEqual([m.ListenerName, m.HealthCheck!.IntervalTime, m.HealthCheck!.HttpCheckPath, m.HealthCheck!.HttpCheckDomain, m.HealthCheck!.TimeOut], ['app', 10, '/health', 'app.example', 2]);
    await done(clb().ModifyListener({ LoadBalancerId: lb, ListenerId: udp.ListenerIds![0]!, HealthCheck: { HealthSwitch: 0 } }));
    const off = (await store.db.selectFrom('lb_listeners').select('health_check').where('id', '=', udp.ListenerIds![0]!).executeTakeFirstOrThrow()).health_check;
    assert.equal(JSON.parse(off).HealthSwitch, 0);
    assert.equal(healthCheckSpec(off, 'udp'), undefined, 'checks off: nothing to probe');
    assert.deepEqual(healthCheckSpec((await store.db.selectFrom('lb_listeners').select('health_check').where('id', '=', tcp.ListenerIds![0]!).executeTakeFirstOrThrow()).health_check, 'tcp'), {
      type: 'tcp',
      intervalMs: 5000,
      timeoutMs: 2000,
      rise: 3,
      fall: 3,
    });
    const M = (o: Record<string, unknown>) => () => clb().ModifyListener(loose({ LoadBalancerId: lb, ListenerId: tcp.ListenerIds![0]!, ...o }));
    for (const [name, call, code] of [
      ['LEAST_CONN', M({ Scheduler: 'LEAST_CONN' }), 'InvalidParameterValue'],
      ['an unknown listener', M({ ListenerId: 'lbl-00000000', ListenerName: 'x' }), 'InvalidParameter.ListenerIdNotFound'],
      ['a malformed listener', M({ ListenerId: 'lst-1', ListenerName: 'x' }), 'InvalidParameter.FormatError'],
      ['a listener of another load balancer', M({ LoadBalancerId: bobLb, ListenerName: 'x' }), 'InvalidParameter.LBIdNotFound'],
      ['an interval of 301 s', M({ HealthCheck: { IntervalTime: 301 } }), 'InvalidParameterValue.Range'],
    ] as const)
      await refused(`modify: ${name}`, call, code);
    await refused('delete an unknown listener', () => clb().DeleteListener({ LoadBalancerId: lb, ListenerId: 'lbl-00000000' }), 'InvalidParameter.ListenerIdNotFound');
    const rev = await store.revision();
    await done(clb().DeleteListener({ LoadBalancerId: lb, ListenerId: tcp.ListenerIds![1]! }));
    assert.deepEqual(await changesSince(rev), [`load_balancer:${lb}`, `vpc:${vpcId}`]);
    assert.equal((await clb().DescribeListeners({ LoadBalancerId: lb })).TotalCount, 3);
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [lb] }));
    assert.equal((await store.db.selectFrom('lb_listeners').selectAll().where('load_balancer_id', '=', lb).execute()).length, 0, 'listeners go with it');
  });

  it('registers, reweighs and deregisters targets of the VPC\'s instances, refusing others', async () => {
    const lb = await newLb();
    const [l] = (await done(clb().CreateListener({ LoadBalancerId: lb, Ports: [80], Protocol: 'TCP' }))).ListenerIds!;
    const rev = await store.revision();
    await done(clb().RegisterTargets({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ InstanceId: ins[0]!, Port: 8080 }, { EniIp: insIps[1]!, Port: 8080, Weight: 50 }] }));
    assert.deepEqual(await changesSince(rev), [`load_balancer:${lb}`, `vpc:${vpcId}`]);
    const targets = async () =>
      (await clb().DescribeTargets({ LoadBalancerId: lb })).Listeners![0]!.Targets!.map((t) => [t.InstanceId, t.PrivateIpAddresses![0], t.Port, t.Weight, t.Type]);
    assert.deepEqual(await targets(), [
      [ins[0], insIps[0], 8080, 10, 'CVM'],
      [ins[1], insIps[1], 8080, 50, 'CVM'],
    ].sort((a, b) => String(a[1]).localeCompare(String(b[1]))));
    assert.equal((await describeLb(lb)).TargetCount, null);
    assert.equal((await clb().DescribeLoadBalancers({ LoadBalancerIds: [lb], AdditionalFields: ['TargetCount'] })).LoadBalancerSet![0]!.TargetCount, 2);
    assert.deepEqual((await clb().DescribeLoadBalancers({ BackendPrivateIps: [insIps[1]!] })).LoadBalancerSet!.map((x) => x.LoadBalancerId), [lb]);
    assert.equal((await clb().DescribeTargets({ LoadBalancerId: lb, Filters: [{ Name: 'private-ip-address', Values: [insIps[0]!] }] })).Listeners![0]!.Targets!.length, 1);

    const T = (targets: Record<string, unknown>[], o: Record<string, unknown> = {}) => () => clb().RegisterTargets(loose({ LoadBalancerId: lb, ListenerId: l, Targets: targets, ...o }));
    const cases: [string, () => Promise<unknown>, string][] = [
      ['a weight of 101', T([{ InstanceId: ins[2], Port: 80, Weight: 101 }]), 'InvalidParameterValue'],
      ['a weight of -1', T([{ InstanceId: ins[2], Port: 80, Weight: -1 }]), 'InvalidParameterValue'],
      ['port 0', T([{ InstanceId: ins[2], Port: 0 }]), 'InvalidParameterValue'],
      ['an instance of another VPC', T([{ InstanceId: farIns, Port: 80 }]), 'InvalidParameterValue'],
      ['another account\'s instance', T([{ InstanceId: bobIns, Port: 80 }]), 'InvalidParameterValue'],
      ['an address of no instance', T([{ EniIp: '10.0.1.250', Port: 80 }]), 'InvalidParameterValue'],
      ['a malformed instance', T([{ InstanceId: 'i-1', Port: 80 }]), 'InvalidParameter.FormatError'],
      ['both InstanceId and EniIp', T([{ InstanceId: ins[2], EniIp: insIps[2], Port: 80 }]), 'InvalidParameter'],
      ['neither', T([{ Port: 80 }]), 'InvalidParameter'],
      ['one registered already', T([{ InstanceId: ins[2], Port: 80 }, { InstanceId: ins[0], Port: 8080 }]), 'InvalidParameterValue.Duplicate'],
      ['one twice', T([{ InstanceId: ins[2], Port: 80 }, { InstanceId: ins[2], Port: 80 }]), 'InvalidParameterValue.Duplicate'],
      ['the same by ID and address', T([{ InstanceId: ins[2], Port: 80 }, { EniIp: insIps[2], Port: 80 }]), 'InvalidParameterValue.Duplicate'],
      ['21 targets', T(Array.from({ length: 21 }, (_, i) => ({ InstanceId: ins[2], Port: 1000 + i }))), 'LimitExceeded'],
      ['an unknown listener', T([{ InstanceId: ins[2], Port: 80 }], { ListenerId: 'lbl-00000000' }), 'InvalidParameter.ListenerIdNotFound'],
      ['an unknown load balancer', T([{ InstanceId: ins[2], Port: 80 }], { LoadBalancerId: 'lb-00000000' }), 'InvalidParameter.LBIdNotFound'],
      ['another account\'s load balancer', T([{ InstanceId: ins[2], Port: 80 }], { LoadBalancerId: bobLb }), 'InvalidParameter.LBIdNotFound'],
      ['a forwarding rule', T([{ InstanceId: ins[2], Port: 80 }], { LocationId: 'loc-12345678' }), 'InvalidParameter'],
    ];
    for (const [name, call, code] of cases) await refused(name, call, code);

    await done(clb().ModifyTargetWeight({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ InstanceId: ins[0]!, Port: 8080 }], Weight: 0 }));
    await done(clb().ModifyTargetWeight({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ EniIp: insIps[1]!, Port: 8080, Weight: 70 }], Weight: 5 }));
    assert.deepEqual((await targets()).map((t) => [t[0], t[3]]).sort(), [[ins[0], 0], [ins[1], 70]].sort());
    await refused('reweigh to 101', () => clb().ModifyTargetWeight({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ InstanceId: ins[0]!, Port: 8080 }], Weight: 101 }), 'InvalidParameterValue');
    await refused('reweigh one not registered', () => clb().ModifyTargetWeight({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ InstanceId: ins[2]!, Port: 8080 }], Weight: 1 }), 'InvalidParameterValue');
    await refused('deregister one not registered, with one that is', () => clb().DeregisterTargets({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ InstanceId: ins[0]!, Port: 8080 }, { InstanceId: ins[0]!, Port: 81 }] }), 'InvalidParameterValue');
    await done(clb().DeregisterTargets({ LoadBalancerId: lb, ListenerId: l!, Targets: [{ InstanceId: ins[0]!, Port: 8080 }] }));
    assert.deepEqual((await targets()).map((t) => t[0]), [ins[1]]);
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [lb] }));
    assert.equal((await store.db.selectFrom('lb_targets').selectAll().where('load_balancer_id', '=', lb).execute()).length, 0, 'targets go with it');
  });

  it('keeps a VPC and subnet while load balancers use them; a terminated instance leaves its listeners', async () => {
    const vpc2 = (await r.vpc().CreateVpc({ VpcName: 'x', CidrBlock: '10.2.0.0/16' })).Vpc!.VpcId!;
    const sub2 = (await r.vpc().CreateSubnet({ VpcId: vpc2, SubnetName: 's', CidrBlock: '10.2.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const open = await newLb({ type: 'OPEN', vpc: vpc2 });
    const internal = await newLb({ vpc: vpc2, subnet: sub2 });
    const victim = (await r.cvm().RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpc2, SubnetId: sub2 } })).InstanceIdSet![0]!;
    const [l] = (await done(clb().CreateListener({ LoadBalancerId: internal, Ports: [53], Protocol: 'UDP' }))).ListenerIds!;
    await done(clb().RegisterTargets({ LoadBalancerId: internal, ListenerId: l!, Targets: [{ InstanceId: victim, Port: 53 }] }));
    await refused('delete the subnet', () => r.vpc().DeleteSubnet({ SubnetId: sub2 }), 'ResourceInUse');
    const rev = await store.revision();
    await r.cvm().TerminateInstances({ InstanceIds: [victim] });
    assert.ok((await changesSince(rev)).includes(`load_balancer:${internal}`), 'the load balancer is recorded changed');
    assert.deepEqual((await clb().DescribeTargets({ LoadBalancerId: internal })).Listeners![0]!.Targets, []);
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [internal] }));
    await r.vpc().DeleteSubnet({ SubnetId: sub2 });
    const e = await errorOf(r.vpc().DeleteVpc({ VpcId: vpc2 }));
    assert.equal(e.code, 'ResourceInUse');
    assert.match(e.message, new RegExp(open));
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [open] }));
    await r.vpc().DeleteVpc({ VpcId: vpc2 });
  });

  it('answers DescribeTaskStatus by TaskId or DealName, refusing bad and foreign IDs', async () => {
    const out = await clb().CreateLoadBalancer({ LoadBalancerType: 'INTERNAL', VpcId: vpcId, SubnetId: subnetId });
    assert.equal(await settled(out.RequestId!), 0);
    const s = await clb().DescribeTaskStatus({ DealName: out.DealName! });
    assert.deepEqual([s.Status, s.LoadBalancerIds], [0, out.LoadBalancerIds]);
    await refused('neither', () => clb().DescribeTaskStatus({}), 'InvalidParameter');
    await refused('not a task ID', () => clb().DescribeTaskStatus({ TaskId: 'task-1' }), 'InvalidParameter');
    await refused('an unknown task', () => clb().DescribeTaskStatus({ TaskId: '00000000-0000-4000-8000-000000000000' }), 'InvalidParameter');
    await refused('another account\'s task', () => clb(bob).DescribeTaskStatus({ TaskId: out.RequestId! }), 'InvalidParameter');
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: out.LoadBalancerIds! }));
  });

  it('takes health reports from LB nodes only, strictly, and DescribeTargetHealth answers what they say', async () => {
    const lb = await newLb();
    const [tcp] = (await done(clb().CreateListener({ LoadBalancerId: lb, Ports: [80], Protocol: 'TCP' }))).ListenerIds!;
    const [udp] = (await done(clb().CreateListener({ LoadBalancerId: lb, Ports: [53], Protocol: 'UDP', HealthCheck: { HealthSwitch: 0 } }))).ListenerIds!;
    await done(clb().RegisterTargets({ LoadBalancerId: lb, ListenerId: tcp!, Targets: [{ InstanceId: ins[0]!, Port: 8080 }, { InstanceId: ins[1]!, Port: 8080 }] }));
    await done(clb().RegisterTargets({ LoadBalancerId: lb, ListenerId: udp!, Targets: [{ InstanceId: ins[0]!, Port: 53 }] }));
    const health = async () => {
      const ls = (await clb().DescribeTargetHealth({ LoadBalancerIds: [lb] })).LoadBalancers![0]!.Listeners!;
      return Object.fromEntries(ls.flatMap((l) => l.Rules![0]!.Targets!.map((t) => [`${l.Protocol} ${t.TargetId}`, `${t.HealthStatusDetail} ${t.HealthStatus}`])));
    };
    assert.deepEqual(await health(), { [`TCP ${ins[0]}`]: 'Unknown false', [`TCP ${ins[1]}`]: 'Unknown false', [`UDP ${ins[0]}`]: 'Close true' });

    const hostToken = await registerHost(store, { id: 'h9', zone: 'local-1', underlay: '100.64.0.99' });
    // A new host of local-1 lets the server's scheduler (on its 2 s timer) place the pending instances there: wait
    // for that placement, or it lands between the two snapshots below.
    await until('the instances of local-1 placed on h9', async () => !(await store.db.selectFrom('instances').select('id').where('zone', '=', 'local-1').where('host_id', 'is', null).executeTakeFirst()), 20_000);
    const alive = { targets: [{ listenerId: tcp, ip: insIps[0], port: 8080, status: 'Alive' }] };
    let before_ = await state();
    assert.equal((await postHealth('h9', hostToken, alive)).status, 403, 'a host is no LB node');
    assert.equal((await postHealth('lbn1', 'wrong', alive)).status, 401);
    for (const [name, body] of [
      ['not JSON', '{"targets": ['],
      ['no targets', {}],
      ['an unknown field', { targets: [], extra: 1 }],
      ['a bad status', { targets: [{ listenerId: tcp, ip: insIps[0], port: 8080, status: 'Fine' }] }],
      ['a bad address', { targets: [{ listenerId: tcp, ip: '10.0.1', port: 8080, status: 'Alive' }] }],
      ['a bad port', { targets: [{ listenerId: tcp, ip: insIps[0], port: 70000, status: 'Alive' }] }],
      ['a bad listener', { targets: [{ listenerId: 'x', ip: insIps[0], port: 8080, status: 'Alive' }] }],
      ['a target twice', { targets: [alive.targets[0], alive.targets[0]] }],
    ] as const)
      assert.equal((await postHealth('lbn1', lbToken, body)).status, 400, name);
    assert.deepEqual(await state(), before_, 'nothing kept of refused reports');

    let rev = await store.revision();
    const first = await postHealth('lbn1', lbToken, { targets: [...alive.targets, { listenerId: tcp, ip: insIps[1], port: 8080, status: 'Dead' }, { listenerId: tcp, ip: '10.0.1.250', port: 1, status: 'Dead' }] });
    assert.deepEqual([first.status, JSON.parse(first.body)], [200, { accepted: 2, dropped: 1, changed: 2 }]);
    assert.deepEqual(await changesSince(rev), [`load_balancer:${lb}`, `vpc:${vpcId}`], 'the LB nodes get the health');
    assert.deepEqual(await health(), { [`TCP ${ins[0]}`]: 'Alive true', [`TCP ${ins[1]}`]: 'Dead false', [`UDP ${ins[0]}`]: 'Close true' });
    // The same again: nothing written.
    before_ = await state();
    assert.deepEqual(JSON.parse((await postHealth('lbn1', lbToken, { targets: [...alive.targets, { listenerId: tcp, ip: insIps[1], port: 8080, status: 'Dead' }] })).body), { accepted: 2, dropped: 0, changed: 0 });
    assert.deepEqual(await state(), before_, 'unchanged statuses write nothing');
    // A second node that finds the dead one alive makes it alive; one that says nothing of a target leaves it to the others.
    const token2 = await registerHost(store, { id: 'lbn2', zone: 'local-2', underlay: '100.64.2.12', role: 'lb' });
    await postHealth('lbn2', token2, { targets: [{ listenerId: tcp, ip: insIps[1], port: 8080, status: 'Alive' }] });
    assert.equal((await health())[`TCP ${ins[1]}`], 'Alive true');
    rev = await store.revision();
    assert.deepEqual(JSON.parse((await postHealth('lbn2', token2, { targets: [] })).body), { accepted: 0, dropped: 0, changed: 1 }, 'what it no longer reports goes');
    assert.deepEqual(await changesSince(rev), [`load_balancer:${lb}`, `vpc:${vpcId}`]);
    assert.equal((await health())[`TCP ${ins[1]}`], 'Dead false');
    // Rows go with their target and listener.
    await done(clb().DeregisterTargets({ LoadBalancerId: lb, ListenerId: tcp!, Targets: [{ InstanceId: ins[1]!, Port: 8080 }] }));
    assert.deepEqual((await store.db.selectFrom('lb_target_health').select('private_ip').execute()).map((h) => h.private_ip), [insIps[0]]);
    await done(clb().DeleteListener({ LoadBalancerId: lb, ListenerId: tcp! }));
    assert.equal((await store.db.selectFrom('lb_target_health').selectAll().execute()).length, 0);
    await refused('health of an unknown load balancer', () => clb().DescribeTargetHealth({ LoadBalancerIds: [lb, 'lb-00000000'] }), 'InvalidParameter.LBIdNotFound');
    await refused('health of another account\'s', () => clb().DescribeTargetHealth({ LoadBalancerIds: [bobLb] }), 'InvalidParameter.LBIdNotFound');
    await done(clb().DeleteLoadBalancer({ LoadBalancerIds: [lb] }));
    await store.db.deleteFrom('hosts').where('id', 'in', ['h9', 'lbn2']).execute();
  });
});
