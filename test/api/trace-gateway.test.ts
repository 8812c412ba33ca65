/**
 * TraceVpcFlow through the gateways against a real server: an instance with
 * an EIP to the internet and back, the internet to the EIP, and the reasons
 * for an address no gateway translates. The hosts and a gateway node are
 * registered in the store as weft up does; the documents are the server's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import type { Store } from '../../src/store/store.js';
import { engineName, errorCode, tracedRegion } from '../helpers/region.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CLIENT = '198.18.0.10';

describe(`TraceVpcFlow through the gateways (${engineName()})`, () => {
  let region: Awaited<ReturnType<typeof tracedRegion>> | undefined;
  let store: Store;
  let api: CommonClient;
  let bob: CommonClient;
  let instance = '';
  let eip = '';
  let spare = '';
  const call = (action: string, params: Any, c = api) => c.request(action, params) as Promise<Any>;

  before(async () => {
    region = await tracedRegion({ name: 'ssh', port: '22' });
    ({ store, api, bob } = region);
    const { r, vpcId, subnetId: subnet, sg } = region;
    const vpc = r.vpc();
    instance = (await r.cvm().RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg] })).InstanceIdSet![0]!;
    await registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' });
    await registerHost(store, { id: 'gw1', zone: '', underlay: '100.64.1.11', role: 'gateway' });
    const end = Date.now() + 30_000;
    while ((await store.db.selectFrom('instances').select('host_id').where('id', '=', instance).executeTakeFirst())?.host_id == null) {
      if (Date.now() > end) throw new Error(`${instance} not placed`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
    // 100 Mbit/s: split over the cluster, not pinned to the owner node (limits under 10 are).
    const ids = (await vpc.AllocateAddresses({ AddressCount: 2, InternetMaxBandwidthOut: 100 })).AddressSet!;
    const addresses = (await vpc.DescribeAddresses({ AddressIds: ids })).AddressSet!;
    const ipOf = (id: string) => addresses.find((a) => a.AddressId === id)!.AddressIp!;
    eip = ipOf(ids[0]!);
    spare = ipOf(ids[1]!);
    await vpc.AssociateAddress({ AddressId: ids[0]!, InstanceId: instance });
  });
  after(async () => {
    await region?.close();
  });

  it('from the instance: through the gateway node, translated to its EIP, out to the internet; the reply back', async () => {
    const t = await call('TraceVpcFlow', { SourceInstanceId: instance, DestinationIpAddress: CLIENT, Protocol: 'TCP', Port: 443, Reply: true });
    assert.equal(t.Verdict, 'forwarded', t.Text);
    assert.equal(t.Code, 'internet');
    assert.ok(t.Hops.some((h: Any) => h.HostId === 'gw1' && h.Stage === 'eip' && h.Detail.To === eip), t.Text);
    assert.equal(t.Reply.Verdict, 'delivered', t.Text);
    assert.match(t.Text, /FORWARDED \(internet\)/);
  });

  it('from the internet: to the EIP, or to the instance by it', async () => {
    for (const dest of [{ DestinationIpAddress: eip }, { DestinationInstanceId: instance }]) {
      const t = await call('TraceVpcFlow', { SourceIpAddress: CLIENT, ...dest, Protocol: 'TCP', Port: 22 });
      assert.equal(t.Verdict, 'delivered', t.Text);
      assert.equal(t.DeliveredTo.InstanceId, instance);
      assert.equal(t.Source.Internet, true);
    }
    const closed = await call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationIpAddress: eip, Protocol: 'TCP', Port: 80 });
    assert.equal(closed.Code, 'ingress-default');
  });

  it('an address no gateway translates: dropped, and the store says why', async () => {
    const t = await call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationIpAddress: spare, Protocol: 'TCP', Port: 22 });
    assert.equal(t.Code, 'no-eip');
    assert.match(t.Destination.Note, /allocated to the account but not bound/);
    // Another account sees no gateway translating it: the view holds its own VPCs only.
    const foreign = await call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationIpAddress: eip, Protocol: 'TCP', Port: 22 }, bob);
    assert.equal(foreign.Code, 'no-eip');
    assert.doesNotMatch(foreign.Text, new RegExp(instance));
  });

  it('needs a source: an instance or an internet address', async () => {
    assert.equal(await errorCode(call('TraceVpcFlow', { DestinationIpAddress: eip, Protocol: 'ICMP' })), 'MissingParameter');
    assert.equal(await errorCode(call('TraceVpcFlow', { SourceIpAddress: CLIENT, DestinationInstanceId: 'ins-zzzzzzzz', Protocol: 'ICMP' })), 'ResourceNotFound');
  });
});
