/**
 * TraceVpcFlow through load balancers against a real server: the LB nodes
 * are in the account's view, an internal VIP from an instance and a public VIP
 * from the internet reach the backend core/maglev.ts gives, the response
 * carries LoadBalancer, another account sees none of it. Hosts and LB nodes
 * are registered in the store as weft up does; the load balancers are store
 * rows as the clb actions write them (health checks off), and the documents
 * are the server's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { flowSlot, maglevTable, MAGLEV_SIZE } from '../../src/core/maglev.js';
import { engineName, tracedRegion } from '../helpers/region.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CLIENT = '198.18.0.10';
const VIP = '10.0.1.100';
const PUBLIC_VIP = '203.0.113.80';

describe(`TraceVpcFlow through load balancers (${engineName()})`, () => {
  let region: Awaited<ReturnType<typeof tracedRegion>> | undefined;
  let api: CommonClient;
  let bob: CommonClient;
  let client = '';
  const backends: { id: string; ip: string }[] = [];
  const call = (action: string, params: Any, c = api) => c.request(action, params) as Promise<Any>;

  /** The backend of a flow to `vip`:`port`, computed here from core/maglev.ts. */
  const expected = (src: string, sport: number, dst: string, dport: number, targetPort: number) => {
    const sorted = [...backends].sort((a, b) => (a.ip < b.ip ? -1 : 1));
    const table = maglevTable(sorted.map((b) => ({ key: `${b.ip}:${targetPort}`, weight: 10 })), MAGLEV_SIZE);
    return sorted[table[flowSlot({ src, sport, dst, dport, protocol: 'tcp' }, MAGLEV_SIZE)]!]!;
  };

  before(async () => {
    region = await tracedRegion({ name: 'web', port: '8080' });
    ({ api, bob } = region);
    const { r, store, vpcId, subnetId: subnet, sg } = region;
    await registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' });
    await registerHost(store, { id: 'lb1', zone: '', underlay: '100.64.2.11', role: 'lb' });
    await registerHost(store, { id: 'lb2', zone: '', underlay: '100.64.2.12', role: 'lb' });
    const ids = (await r.cvm().RunInstances({ InstanceCount: 3, Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg] })).InstanceIdSet!;
    const end = Date.now() + 30_000;
    for (;;) {
      const rows = await store.db.selectFrom('instances').select(['id', 'host_id', 'private_ip']).where('id', 'in', ids).execute();
      if (rows.every((x) => x.host_id)) {
        const byId = new Map(rows.map((x) => [x.id, x.private_ip]));
        client = ids[0]!;
        for (const id of ids.slice(1)) backends.push({ id, ip: byId.get(id)! });
        break;
      }
      if (Date.now() > end) throw new Error(`${ids.join(', ')} not placed`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
    const account = (await store.db.selectFrom('vpcs').select('account').where('id', '=', vpcId).executeTakeFirstOrThrow()).account;
    const now = new Date().toISOString();
    const lb = (id: string, type: string, vip: string) => ({ id, account, name: id, type, vpc_id: vpcId, subnet_id: type === 'OPEN' ? '' : subnet, vip, status: 1, bandwidth: null, project_id: 0, pass_to_target: 0, delete_protect: 0, task_id: 'task', created_at: now });
    await store.db.insertInto('load_balancers').values([lb('lb-int00000', 'INTERNAL', VIP), lb('lb-pub00000', 'OPEN', PUBLIC_VIP)]).execute();
    const listener = (id: string, lbId: string, port: number) => ({ id, load_balancer_id: lbId, name: id, protocol: 'TCP', port, scheduler: 'WRR', session_expire_time: 0, health_check: '{"HealthSwitch":0}', created_at: now });
    await store.db.insertInto('lb_listeners').values([listener('lbl-web0000', 'lb-int00000', 80), listener('lbl-tls0000', 'lb-pub00000', 443)]).execute();
    await store.db
      .insertInto('lb_targets')
      .values(
        ['lbl-web0000', 'lbl-tls0000'].flatMap((l) =>
          backends.map((b) => ({ listener_id: l, load_balancer_id: l === 'lbl-web0000' ? 'lb-int00000' : 'lb-pub00000', instance_id: b.id, private_ip: b.ip, port: 8080, weight: 10, created_at: now })),
        ),
      )
      .execute();
  });
  after(async () => {
    await region?.close();
  });

  it('an internal VIP from an instance: the LB node, the listener, the Maglev slot and the backend; the reply back through the node', async () => {
    const t = await call('TraceVpcFlow', { SourceInstanceId: client, DestinationIpAddress: VIP, Protocol: 'TCP', Port: 80, Reply: true });
    const clientIp = t.Source.Ip as string;
    const want = expected(clientIp, 49152, VIP, 80, 8080);
    assert.equal(t.Verdict, 'delivered', t.Text);
    assert.equal(t.DeliveredTo.InstanceId, want.id);
    assert.deepEqual(
      [t.LoadBalancer.LoadBalancerId, t.LoadBalancer.ListenerId, t.LoadBalancer.TableSize, t.LoadBalancer.Backends, t.LoadBalancer.Backend.InstanceId],
      ['lb-int00000', 'lbl-web0000', MAGLEV_SIZE, 2, want.id],
    );
    assert.ok(['lb1', 'lb2'].includes(t.LoadBalancer.LbNode));
    assert.equal(t.LoadBalancer.Slot, flowSlot({ src: clientIp, sport: 49152, dst: VIP, dport: 80, protocol: 'tcp' }, MAGLEV_SIZE));
    assert.equal(t.Reply.Verdict, 'delivered', t.Text);
    assert.match(t.Text, /load balancer: lb-int00000 \(VIP 10\.0\.1\.100\) on lb[12] \(node [12]\), listener lbl-web0000: Maglev slot \d+ of 65537/);
  });

  it('a public VIP from the internet reaches a backend, which sees the client\'s address', async () => {
    const t = await call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationIpAddress: PUBLIC_VIP, Protocol: 'TCP', Port: 443, Reply: true });
    assert.equal(t.Verdict, 'delivered', t.Text);
    assert.equal(t.DeliveredTo.InstanceId, expected(CLIENT, 49152, PUBLIC_VIP, 443, 8080).id);
    assert.equal(t.Hops[0].Detail.Holder, 'lb');
    assert.equal(t.Reply.Code, 'internet', t.Text);
    // No listener on 80 of the public VIP: the node answers.
    assert.equal((await call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationIpAddress: PUBLIC_VIP, Protocol: 'TCP', Port: 80 })).Code, 'lb-no-listener');
  });

  it("another account's view holds none of it", async () => {
    const foreign = await call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationIpAddress: PUBLIC_VIP, Protocol: 'TCP', Port: 443 }, bob);
    assert.equal(foreign.Code, 'no-eip');
    assert.doesNotMatch(foreign.Text, /lb-pub00000/);
  });
});
