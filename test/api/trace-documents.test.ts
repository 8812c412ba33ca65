/**
 * The tracer actions inside a controller read the controller's document cache
 * (the documents its agents are sent), not a fresh compile. Against a real
 * `weft server` with hosts registered in its store, through the official
 * SDK's CommonClient: after every kind of change a trace and a matrix equal
 * what the tracer answers over documents compiled fresh from the store; the
 * cache's whole-host documents never let one account see another's VPC; and
 * PendingHostSet names exactly the hosts whose agents (real agent loops over
 * the agents socket, with the sim driver) have not applied their document.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { runAgent } from '../../src/agent/agent.js';
import { pascal } from '../../src/api/vpc/trace.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { accountView } from '../../src/api/vpc/region-view.js';
import { SimDriver } from '../../src/dataplane/sim/driver.js';
import type { L4 } from '../../src/trace/model.js';
import { reachability } from '../../src/trace/reach.js';
import { renderMatrix, renderTrace } from '../../src/trace/render.js';
import { trace } from '../../src/trace/trace.js';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, startRegion, type Creds, type TestRegion, vpcCommonClient } from '../helpers/region.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const FLOWS: { Protocol: string; Port?: number }[] = [{ Protocol: 'TCP', Port: 22 }, { Protocol: 'TCP', Port: 80 }, { Protocol: 'ICMP' }];
const HOSTS = [
  { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' },
  { id: 'h2', zone: 'local-2', underlay: '100.64.0.12' },
  { id: 'h3', zone: 'local-2', underlay: '100.64.0.13' },
];

/** JSON as it crosses the wire: undefined fields dropped. */
const wire = (v: unknown) => JSON.parse(JSON.stringify(v)) as Any;

