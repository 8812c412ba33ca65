/**
 * Per-IP flow control on NAT gateways through the official SDK
 * (Enable/Disable/CheckGatewayFlowMonitor, DescribeGatewayFlowMonitorDetail,
 * ModifyGatewayFlowQos, DescribeGatewayFlowQos), against a real server on
 * SQLite or PostgreSQL. The flow figures come from samples posted as a
 * gateway node posts them, over the controller's agents socket.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GatewayFlowSample } from '../../src/contract/agent-report.js';
import { sendFlows, type LinkOptions } from '../../src/agent/controller-link.js';
import { loadNatFlows, natFlowRules } from '../../src/compile/nat-flows.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorOf, loose, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

const MINUTE = 60_000;
const tencentTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

describe(`gateway flow monitor and QoS through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpcId: string;
  let bob: Creds;
  let nat: string;
  const link: Record<string, LinkOptions> = {};

  const vpc = (c?: Creds) => r.vpc(c);
  const waitAvailable = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const n = (await vpc().DescribeNatGateways({ NatGatewayIds: [id] })).NatGatewaySet![0]!;
      if (n.State === 'AVAILABLE') return;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    throw new Error(`${id} never became AVAILABLE`);
  };
  const newNat = async (bandwidth = 100) => {
    const id = (await vpc().CreateNatGateway({ NatGatewayName: 'n', VpcId: vpcId, AddressCount: 1, InternetMaxBandwidthOut: bandwidth })).NatGatewaySet![0]!.NatGatewayId!;
    await waitAvailable(id);
    return id;
  };
  /** Everything the flow actions and reports write, to prove a refusal changed nothing. */
  const state = async () => ({
    revision: await store.revision(),
    monitors: await store.db.selectFrom('gateway_flow_monitors').selectAll().orderBy('gateway_id').execute(),
    qos: await store.db.selectFrom('gateway_flow_qos').selectAll().orderBy('gateway_id').orderBy('private_ip').execute(),
    counters: await store.db.selectFrom('gateway_flow_counters').selectAll().orderBy('host_id').orderBy('gateway_id').orderBy('private_ip').execute(),
    minutes: await store.db.selectFrom('gateway_flow_minutes').selectAll().orderBy('gateway_id').orderBy('minute').orderBy('private_ip').orderBy('host_id').execute(),
  });
  async function refused(name: string, call: () => Promise<unknown>, code: string) {
    const before_ = await state();
    const e = await errorOf(call());
    assert.equal(e.code, code, `${name}: ${e.message}`);
    assert.deepEqual(await state(), before_, `${name}: nothing written`);
  }
  /** The change log entries since `revision`, as kind:id. */
  const changesSince = async (revision: number) =>
    (await store.db.selectFrom('changes').select(['kind', 'resource_id']).where('revision', '>', revision).execute()).map((c) => `${c.kind}:${c.resource_id}`).sort();

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    vpcId = (await vpc().CreateVpc({ VpcName: 'v', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    bob = await r.newAccount('bob');
    nat = await newNat();
    const controller = `unix:${join(r.dataDir, 'agents.sock')}`;
    for (const [i, id] of ['gw1', 'gw2'].entries())
      link[id] = { controller, hostId: id, token: await registerHost(store, { id, zone: 'local-1', underlay: `100.64.1.${11 + i}`, role: 'gateway' }) };
    link.h1 = { controller, hostId: 'h1', token: await registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' }) };
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  it('turns the flow monitor on and off, Check answers it with the gateway bandwidth, each change recorded for the gateway and its VPC', async () => {
    const other = await newNat(200);
    assert.deepEqual(await vpc().CheckGatewayFlowMonitor({ GatewayId: other }).then(({ RequestId: _r, ...x }) => x), { Enabled: false, Bandwidth: 200 });
    const rev = await store.revision();
    await vpc().EnableGatewayFlowMonitor({ GatewayId: other });
    assert.deepEqual(await changesSince(rev), [`nat_gateway:${other}`, `vpc:${vpcId}`]);
    assert.equal((await vpc().CheckGatewayFlowMonitor({ GatewayId: other })).Enabled, true);
    await vpc().EnableGatewayFlowMonitor({ GatewayId: other }); // again: still on
    assert.equal((await vpc().CheckGatewayFlowMonitor({ GatewayId: other })).Enabled, true);
    assert.deepEqual(natFlowRules((await loadNatFlows(store.db, [other])).get(other)), { flowMonitor: true }, 'the document field');
    await vpc().DisableGatewayFlowMonitor({ GatewayId: other });
    assert.equal((await vpc().CheckGatewayFlowMonitor({ GatewayId: other })).Enabled, false);
    assert.deepEqual(natFlowRules((await loadNatFlows(store.db, [other])).get(other)), {});
    assert.equal((await vpc().CheckGatewayFlowMonitor({ GatewayId: nat })).Enabled, false, 'per gateway');
    await vpc().DeleteNatGateway({ NatGatewayId: other });
  });

  it('refuses bad monitor calls with Tencent codes, other gateway kinds and other accounts as missing, and writes nothing', async () => {
    const pending = await newNat();
    await store.db.updateTable('nat_gateways').set({ state: 'PENDFAILURE' }).where('id', '=', pending).execute();
    try {
      for (const [action, call] of [
        ['Enable', (id: string, c?: Creds) => vpc(c).EnableGatewayFlowMonitor({ GatewayId: id })],
        ['Disable', (id: string, c?: Creds) => vpc(c).DisableGatewayFlowMonitor({ GatewayId: id })],
        ['Check', (id: string, c?: Creds) => vpc(c).CheckGatewayFlowMonitor({ GatewayId: id })],
      ] as const) {
        await refused(`${action} VPN gateway`, () => call('vpn-abcd1234'), 'ResourceNotFound');
        await refused(`${action} direct connect gateway`, () => call('dcg-abcd1234'), 'ResourceNotFound');
        await refused(`${action} missing gateway`, () => call('nat-00000000'), 'ResourceNotFound');
        await refused(`${action} another account's gateway`, () => call(nat, bob), 'ResourceNotFound');
        await refused(`${action} not an ID`, () => call('gw-1'), 'InvalidParameterValue');
        if (action !== 'Check') await refused(`${action} a gateway not AVAILABLE`, () => call(pending), 'UnsupportedOperation.InvalidState');
      }
    } finally {
      await store.db.updateTable('nat_gateways').set({ state: 'AVAILABLE' }).where('id', '=', pending).execute();
    }
    await vpc().DeleteNatGateway({ NatGatewayId: pending });
  });

  it('caps private addresses (ModifyGatewayFlowQos) and answers the caps (DescribeGatewayFlowQos) in the model of the SDK', async () => {
    const rev = await store.revision();
    await vpc().ModifyGatewayFlowQos({ GatewayId: nat, Bandwidth: 10, IpAddresses: ['10.0.1.10', '10.0.1.9', '10.0.1.10'] });
    assert.deepEqual(await changesSince(rev), [`nat_gateway:${nat}`, `vpc:${vpcId}`]);
    const first = await vpc().DescribeGatewayFlowQos({ GatewayId: nat });
    assert.equal(first.TotalCount, 2);
    assert.deepEqual(Object.keys(first.GatewayQosSet![0]!).sort(), modelFields('GatewayQos'));
    assert.deepEqual(
      first.GatewayQosSet!.map((q) => [q.VpcId, q.IpAddress, q.Bandwidth, q.InBandwidth]).sort(),
      [
        [vpcId, '10.0.1.10', 10, -1],
        [vpcId, '10.0.1.9', 10, -1],
      ],
    );
    const created = first.GatewayQosSet!.find((q) => q.IpAddress === '10.0.1.9')!.CreateTime!;
    assert.match(created, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // 0 blocks completely; a changed cap keeps its creation time; Out is the only direction.
    await vpc().ModifyGatewayFlowQos({ GatewayId: nat, Bandwidth: 0, IpAddresses: ['10.0.1.9', '10.0.2.1'], Direction: 'Out' });
    const all = (await vpc().DescribeGatewayFlowQos({ GatewayId: nat })).GatewayQosSet!;
    assert.deepEqual(Object.fromEntries(all.map((q) => [q.IpAddress, q.Bandwidth])), { '10.0.1.9': 0, '10.0.1.10': 10, '10.0.2.1': 0 });
    assert.equal(all.find((q) => q.IpAddress === '10.0.1.9')!.CreateTime, created);
    assert.deepEqual(natFlowRules((await loadNatFlows(store.db, [nat])).get(nat)), {
      qos: [
        { privateIp: '10.0.1.9', bandwidthMbps: 0 },
        { privateIp: '10.0.1.10', bandwidthMbps: 10 },
        { privateIp: '10.0.2.1', bandwidthMbps: 0 },
      ],
    });
    // Filter and pages.
    const only = await vpc().DescribeGatewayFlowQos({ GatewayId: nat, IpAddresses: ['10.0.2.1', '10.0.9.9'] });
    assert.deepEqual([only.TotalCount, only.GatewayQosSet!.map((q) => q.IpAddress)], [1, ['10.0.2.1']]);
    const paged = await vpc().DescribeGatewayFlowQos({ GatewayId: nat, Offset: 1, Limit: 1 });
    assert.equal(paged.TotalCount, 3);
    assert.equal(paged.GatewayQosSet!.length, 1);
    // -1 lifts the cap.
    await vpc().ModifyGatewayFlowQos({ GatewayId: nat, Bandwidth: -1, IpAddresses: ['10.0.2.1', '10.0.1.10'] });
    assert.deepEqual((await vpc().DescribeGatewayFlowQos({ GatewayId: nat })).GatewayQosSet!.map((q) => q.IpAddress), ['10.0.1.9']);
    assert.equal((await vpc(bob).CreateVpc({ VpcName: 'b', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!.slice(0, 4), 'vpc-');
    await refused("another account's caps", () => vpc(bob).DescribeGatewayFlowQos({ GatewayId: nat }), 'ResourceNotFound');
  });

  it('refuses bad QoS calls with Tencent codes and writes nothing', async () => {
    const ok = { GatewayId: nat, Bandwidth: 5, IpAddresses: ['10.0.1.20'] };
    const modify: [string, object, string, Creds?][] = [
      ['VPN gateway', { ...ok, GatewayId: 'vpn-abcd1234' }, 'ResourceNotFound'],
      ['missing gateway', { ...ok, GatewayId: 'nat-00000000' }, 'ResourceNotFound'],
      ["another account's gateway", ok, 'ResourceNotFound', bob],
      ['not an ID', { ...ok, GatewayId: 'x' }, 'InvalidParameterValue'],
      ['bandwidth below -1', { ...ok, Bandwidth: -2 }, 'InvalidParameterValue.Range'],
      ["above the gateway's bandwidth", { ...ok, Bandwidth: 101 }, 'InvalidParameterValue.Range'],
      ['no addresses', { ...ok, IpAddresses: [] }, 'InvalidParameterValue'],
      ['not an address', { ...ok, IpAddresses: ['10.0.1.21', '10.0.1.300'] }, 'InvalidParameterValue'],
      ['outside the VPC', { ...ok, IpAddresses: ['10.0.1.21', '192.168.0.1'] }, 'InvalidParameterValue'],
      ['inbound (standard NAT only)', { ...ok, Direction: 'In' }, 'InvalidParameterValue'],
      ['no such direction', { ...ok, Direction: 'Up' }, 'InvalidParameterValue'],
      ['no Bandwidth', { GatewayId: nat, IpAddresses: ['10.0.1.21'] }, 'MissingParameter'],
    ];
    for (const [name, req, code, c] of modify) await refused(`Modify: ${name}`, () => vpc(c).ModifyGatewayFlowQos(loose(req)), code);
    const describe_: [string, object, string][] = [
      ['direct connect gateway', { GatewayId: 'dcg-abcd1234' }, 'ResourceNotFound'],
      ['not an address', { GatewayId: nat, IpAddresses: ['x'] }, 'InvalidParameterValue'],
      ['Limit over 100', { GatewayId: nat, Limit: 101 }, 'InvalidParameterValue.Range'],
      ['negative Offset', { GatewayId: nat, Offset: -1 }, 'InvalidParameterValue.Range'],
    ];
    for (const [name, req, code] of describe_) await refused(`Describe: ${name}`, () => vpc().DescribeGatewayFlowQos(loose(req)), code);
  });

  describe('flow figures from gateway nodes', () => {
    // Whole minutes a little in the past: a report may not be ahead of the controller's clock.
    const T = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
    const A = '10.0.1.5';
    const B = '10.0.1.6';
    const s = (at: number, ip: string, n: Partial<GatewayFlowSample> = {}, gw = nat): GatewayFlowSample => ({
      natGatewayId: gw,
      privateIp: ip,
      at: new Date(at).toISOString(),
      inBytes: 0,
      outBytes: 0,
      inPackets: 0,
      outPackets: 0,
      connections: 0,
      newConnections: 0,
      ...n,
    });
    const detail = (req: object, c?: Creds) => vpc(c).DescribeGatewayFlowMonitorDetail(loose({ TimePoint: tencentTime(T + 45_000), NatId: nat, ...req }));
    const figures = async (req: object = {}) => {
      const res = await detail(req);
      return { total: res.TotalCount, set: res.GatewayFlowMonitorDetailSet!.map((d) => ({ ...d })) };
    };

    it('sums the minute over nodes per private address, from cumulative counters', async () => {
      await vpc().EnableGatewayFlowMonitor({ GatewayId: nat });
      // gw1 sees A and B; gw2 sees A too (the routers moved some of A's flows).
      const first = await sendFlows(link.gw1!, {
        flows: [
          s(T, A, { inBytes: 1000, outBytes: 5000, inPackets: 10, outPackets: 20, connections: 3, newConnections: 100 }),
          s(T, B),
          s(T + 30_000, A, { inBytes: 1600, outBytes: 8000, inPackets: 16, outPackets: 50, connections: 7, newConnections: 160 }),
          s(T + 30_000, B, { inBytes: 100, outBytes: 200, inPackets: 1, outPackets: 2, connections: 1, newConnections: 6 }),
        ],
      });
      assert.deepEqual(first, { accepted: 4, unknownGateways: [] });
      await sendFlows(link.gw2!, { flows: [s(T + 10_000, A, { inBytes: 50, outBytes: 50, inPackets: 1, outPackets: 1, newConnections: 5 })] });
      await sendFlows(link.gw2!, { flows: [s(T + 40_000, A, { inBytes: 450, outBytes: 1050, inPackets: 5, outPackets: 11, connections: 2, newConnections: 35 })] });
      const got = await figures();
      assert.equal(got.total, 2);
      assert.deepEqual(Object.keys(got.set[0]!).sort(), modelFields('GatewayFlowMonitorDetail'));
      assert.deepEqual(got.set, [
        { PrivateIpAddress: A, InTraffic: 1000, OutTraffic: 4000, InPkg: 10, OutPkg: 40, ConcurrentConnectionCount: 9, NewConnectionRate: 1.5 },
        { PrivateIpAddress: B, InTraffic: 100, OutTraffic: 200, InPkg: 1, OutPkg: 2, ConcurrentConnectionCount: 1, NewConnectionRate: 0.1 },
      ]);
    });

    it('spreads traffic between two samples over the minutes it spans; a repeated report adds nothing', async () => {
      // A's next gw1 sample comes a minute after the last: half of its 600 bytes fell in T's minute.
      const report = { flows: [s(T + 90_000, A, { inBytes: 2200, outBytes: 8000, inPackets: 16, outPackets: 50, connections: 4, newConnections: 160 })] };
      await sendFlows(link.gw1!, report);
      await sendFlows(link.gw1!, report);
      assert.equal((await figures({ PrivateIpAddress: A })).set[0]!.InTraffic, 1300);
      const next = await figures({ TimePoint: tencentTime(T + MINUTE) });
      assert.deepEqual(next, { total: 1, set: [{ PrivateIpAddress: A, InTraffic: 300, OutTraffic: 0, InPkg: 0, OutPkg: 0, ConcurrentConnectionCount: 4, NewConnectionRate: 0 }] });
      assert.deepEqual(await figures({ TimePoint: tencentTime(T - MINUTE) }), { total: 0, set: [] }, 'a minute without figures');
    });

    it("takes one node's reports one at a time: two sent at once never count the same bytes twice", async () => {
      const C = '10.0.1.7';
      await sendFlows(link.gw2!, { flows: [s(T, C)] });
      for (let round = 1; round <= 5; round++) {
        const at = T + round * 5_000;
        await Promise.all([sendFlows(link.gw2!, { flows: [s(at - 2_000, C, { inBytes: round * 300 - 200 })] }), sendFlows(link.gw2!, { flows: [s(at, C, { inBytes: round * 300 })] })]);
      }
      // Whichever came first, the node's counter reached 1500 and nothing before T: 1500 bytes in all.
      assert.equal((await figures({ PrivateIpAddress: C })).set[0]!.InTraffic, 1500);
      // C is gw2's alone; the other tests count A and B.
      await store.db.deleteFrom('gateway_flow_minutes').where('private_ip', '=', C).execute();
    });

    it('orders, filters and pages as asked', async () => {
      assert.deepEqual((await figures({ OrderField: 'InPkg', OrderDirection: 'ASC' })).set.map((d) => d.PrivateIpAddress), [B, A]);
      assert.deepEqual((await figures({ OrderField: 'NewConnectionRate', OrderDirection: 'DESC' })).set.map((d) => d.PrivateIpAddress), [A, B]);
      const page2 = await figures({ Offset: 1, Limit: 1 });
      assert.deepEqual([page2.total, page2.set.map((d) => d.PrivateIpAddress)], [2, [B]]);
      const onlyB = await figures({ PrivateIpAddress: B });
      assert.deepEqual([onlyB.total, onlyB.set.map((d) => d.PrivateIpAddress)], [1, [B]]);
    });

    it('refuses bad detail queries with Tencent codes; another account sees no figures', async () => {
      const cases: [string, object, string, Creds?][] = [
        ["another account's gateway", {}, 'ResourceNotFound', bob],
        ['missing gateway', { NatId: 'nat-00000000' }, 'ResourceNotFound'],
        ['not a gateway ID', { NatId: 'nat-1' }, 'InvalidParameterValue.Malformed'],
        ['no gateway', { NatId: undefined }, 'MissingParameter'],
        ['two gateways', { VpnId: 'vpn-abcd1234' }, 'InvalidParameter'],
        ['a VPN gateway', { NatId: undefined, VpnId: 'vpn-abcd1234' }, 'UnsupportedOperation'],
        ['a peering', { NatId: undefined, PeeringConnectionId: 'pcx-abcd1234' }, 'UnsupportedOperation'],
        ['no such day', { TimePoint: '2019-02-30 12:00:00' }, 'InvalidParameterValue.Malformed'],
        ['ISO time', { TimePoint: '2019-02-28T18:15:20Z' }, 'InvalidParameterValue.Malformed'],
        ['no TimePoint', { TimePoint: undefined }, 'MissingParameter'],
        ['unknown OrderField', { OrderField: 'Bytes' }, 'InvalidParameterValue.Malformed'],
        ['unknown OrderDirection', { OrderDirection: 'desc' }, 'InvalidParameterValue.Malformed'],
        ['bad PrivateIpAddress', { PrivateIpAddress: '10.0.1' }, 'InvalidParameterValue.Malformed'],
        ['Limit over 100', { Limit: 101 }, 'InvalidParameterValue.Range'],
      ];
      for (const [name, req, code, c] of cases) await refused(name, () => detail(req, c), code);
    });

    it('refuses nonsense reports whole, drops unknown gateways, takes reports from gateway nodes only', async () => {
      const before_ = await state();
      const bad: [string, unknown][] = [
        ['negative', { flows: [s(T + 100_000, A, { inBytes: -5 })] }],
        ['not a number', { flows: [s(T + 100_000, A), { ...s(T + 100_000, B), outBytes: 'many' }] }],
        ['not a list', { flows: 'x' }],
        ['far ahead of the clock', { flows: [s(Date.now() + 3600_000, A)] }],
      ];
      for (const [name, report] of bad) await assert.rejects(sendFlows(link.gw1!, loose(report)), /controller answered 400/, name);
      await assert.rejects(sendFlows(link.h1!, { flows: [s(T + 100_000, A)] }), /controller answered 403/, 'a compute host');
      await assert.rejects(sendFlows({ ...link.gw1!, token: 'wrong' }, { flows: [s(T + 100_000, A)] }), /controller answered 401/, 'a bad token');
      const notJson = await new Promise<number>((ok, fail) =>
        request({ socketPath: join(r.dataDir, 'agents.sock'), method: 'POST', path: '/v1/hosts/gw1/flows', headers: { authorization: `Bearer ${link.gw1!.token}` } }, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        })
          .on('error', fail)
          .end('{"flows": ['),
      );
      assert.equal(notJson, 400, 'a body that is not JSON');
      assert.deepEqual(await state(), before_, 'nothing kept');
      const answer = await sendFlows(link.gw1!, { flows: [s(T + 100_000, A, { inBytes: 2200 }), s(T + 100_000, A, {}, 'nat-00000000')] });
      assert.deepEqual(answer, { accepted: 1, unknownGateways: ['nat-00000000'] });
      assert.equal((await store.db.selectFrom('gateway_flow_counters').select('gateway_id').where('gateway_id', '=', 'nat-00000000').execute()).length, 0);
      // The controller still answers.
      assert.equal((await vpc().CheckGatewayFlowMonitor({ GatewayId: nat })).Enabled, true);
    });

    it('keeps no minutes while the monitor is off, and DeleteNatGateway takes everything of the gateway along', async () => {
      const quiet = await newNat();
      await sendFlows(link.gw1!, { flows: [s(T, A, {}, quiet), s(T + 30_000, A, { inBytes: 500 }, quiet)] });
      assert.deepEqual(await figures({ NatId: quiet }), { total: 0, set: [] });
      await vpc().EnableGatewayFlowMonitor({ GatewayId: quiet });
      await sendFlows(link.gw1!, { flows: [s(T + 50_000, A, { inBytes: 700 }, quiet)] });
      assert.equal((await figures({ NatId: quiet })).set[0]!.InTraffic, 200, 'counted from the base kept while off');
      await vpc().ModifyGatewayFlowQos({ GatewayId: quiet, Bandwidth: 1, IpAddresses: [A] });
      await vpc().DeleteNatGateway({ NatGatewayId: quiet });
      for (const t of ['gateway_flow_monitors', 'gateway_flow_qos', 'gateway_flow_counters', 'gateway_flow_minutes'] as const)
        assert.equal((await store.db.selectFrom(t).select('gateway_id').where('gateway_id', '=', quiet).execute()).length, 0, t);
      assert.ok(((await figures()).total ?? 0) > 0, 'other gateways keep theirs');
    });
  });
});
