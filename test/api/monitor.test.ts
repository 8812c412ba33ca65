/**
 * The monitor 2018-07-24 actions through the official SDK, and the counter
 * reports they answer from, against a real `weft server`: a test plays a
 * host's agent over the agents' socket (POST /v1/hosts/h1/counters) with
 * counters it chose, so the figures GetMonitorData answers, and GET /metrics
 * exports, are known exactly. Bad input gets Tencent's codes and reads nothing.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as MonitorClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/monitor/v20180724/monitor_client.js';
import type { InstanceCounterSample } from '../../src/contract/agent-report.js';
import { fetchDocument, sendCounters, sendFlows, type LinkOptions } from '../../src/agent/controller-link.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorOf, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

describe(`monitor API and counter reports (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let bob: Creds;
  let h1: LinkOptions;
  let gw1: LinkOptions;
  let ins = '';
  let bobIns = '';
  const monitor = (c?: Creds) =>
    new MonitorClient({ credential: { secretId: (c ?? r.admin).SecretId, secretKey: (c ?? r.admin).SecretKey }, region: 'local', profile: { httpProfile: { endpoint: r.endpoint, protocol: 'http://', reqTimeout: 30 } } });
  const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', '+00:00');
  const metricsText = () =>
    new Promise<string>((ok, fail) =>
      request(`http://${r.endpoint}/metrics`, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => (res.statusCode === 200 ? ok(t) : fail(new Error(`/metrics answered ${res.statusCode}`))));
      })
        .on('error', fail)
        .end(),
    );
  const sample = (instanceId: string, atS: number, c: Partial<InstanceCounterSample>): InstanceCounterSample => ({
    instanceId,
    at: new Date(atS * 1000).toISOString(),
    inBytes: 0,
    outBytes: 0,
    inPackets: 0,
    outPackets: 0,
    sgDropPackets: 0,
    aclDropPackets: 0,
    ...c,
  });
  const launch = async (c?: Creds) => {
    const cred = c ? { secretId: c.SecretId, secretKey: c.SecretKey } : undefined;
    const vpc = cred ? r.vpc(c) : r.vpc();
    const cvm = cred ? r.cvm(c) : r.cvm();
    const vpcId = (await vpc.CreateVpc({ VpcName: 'm', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'm', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const id = (await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId } })).InstanceIdSet![0]!;
    // Placement is a task: the controller takes counters of an instance only from the host it is placed on.
    for (let i = 0; i < 100; i++) {
      const row = await store.db.selectFrom('instances').select('host_id').where('id', '=', id).executeTakeFirst();
      if (row?.host_id === 'h1') return id;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    throw new Error(`${id} was not placed on h1`);
  };

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    h1 = { controller: `unix:${join(r.dataDir, 'agents.sock')}`, hostId: 'h1', token: await registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' }) };
    gw1 = { ...h1, hostId: 'gw1', token: await registerHost(store, { id: 'gw1', zone: 'local-1', underlay: '100.64.1.11', role: 'gateway' }) };
    bob = await r.newAccount('bob');
    ins = await launch();
    bobIns = await launch(bob);
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  it('DescribeBaseMetrics lists the QCE/CVM network metrics in Tencent units with periods 10 and 60', async () => {
    const all = await monitor().DescribeBaseMetrics({ Namespace: 'QCE/CVM' });
    const byName = Object.fromEntries(all.MetricSet!.map((m) => [m.MetricName, m]));
    assert.deepEqual(Object.keys(byName).sort(), ['LanInpkg', 'LanIntraffic', 'LanOutpkg', 'LanOuttraffic']);
    assert.equal(byName.LanOuttraffic!.Unit, 'Mbps');
    assert.equal(byName.LanInpkg!.Unit, 'Packets/s');
    assert.deepEqual(byName.LanIntraffic!.Period, [10, 60]);
    assert.deepEqual(byName.LanIntraffic!.Dimensions, [{ Dimensions: ['InstanceId'] }]);
    const one = await monitor().DescribeBaseMetrics({ Namespace: 'QCE/CVM', MetricName: 'LanOutpkg' });
    assert.deepEqual(one.MetricSet!.map((m) => m.MetricName), ['LanOutpkg']);
  });

  it('turns reported counters into 10 s and 60 s data points and /metrics counters', async () => {
    // A bucket past the 24 h retention, to be pruned by the first report the controller takes.
    const stale = Math.floor(Date.now() / 1000) - 25 * 3600;
    await store.db.insertInto('monitor_samples').values({ resource_id: ins, at: stale, in_bytes: 1, out_bytes: 1, in_packets: 1, out_packets: 1, sg_drop_packets: 0, acl_drop_packets: 0 }).execute();
    const t0 = Math.floor(Date.now() / 1000 / 60) * 60 - 120; // two whole minutes ago, minute-aligned
    // Readings every 10 s on bucket edges: 1 250 000 bytes out per 10 s = 1 Mbps; 1 000 packets in per 10 s = 100 packets/s.
    const readings = [0, 1, 2, 3, 4, 5, 6].map((i) => sample(ins, t0 + 10 * i, { outBytes: 1_250_000 * i, inPackets: 1000 * i, sgDropPackets: 3 * i }));
    for (const s of readings) await sendCounters(h1, { instances: [s], conntrack: [{ vpcId: 'vpc-abcd1234', entries: 7 }] });
    const get = (MetricName: string, Period: number) =>
      monitor().GetMonitorData({ Namespace: 'QCE/CVM', MetricName, Period, StartTime: iso(t0), EndTime: iso(t0 + 119), Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: ins }] }] });
    const out10 = (await get('LanOuttraffic', 10)).DataPoints![0]!;
    assert.deepEqual(out10.Dimensions, [{ Name: 'InstanceId', Value: ins }]);
    assert.deepEqual(out10.Timestamps, [0, 1, 2, 3, 4, 5].map((i) => t0 + 10 * i));
    assert.deepEqual(out10.Values, [1, 1, 1, 1, 1, 1]);
    const in60 = await get('LanInpkg', 60);
    assert.equal(in60.Period, 60);
    assert.deepEqual(in60.DataPoints![0]!.Timestamps, [t0]);
    assert.deepEqual(in60.DataPoints![0]!.Values, [100]);
    assert.equal((await store.db.selectFrom('monitor_samples').select('at').where('at', '=', stale).execute()).length, 0, 'retention: the stale bucket went');
    await fetchDocument(h1, '', 0); // h1's agent polls its document: connected (a poll that ended under 5 s ago counts)
    const text = await metricsText();
    const value = (name: string) => Number(new RegExp(`^${name}\\{instance="${ins}",host="h1"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('weft_instance_out_bytes_total'), 7_500_000);
    assert.equal(value('weft_instance_in_packets_total'), 6000);
    assert.equal(value('weft_instance_sg_drop_packets_total'), 18);
    assert.match(text, /^weft_conntrack_entries\{host="h1",vpc="vpc-abcd1234"\} 7$/m);
    assert.match(text, /^weft_api_requests_total\{action="GetMonitorData",code="OK"\} \d+$/m);
    assert.match(text, /^weft_store_write_duration_seconds_count\{outcome="committed"\} [1-9]\d*$/m);
    assert.match(text, /^weft_revision [1-9]\d*$/m);
    assert.match(text, /^weft_host_applied_revision\{host="h1"\} 0$/m);
    assert.match(text, /^weft_agents_connected 1$/m);
  });

  it('a counter that goes down started again from 0: what it shows is new', async () => {
    const other = await launch();
    const t0 = Math.floor(Date.now() / 1000 / 10) * 10 - 60;
    await sendCounters(h1, { instances: [sample(other, t0, { outBytes: 9_000_000 })], conntrack: [] });
    await sendCounters(h1, { instances: [sample(other, t0 + 10, { outBytes: 10_250_000 })], conntrack: [] });
    await sendCounters(h1, { instances: [sample(other, t0 + 20, { outBytes: 2_500_000 })], conntrack: [] }); // port recreated
    const d = await monitor().GetMonitorData({ Namespace: 'QCE/CVM', MetricName: 'LanOuttraffic', Period: 10, StartTime: iso(t0), EndTime: iso(t0 + 19), Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: other }] }] });
    assert.deepEqual(d.DataPoints![0]!.Values, [1, 2]);
    // h1 reported only this instance: the earlier one's series went (a deleted instance does not stay in /metrics).
    const text = await metricsText();
    assert.match(text, new RegExp(`weft_instance_out_bytes_total\\{instance="${other}",host="h1"\\} 3750000`));
    assert.doesNotMatch(text, new RegExp(`instance="${ins}"`));
    assert.doesNotMatch(text, /vpc="vpc-abcd1234"/, 'nor the conntrack of a router it no longer reports');
  });

  it('refuses a report of instances the host does not carry, and malformed reports', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assert.rejects(sendCounters(h1, { instances: [sample(ins, now, { outBytes: -1 })], conntrack: [] }), /400/);
    await assert.rejects(sendCounters(h1, loose({ instances: 'x' })), /400/);
    const before_ = await store.db.selectFrom('monitor_samples').selectAll().where('resource_id', '=', bobIns).execute();
    // bob's instance is on h1 too, so use one that does not exist.
    await sendCounters(h1, { instances: [sample('ins-00000000', now - 20, { outBytes: 5 }), sample('ins-00000000', now - 10, { outBytes: 50 })], conntrack: [] });
    assert.equal((await store.db.selectFrom('monitor_samples').selectAll().where('resource_id', '=', 'ins-00000000').execute()).length, 0);
    assert.deepEqual(await store.db.selectFrom('monitor_samples').selectAll().where('resource_id', '=', bobIns).execute(), before_);
  });

  it('answers QCE/NAT_GATEWAY figures from the flow monitor, per minute, the gateway’s addresses summed', async () => {
    const vpcId = (await r.vpc().CreateVpc({ VpcName: 'n', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    const nat = (await r.vpc().CreateNatGateway({ NatGatewayName: 'n', VpcId: vpcId, AddressCount: 1 })).NatGatewaySet![0]!.NatGatewayId!;
    for (let i = 0; i < 200 && (await r.vpc().DescribeNatGateways({ NatGatewayIds: [nat] })).NatGatewaySet![0]!.State !== 'AVAILABLE'; i++) await new Promise((ok) => setTimeout(ok, 50));
    await r.vpc().EnableGatewayFlowMonitor({ GatewayId: nat });
    const t0 = Math.floor(Date.now() / 1000 / 60) * 60 - 180;
    const flow = (at: number, privateIp: string, outBytes: number, connections: number) => ({
      natGatewayId: nat,
      privateIp,
      at: new Date(at * 1000).toISOString(),
      inBytes: 0,
      outBytes,
      inPackets: 0,
      outPackets: outBytes / 1000,
      connections,
      newConnections: 0,
    });
    // Two addresses, 3 750 000 bytes out each in the minute from t0: 7 500 000 bytes = 1 Mbps; 3 750 + 3 750 packets = 125/s.
    await sendFlows(gw1, { flows: [flow(t0, '10.1.0.5', 0, 1), flow(t0, '10.1.0.6', 0, 1)] });
    await sendFlows(gw1, { flows: [flow(t0 + 60, '10.1.0.5', 3_750_000, 4), flow(t0 + 60, '10.1.0.6', 3_750_000, 6)] });
    const get = (MetricName: string) =>
      monitor().GetMonitorData({ Namespace: 'QCE/NAT_GATEWAY', MetricName, Period: 60, StartTime: iso(t0), EndTime: iso(t0 + 59), Instances: [{ Dimensions: [{ Name: 'natId', Value: nat }] }] });
    const out = (await get('OutBandwidth')).DataPoints![0]!;
    assert.deepEqual([out.Timestamps, out.Values], [[t0], [1]]);
    assert.deepEqual((await get('OutPkg')).DataPoints![0]!.Values, [125]);
    const metrics = await monitor().DescribeBaseMetrics({ Namespace: 'QCE/NAT_GATEWAY' });
    assert.deepEqual(metrics.MetricSet!.map((m) => [m.MetricName, m.Period]), [['OutBandwidth', [60]], ['InBandwidth', [60]], ['OutPkg', [60]], ['InPkg', [60]], ['Conns', [60]]]);
    const at10 = await errorOf(monitor().GetMonitorData({ Namespace: 'QCE/NAT_GATEWAY', MetricName: 'OutBandwidth', Period: 10, Instances: [{ Dimensions: [{ Name: 'natId', Value: nat }] }] }));
    assert.equal(at10.code, 'InvalidParameterValue', at10.message);
    assert.match(at10.message, /use 60/);
    const foreign = await errorOf(monitor(bob).GetMonitorData({ Namespace: 'QCE/NAT_GATEWAY', MetricName: 'OutBandwidth', Period: 60, Instances: [{ Dimensions: [{ Name: 'natId', Value: nat }] }] }));
    assert.equal(foreign.code, 'ResourceNotFound', foreign.message);
    assert.match(foreign.message, /NAT gateway/);
  });

  it('answers QCE/LB EIP figures from the gateway nodes’ reports, summed over the nodes', async () => {
    const allocate = async (c?: Creds) => {
      const vpc = c ? r.vpc(c) : r.vpc();
      const id = (await vpc.AllocateAddresses({ AddressCount: 1 })).AddressSet![0]!;
      return { id, ip: (await vpc.DescribeAddresses({ AddressIds: [id] })).AddressSet![0]!.AddressIp! };
    };
    const mine = await allocate();
    await r.vpc().AssociateAddress({ AddressId: mine.id, InstanceId: ins });
    const loose_ = await allocate(); // not bound: nothing carries it
    const bobs = await allocate(bob);
    const gw2: LinkOptions = { ...h1, hostId: 'gw2', token: await registerHost(store, { id: 'gw2', zone: 'local-1', underlay: '100.64.1.12', role: 'gateway' }) };
    const t0 = Math.floor(Date.now() / 1000 / 60) * 60 - 120;
    const eip = (publicIp: string, at: number, outBytes: number, inBytes = 0) => ({ publicIp, at: new Date(at * 1000).toISOString(), inBytes, outBytes, inPackets: 0, outPackets: 0 });
    // Each node carries 625 000 bytes out per 10 s: 1.25 MB per 10 s in all = 1 Mbps.
    for (const [i, link] of [gw1, gw2].entries()) {
      await sendCounters(link, { instances: [], conntrack: [], eips: [eip(mine.ip, t0, 0, 0), eip(loose_.ip, t0, 0)] });
      const a = await sendCounters2(link, { instances: [], conntrack: [], eips: [eip(mine.ip, t0 + 10, 625_000, 125_000 * (i + 1)), eip(loose_.ip, t0 + 10, 99)] });
      assert.deepEqual(a.unknownEips, [loose_.ip], 'an address bound to nothing is named');
    }
    const d = await monitor().GetMonitorData({ Namespace: 'QCE/LB', MetricName: 'VipOuttraffic', Period: 10, StartTime: iso(t0), EndTime: iso(t0 + 9), Instances: [{ Dimensions: [{ Name: 'eip', Value: mine.ip }] }] });
    assert.deepEqual([d.DataPoints![0]!.Timestamps, d.DataPoints![0]!.Values], [[t0], [1]]);
    const din = await monitor().GetMonitorData({ Namespace: 'QCE/LB', MetricName: 'VipIntraffic', Period: 10, StartTime: iso(t0), EndTime: iso(t0 + 9), Instances: [{ Dimensions: [{ Name: 'eip', Value: mine.ip }] }] });
    assert.deepEqual(din.DataPoints![0]!.Values, [0.3]); // 375 000 bytes in 10 s
    const text = await metricsText();
    assert.match(text, new RegExp(`^weft_eip_out_bytes_total\\{eip="${mine.ip.replace(/\./g, '\\.')}",host="gw2"\\} 625000$`, 'm'));
    for (const [name, value, who] of [
      ["another account's EIP", bobs.ip, undefined],
      ['an address no one holds', '203.0.113.254', undefined],
      ['my EIP asked by another account', mine.ip, bob],
    ] as const) {
      const e = await errorOf(monitor(who).GetMonitorData({ Namespace: 'QCE/LB', MetricName: 'VipOuttraffic', Period: 10, Instances: [{ Dimensions: [{ Name: 'eip', Value: value }] }] }));
      assert.equal(e.code, 'ResourceNotFound', `${name}: ${e.message}`);
      assert.match(e.message, /EIP/);
    }
    await assert.rejects(sendCounters(h1, { instances: [], conntrack: [], eips: [eip(mine.ip, t0 + 20, 1)] }), /403/, 'only gateway nodes report EIPs');
  });

  it('refuses bad GetMonitorData and DescribeBaseMetrics calls with Tencent codes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { Namespace: 'QCE/CVM', MetricName: 'LanOuttraffic', Period: 10, StartTime: iso(now - 300), EndTime: iso(now), Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: ins }] }] };
    const cases: [string, Record<string, unknown>, string, RegExp, Creds?][] = [
      ['another account’s instance', { Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: bobIns }] }] }, 'ResourceNotFound', /does not exist/],
      ['own instance asked by another account', {}, 'ResourceNotFound', /does not exist/, undefined],
      ['unknown instance', { Instances: [{ Dimensions: [{ Name: 'InstanceId', Value: 'ins-00000000' }] }] }, 'ResourceNotFound', /ins-00000000/],
      ['unknown namespace', { Namespace: 'QCE/NOPE' }, 'InvalidParameterValue', /QCE\/NOPE.*QCE\/CVM/],
      ['unknown metric', { MetricName: 'CpuUsage' }, 'InvalidParameterValue', /CpuUsage.*LanOuttraffic/],
      ['period 300', { Period: 300 }, 'InvalidParameterValue', /10 or 60/],
      ['default period (300)', { Period: undefined }, 'InvalidParameterValue', /Period/],
      ['unreadable StartTime', { StartTime: 'yesterday' }, 'InvalidParameterValue', /ISO 8601/],
      ['EndTime before StartTime', { StartTime: iso(now), EndTime: iso(now - 60) }, 'InvalidParameterValue', /earlier than/],
      ['StartTime past the retention', { StartTime: iso(now - 2 * 86400), Period: 60 }, 'InvalidParameterValue', /kept 24 h/],
      ['too many points', { StartTime: iso(now - 80000), Period: 10 }, 'InvalidParameterValue', /7200/],
      ['wrong dimension name', { Instances: [{ Dimensions: [{ Name: 'instanceId', Value: ins }] }] }, 'InvalidParameterValue', /InstanceId/],
      ['no instance', { Instances: [] }, 'InvalidParameterValue', /1 to 50/],
    ];
    const rows = async () => (await store.db.selectFrom('monitor_samples').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
    const revision = await store.revision();
    const count = await rows();
    for (const [name, change, code, message, who] of cases) {
      const caller = name === 'own instance asked by another account' ? bob : who;
      const e = await errorOf(monitor(caller).GetMonitorData(loose({ ...base, ...change })));
      assert.equal(e.code, code, `${name}: ${e.message}`);
      assert.match(e.message, message, name);
    }
    const e = await errorOf(monitor().DescribeBaseMetrics({ Namespace: 'QCE/XYZ' }));
    assert.equal(e.code, 'InvalidParameterValue');
    assert.equal(await store.revision(), revision, 'nothing written');
    assert.equal(await rows(), count, 'no samples touched');
  });
});

const loose = <T>(v: unknown) => v as T;

/** sendCounters, with the controller's answer (which addresses it did not take). */
function sendCounters2(o: LinkOptions, body: unknown): Promise<{ accepted: number; unknownEips: string[] }> {
  return new Promise((ok, fail) => {
    const req = request(
      { socketPath: o.controller.slice(5), method: 'POST', path: `/v1/hosts/${o.hostId}/counters`, headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' } },
      (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => (res.statusCode === 200 ? ok(JSON.parse(t)) : fail(new Error(`${res.statusCode}: ${t}`))));
      },
    );
    req.on('error', fail);
    req.end(JSON.stringify(body));
  });
}