describe(`tracer actions over the controller's document cache (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let api: CommonClient;
  let bob: CommonClient;
  let bobCreds: Creds;
  const token: Record<string, string> = {};
  const id: Record<string, string> = {};
  const ip: Record<string, string> = {};
  let vpcId = '';
  let sa = '';
  let web = '';
  let ssh = '';
  let solo = '';
  let spare = '';
  let bobVpc = '';
  const client = (c: Pick<Creds, 'SecretId' | 'SecretKey'>) => vpcCommonClient(r.endpoint, c);
  const call = (action: string, params: Any, c = api) => c.request(action, params) as Promise<Any>;
  const hostOf = async (ins: string) => (await store.db.selectFrom('instances').select('host_id').where('id', '=', ins).executeTakeFirstOrThrow()).host_id!;

  async function placed() {
    const end = Date.now() + 30_000;
    for (;;) {
      const left = await store.db.selectFrom('instances').select('id').where('host_id', 'is', null).execute();
      if (!left.length) return;
      if (Date.now() > end) throw new Error(`instances not placed: ${left.map((x) => x.id)}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  async function runInstance(name: string, zone: string, vpc: string, subnet: string, groups: string[], c?: Creds, addr?: string) {
    const res = await r.cvm(c).RunInstances({
      Placement: { Zone: zone },
      VirtualPrivateCloud: { VpcId: vpc, SubnetId: subnet, ...(addr ? { PrivateIpAddresses: [addr] } : {}) },
      SecurityGroupIds: groups,
      InstanceName: name,
    });
    id[name] = res.InstanceIdSet![0]!;
    await placed();
    ip[name] = (await store.db.selectFrom('instances').select('private_ip').where('id', '=', id[name]!).executeTakeFirstOrThrow()).private_ip;
  }

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    api = client(r.admin);
    bobCreds = await r.newAccount('bob');
    bob = client(bobCreds);
    // Hosts first, as weft up registers them: the server's scheduler places every instance as it is created.
    for (const h of HOSTS) token[h.id] = await registerHost(store, h);
    const vpc = r.vpc();
    vpcId = (await vpc.CreateVpc({ VpcName: 'app', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    sa = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const sb = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    const group = async (name: string, set: Any) =>
      (await vpc.CreateSecurityGroupWithPolicies({ GroupName: name, GroupDescription: name, SecurityGroupPolicySet: set })).SecurityGroup!.SecurityGroupId!;
    web = await group('web', {
      Ingress: [
        { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
        { Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
      ],
      Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
    });
    ssh = await group('ssh', { Ingress: [{ Protocol: 'TCP', Port: '22', SecurityGroupId: web, Action: 'ACCEPT' }] });
    // Bound to b1 only and referenced by nothing: changing it changes b1's host's document alone.
    solo = await group('solo', { Ingress: [{ Protocol: 'TCP', Port: '443', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] });
    spare = await group('spare', { Ingress: [{ Protocol: 'TCP', Port: '8443', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] });
    await runInstance('a1', 'local-1', vpcId, sa, [web]);
    await runInstance('a2', 'local-1', vpcId, sa, [web, ssh]);
    await runInstance('b1', 'local-2', vpcId, sb, [web, solo]);
    await runInstance('b2', 'local-2', vpcId, sb, [ssh]);
    // Bob's VPC has the same CIDR, and an instance with a1's address on a1's host (the only host of local-1):
    // h1's document holds both accounts' VPCs.
    const bv = r.vpc(bobCreds);
    bobVpc = (await bv.CreateVpc({ VpcName: 'bob', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const bobSubnet = (await bv.CreateSubnet({ VpcId: bobVpc, SubnetName: 'x', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const bobSg = (await bv.CreateSecurityGroupWithPolicies({
      GroupName: 'all',
      GroupDescription: 'all',
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
    })).SecurityGroup!.SecurityGroupId!;
    await runInstance('bob', 'local-1', bobVpc, bobSubnet, [bobSg], bobCreds, ip.a1);
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  /** Every trace Code sameAsFresh saw. */
  const codes = new Set<string>();
  /** Alice's instances, by name. */
  const alice = () => Object.keys(id).filter((k) => k !== 'bob');

  /**
   * Every ordered pair × every flow (with its reply) and the matrix of every
   * flow, through the API (the cache), against the tracer over documents
   * compiled fresh from the store in this process.
   */
  async function sameAsFresh(label: string) {
    const fresh = await accountView(store, r.admin.Uin, { vpcIds: [vpcId] });
    const current = await store.revision();
    for (const from of alice())
      for (const to of alice())
        for (const f of FLOWS) {
          const what = `${label}: ${from} → ${to} ${f.Protocol}/${f.Port ?? ''}`;
          const got = await call('TraceVpcFlow', { SourceInstanceId: id[from], DestinationInstanceId: id[to], ...f, Reply: true });
          const want = trace(fresh.documents, { from: id[from]!, to: id[to]!, protocol: f.Protocol.toLowerCase() as L4, port: f.Port, reply: true });
          const { RequestId: _id, Revision, PendingHostSet: _pending, Text, ...rest } = got;
          assert.deepEqual(rest, wire(pascal(want)), what);
          assert.ok(Text.startsWith(renderTrace(want)), what);
          assert.ok(Revision > 0 && Revision <= current, `${what}: revision ${Revision} of ${current}`);
          codes.add(got.Code);
        }
    for (const f of FLOWS) {
      const got = await call('DescribeVpcReachability', { VpcId: vpcId, ...f });
      const want = reachability(fresh.documents, { vpcId, protocol: f.Protocol.toLowerCase() as L4, port: f.Port });
      const what = `${label}: matrix ${f.Protocol}/${f.Port ?? ''}`;
      assert.deepEqual(got.InstanceSet.map((i: Any) => [i.InstanceId, i.PrivateIpAddress, i.SubnetId, i.HostId]), want.instances.map((i) => [i.instanceId, i.ip, i.subnetId, i.hostId]), what);
      assert.deepEqual(got.Matrix, want.cells, what);
      assert.equal(got.ReachableCount, want.reachable, what);
      assert.ok(got.Text.startsWith(renderMatrix(want)), what);
    }
  }

  it('answers as the tracer over freshly compiled documents, right after each kind of change', async () => {
    const vpc = r.vpc();
    await sameAsFresh('initial');
    // Every check runs at once after the change's response: a trace must see the change it follows.
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: ssh, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0, Protocol: 'TCP', Port: '22', CidrBlock: `${ip.a1}/32`, Action: 'DROP' }] } });
    await sameAsFresh('policy created');
    await vpc.ReplaceSecurityGroupPolicy({ SecurityGroupId: web, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0, Protocol: 'TCP', Port: '80', CidrBlock: '10.0.2.0/24', Action: 'DROP' }] } });
    await sameAsFresh('policy replaced');
    await vpc.ModifySecurityGroupPolicies({
      SecurityGroupId: web,
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '80,22', CidrBlock: '10.0.1.0/24', Action: 'ACCEPT' }], Egress: [{ Protocol: 'TCP', Port: '1-1024', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
    });
    await sameAsFresh('policies modified');
    await vpc.DeleteSecurityGroupPolicies({ SecurityGroupId: ssh, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0 }] } });
    await sameAsFresh('policy deleted');
    await runInstance('a3', 'local-1', vpcId, sa, [ssh, web]);
    await sameAsFresh('instance run');
    await r.cvm().AssociateSecurityGroups({ SecurityGroupIds: [ssh], InstanceIds: [id.a1!] });
    await sameAsFresh('group associated');
    await r.cvm().TerminateInstances({ InstanceIds: [id.b2!] });
    delete id.b2;
    await sameAsFresh('instance terminated');
    // The states compared must have sent packets every way, or the comparisons above prove little.
    for (const c of ['delivered', 'ingress-policy', 'ingress-default', 'egress-default', 'loopback']) assert.ok(codes.has(c), `${c} never seen: ${[...codes].join(' ')}`);
  });

  it("keeps accounts apart although a host's cached document holds both accounts' VPCs", async () => {
    assert.equal(await hostOf(id.bob!), await hostOf(id.a1!), 'bob and a1 share a host (and an address)');
    // From a2, a1's address is a1 — never bob's instance with the same address on the same host
    // (tcp/22 from 10.0.1.0/24 is what web accepts after the changes above).
    const t = await call('TraceVpcFlow', { SourceInstanceId: id.a2, DestinationIpAddress: ip.a1, Protocol: 'TCP', Port: 22 });
    assert.equal(t.DeliveredTo?.InstanceId, id.a1, t.Text);
    assert.ok(t.Hops.every((h: Any) => h.VpcId === vpcId), 'every hop in the source VPC');
    // From bob's instance, that address is its own; a2's is nobody's in bob's VPC.
    const own = await call('TraceVpcFlow', { SourceInstanceId: id.bob, DestinationIpAddress: ip.a1, Protocol: 'ICMP' }, bob);
    assert.equal(own.Code, 'loopback');
    const across = await call('TraceVpcFlow', { SourceInstanceId: id.bob, DestinationIpAddress: ip.a2, Protocol: 'TCP', Port: 22 }, bob);
    assert.equal(across.Code, 'no-route');
    assert.ok(across.Hops.every((h: Any) => h.VpcId === bobVpc));
    const bobMatrix = await call('DescribeVpcReachability', { VpcId: bobVpc, Protocol: 'ICMP' }, bob);
    assert.deepEqual(bobMatrix.InstanceSet.map((i: Any) => i.InstanceId), [id.bob]);
    const aliceMatrix = await call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'ICMP' });
    assert.ok(!aliceMatrix.InstanceSet.some((i: Any) => i.InstanceId === id.bob));
    // Another account's instances and VPCs answer as missing ones.
    assert.equal(await errorCode(call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationIpAddress: ip.a2, Protocol: 'ICMP' }, bob)), 'ResourceNotFound');
    assert.equal(await errorCode(call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationInstanceId: id.bob, Protocol: 'ICMP' })), 'ResourceNotFound');
    assert.equal(await errorCode(call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'ICMP' }, bob)), 'ResourceNotFound');
    // A what-if over alice's group lists only alice's instances.
    const w = await call('PreviewSecurityGroupPolicyChange', {
      Action: 'ReplaceSecurityGroupPolicies',
      Request: { SecurityGroupId: web, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0, Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'DROP' }] } },
      Probes: [{ Protocol: 'ICMP' }],
    });
    const seen = [...w.BoundInstanceIds, ...w.ChangedFlowSet.flatMap((c: Any) => [c.SourceInstanceId, c.DestinationInstanceId])];
    assert.ok(seen.length && !seen.includes(id.bob), seen.join(' '));
  });

  it('PendingHostSet names the hosts whose agents have not applied their document, and none once they have', async () => {
    const [ha, hb] = [await hostOf(id.a1!), await hostOf(id.b1!)];
    assert.notEqual(ha, hb);
    const flow = { SourceInstanceId: id.a1, DestinationInstanceId: id.b1, Protocol: 'TCP', Port: 443 };
    const pendingOf = async () => {
      const t = await call('TraceVpcFlow', flow);
      const m = await call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'TCP', Port: 443 });
      return { t, m };
    };
    const agents = new Map<string, ReturnType<typeof runAgent>>();
    const start = (h: string) =>
      agents.set(h, runAgent({ controller: `unix:${join(r.dataDir, 'agents.sock')}`, hostId: h, token: token[h]!, driver: new SimDriver(), log: () => {} }));
    const stop = async (h: string) => {
      await agents.get(h)?.stop();
      agents.delete(h);
    };
    const until = async (what: string, done: () => Promise<boolean>) => {
      const end = Date.now() + 30_000;
      while (!(await done())) {
        if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    };
    const converged = async () => {
      const { t, m } = await pendingOf();
      return t.PendingHostSet.length === 0 && m.PendingHostSet.length === 0;
    };

    try {
      // No agent has ever run: both hosts of the path, and every host of the matrix, are pending at 0.
      const before = await pendingOf();
      assert.deepEqual(before.t.PendingHostSet.map((p: Any) => [p.HostId, p.AppliedRevision]), [[ha, 0], [hb, 0]].sort());
      assert.ok(before.t.PendingHostSet.every((p: Any) => p.DocumentRevision > 0));
      assert.match(before.t.Text, new RegExp(`\\nnote: ${hb} has not applied any document yet \\(revision \\d+ is waiting\\)`));
      assert.deepEqual(before.m.PendingHostSet.map((p: Any) => p.HostId), [...new Set(before.m.InstanceSet.map((i: Any) => i.HostId))].sort());

      for (const h of HOSTS) start(h.id);
      await until('every agent applied its document', converged);
      const done = await pendingOf();
      assert.doesNotMatch(done.t.Text, /note:/);
      assert.doesNotMatch(done.m.Text, /note:/);

      // Both agents stop; then b1's host gets a new document and a1's host a recompiled but identical one
      // (binding an unreferenced group to b1 touches every host of the VPC; only b1's sees a difference).
      await stop(ha);
      await stop(hb);
      const applied = Number((await store.db.selectFrom('hosts').select('applied_revision').where('id', '=', hb).executeTakeFirstOrThrow()).applied_revision);
      await r.vpc().CreateSecurityGroupPolicies({ SecurityGroupId: solo, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0, Protocol: 'TCP', Port: '443', CidrBlock: `${ip.a1}/32`, Action: 'DROP' }] } });
      await r.cvm().AssociateSecurityGroups({ SecurityGroupIds: [spare], InstanceIds: [id.b1!] });
      const lagging = await pendingOf();
      assert.equal(lagging.t.Code, 'ingress-policy', 'the trace answers the desired state');
      assert.equal(lagging.t.PendingHostSet.length, 1, JSON.stringify(lagging.t.PendingHostSet));
      const p = lagging.t.PendingHostSet[0];
      assert.deepEqual([p.HostId, p.AppliedRevision], [hb, applied]);
      assert.ok(p.DocumentRevision > applied);
      assert.ok(lagging.t.Text.endsWith(`note: ${hb} has applied revision ${applied} of ${p.DocumentRevision}; the kernel there may still act on the older state\n`), lagging.t.Text);
      assert.deepEqual(lagging.m.PendingHostSet.map((x: Any) => x.HostId), [hb]);

      start(ha);
      start(hb);
      await until('the agents caught up', converged);

      // A controller restart: the agents hold their documents' content already; each is sent its document
      // once more and reports the revision this controller gave it. A commit first, so that revision is newer.
      await r.vpc().CreateVpc({ VpcName: 'unrelated', CidrBlock: '192.168.0.0/16' });
      await r.restart();
      await until('the agents reported to the restarted controller', converged);
    } finally {
      for (const h of [...agents.keys()]) await stop(h);
    }
  });
});
