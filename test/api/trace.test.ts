/**
 * The tracer's Weft actions (TraceVpcFlow, DescribeVpcReachability,
 * PreviewSecurityGroupPolicyChange) against a real server whose hosts are
 * registered in its store (as weft up does): the region is built through the
 * official SDK, the actions are called through the SDK's CommonClient and the
 * weft CLI.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { openStore, type Store } from '../../src/store/store.js';
import { revision } from '../helpers/raw.js';
import { engineName, errorCode, startRegion, type Creds, type TestRegion, vpcCommonClient } from '../helpers/region.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe(`packet tracer actions (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let api: CommonClient;
  let bob: CommonClient;
  let bobCreds: Creds;
  const id: Record<string, string> = {};
  const ip: Record<string, string> = {};
  let vpcId = '';
  let twinId = '';
  let web = '';
  let ssh = '';
  let bobSg = '';
  const client = (c: Pick<Creds, 'SecretId' | 'SecretKey'>) => vpcCommonClient(r.endpoint, c);
  const call = (action: string, params: Any, c = api) => c.request(action, params) as Promise<Any>;

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    api = client(r.admin);
    bobCreds = await r.newAccount('bob');
    bob = client(bobCreds);
    const vpc = r.vpc();
    const cvm = r.cvm();
    vpcId = (await vpc.CreateVpc({ VpcName: 'app', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const sa = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'a', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const sb = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'b', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    twinId = (await vpc.CreateVpc({ VpcName: 'twin', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const st = (await vpc.CreateSubnet({ VpcId: twinId, SubnetName: 't', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    web = (await vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'web',
      GroupDescription: 'http and ping inside',
      SecurityGroupPolicySet: {
        Ingress: [
          { Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
          { Protocol: 'ICMP', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' },
        ],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
    ssh = (await vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'ssh',
      GroupDescription: 'ssh from web',
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '22', SecurityGroupId: web, Action: 'ACCEPT' }] },
    })).SecurityGroup!.SecurityGroupId!;
    const run = async (name: string, zone: string, vpcOf: string, subnet: string, groups: string[], addr?: string) => {
      const res = await cvm.RunInstances({
        Placement: { Zone: zone },
        VirtualPrivateCloud: { VpcId: vpcOf, SubnetId: subnet, ...(addr ? { PrivateIpAddresses: [addr] } : {}) },
        SecurityGroupIds: groups,
        InstanceName: name,
      });
      id[name] = res.InstanceIdSet![0]!;
    };
    await run('a1', 'local-1', vpcId, sa, [web]);
    await run('a2', 'local-1', vpcId, sa, [web, ssh]);
    await run('b1', 'local-2', vpcId, sb, [web]);
    for (const i of (await cvm.DescribeInstances({ InstanceIds: Object.values(id) })).InstanceSet!)
      ip[Object.keys(id).find((k) => id[k] === i.InstanceId)!] = i.PrivateIpAddresses![0]!;
    await run('t1', 'local-1', twinId, st, [web], ip.a2);
    ip.t1 = ip.a2!;
    const bv = r.vpc(bobCreds);
    const bobVpc = (await bv.CreateVpc({ VpcName: 'bob', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const bobSubnet = (await bv.CreateSubnet({ VpcId: bobVpc, SubnetName: 'x', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    bobSg = (await bv.CreateSecurityGroup({ GroupName: 'b', GroupDescription: 'b' })).SecurityGroup!.SecurityGroupId!;
    id.bob = (await r.cvm(bobCreds).RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: bobVpc, SubnetId: bobSubnet }, SecurityGroupIds: [bobSg] })).InstanceIdSet![0]!;
    // Hosts, as weft up registers them; the server's scheduler places the instances.
    await registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.0.11' });
    await registerHost(store, { id: 'h2', zone: 'local-2', underlay: '100.64.0.12' });
    await registerHost(store, { id: 'h3', zone: 'local-1', underlay: '100.64.0.13' });
    const end = Date.now() + 30_000;
    for (;;) {
      const left = await store.db.selectFrom('instances').select('id').where('host_id', 'is', null).execute();
      if (!left.length) break;
      if (Date.now() > end) throw new Error(`instances not placed: ${left.map((x) => x.id)}`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  it('TraceVpcFlow: a packet across hosts, hop by hop, through the SDK', async () => {
    const t = await call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationInstanceId: id.b1, Protocol: 'TCP', Port: 80 });
    assert.equal(t.Verdict, 'delivered');
    assert.equal(t.Code, 'delivered');
    assert.deepEqual(t.DeliveredTo.InstanceId, id.b1);
    assert.equal(t.Source.InstanceId, id.a1);
    assert.equal(t.Source.VpcId, vpcId);
    assert.deepEqual(t.Hops.map((h: Any) => h.Stage), ['port', 'route', 'security-group', 'tunnel', 'route', 'security-group', 'deliver']);
    const tunnel = t.Hops[3];
    assert.equal(tunnel.Detail.ToHostId, 'h2');
    assert.equal(tunnel.Detail.ToUnderlay, '100.64.0.12');
    assert.equal(typeof tunnel.Detail.Vni, 'number');
    const ingress = t.Hops[5].Detail;
    assert.deepEqual([ingress.Direction, ingress.SecurityGroupId, ingress.PolicyIndex, ingress.Policy.Protocol], ['ingress', web, 0, 'tcp']);
    assert.ok(t.Revision > 0);
    assert.match(t.Text, /VXLAN VNI \d+ from 100\.64\.0\.1[13] to 100\.64\.0\.12 \(host h2/);
    assert.match(t.Text, /verdict: DELIVERED/);
    assert.match(t.RequestId, /^[0-9a-f-]{36}$/);
  });

  it('TraceVpcFlow: drops with the exact reason, group references, replies, the gateway', async () => {
    const dropped = await call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationIpAddress: ip.b1, Protocol: 'tcp', Port: 81, Reply: true });
    assert.equal(dropped.Code, 'ingress-default');
    assert.match(dropped.Reason, new RegExp(`no ingress policy of ${web} matches tcp port 81 from ${ip.a1!.replace(/\./g, '\\.')}`));
    assert.match(dropped.ReplySkipped, /no reply/);
    const ref = await call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationInstanceId: id.a2, Protocol: 'TCP', Port: 22, Reply: true });
    assert.equal(ref.Code, 'delivered');
    const decided = ref.Hops.filter((h: Any) => h.Stage === 'security-group').at(-1).Detail;
    assert.deepEqual([decided.SecurityGroupId, decided.PolicyIndex, decided.Policy.Group], [ssh, 0, web]);
    assert.equal(ref.Reply.Code, 'delivered');
    assert.equal(ref.Reply.DeliveredTo.InstanceId, id.a1);
    const gw = await call('TraceVpcFlow', { SourceInstanceId: id.b1, DestinationIpAddress: '10.0.2.1', Protocol: 'ICMP' });
    assert.deepEqual([gw.Verdict, gw.Code], ['answered', 'router-address']);
  });

  it('TraceVpcFlow: the source decides the VPC; overlapping addresses stay apart', async () => {
    // t1 (twin) has a2's address; from twin, a1's address is nobody's.
    const t = await call('TraceVpcFlow', { SourceInstanceId: id.t1, DestinationInstanceId: id.a1, Protocol: 'ICMP' });
    assert.equal(t.Code, 'no-route');
    assert.equal(t.Destination.InstanceId, id.a1);
    assert.match(t.Destination.Note, /VPCs are isolated/);
    assert.ok(t.Hops.every((h: Any) => h.VpcId === twinId));
    const self = await call('TraceVpcFlow', { SourceInstanceId: id.t1, DestinationIpAddress: ip.a2, Protocol: 'ICMP' });
    assert.equal(self.Code, 'loopback', 'in twin, that address is t1 itself');
    const toA2 = await call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationIpAddress: ip.a2, Protocol: 'ICMP' });
    assert.equal(toA2.DeliveredTo.InstanceId, id.a2);
  });

  it('TraceVpcFlow: refuses bad questions and other accounts’ instances', async () => {
    const cases: [Any, string, CommonClient?][] = [
      [{ SourceInstanceId: id.bob, DestinationIpAddress: '10.0.1.2', Protocol: 'ICMP' }, 'ResourceNotFound'],
      [{ SourceInstanceId: id.a1, DestinationInstanceId: id.bob, Protocol: 'ICMP' }, 'ResourceNotFound'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', Protocol: 'ICMP' }, 'ResourceNotFound', bob],
      [{ SourceInstanceId: 'ins-1', DestinationIpAddress: '10.0.1.2', Protocol: 'ICMP' }, 'InvalidParameterValue.Malformed'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1', Protocol: 'ICMP' }, 'InvalidParameterValue.Malformed'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', Protocol: 'TCP' }, 'MissingParameter'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', Protocol: 'ICMP', Port: 1 }, 'InvalidParameter.Coexist'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', DestinationInstanceId: id.b1, Protocol: 'ICMP' }, 'InvalidParameter.Coexist'],
      [{ SourceInstanceId: id.a1, Protocol: 'ICMP' }, 'MissingParameter'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', Protocol: 'GRE' }, 'InvalidParameterValue'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', Protocol: 'TCP', Port: 70000 }, 'InvalidParameterValue.Range'],
      [{ SourceInstanceId: id.a1, DestinationIpAddress: '10.0.1.2', Protocol: 'ICMP', Extra: 1 }, 'UnknownParameter'],
    ];
    for (const [params, code, c] of cases) assert.equal(await errorCode(call('TraceVpcFlow', params, c)), code, JSON.stringify(params));
  });

  it('DescribeVpcReachability: the matrix of a VPC, for its owner only', async () => {
    const m = await call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'TCP', Port: 22 });
    const order = m.InstanceSet.map((i: Any) => i.InstanceId);
    assert.deepEqual([...order].sort(), [id.a1, id.a2, id.b1].sort());
    assert.equal(m.PairCount, 6);
    // tcp 22 arrives only at a2 (ssh), from a1 and b1 (members of web).
    const cell = (from: string, to: string) => m.Matrix[order.indexOf(id[from])][order.indexOf(id[to])];
    assert.equal(cell('a1', 'a2'), 'delivered');
    assert.equal(cell('b1', 'a2'), 'delivered');
    assert.equal(cell('a2', 'a1'), 'ingress-default');
    assert.equal(cell('a1', 'a1'), 'loopback');
    assert.equal(m.ReachableCount, 2);
    assert.match(m.Text, /^tcp\/22 in vpc-\w+: 2 of 6 ordered pairs reachable/);
    const icmp = await call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'ICMP', InstanceIds: [id.b1, id.a1] });
    assert.deepEqual(icmp.InstanceSet.map((i: Any) => i.InstanceId), [id.b1, id.a1]);
    assert.equal(icmp.ReachableCount, 2);
    assert.equal(await errorCode(call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'ICMP' }, bob)), 'ResourceNotFound');
    assert.equal(await errorCode(call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'ICMP', InstanceIds: [id.t1] })), 'ResourceNotFound');
    assert.equal(await errorCode(call('DescribeVpcReachability', { VpcId: vpcId, Protocol: 'UDP' })), 'MissingParameter');
  });

  it('PreviewSecurityGroupPolicyChange: the flows a change would turn, and nothing applied', async () => {
    const rev = await revision(r);
    const request = { SecurityGroupId: web, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0, Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'DROP' }] } };
    const w = await call('PreviewSecurityGroupPolicyChange', { Action: 'ReplaceSecurityGroupPolicies', Request: request });
    assert.deepEqual(w.Directions, ['ingress']);
    // t1 is bound to web too, but alone in its VPC: no pair of it can change.
    assert.deepEqual([...w.BoundInstanceIds].sort(), [id.a1, id.a2, id.b1, id.t1].sort());
    const changed = w.ChangedFlowSet.map((c: Any) => `${c.SourceInstanceId}>${c.DestinationInstanceId} ${c.Protocol}/${c.Port ?? ''}`);
    assert.ok(changed.includes(`${id.a1}>${id.b1} TCP/80`), changed.join('\n'));
    assert.ok(changed.every((c: string) => c.endsWith('TCP/80')));
    assert.equal(w.ChangedFlowSet.length, 6);
    const one = w.ChangedFlowSet[0];
    assert.deepEqual([one.Before.Verdict, one.After.Verdict, one.After.Code, one.After.SecurityGroupId, one.After.PolicyIndex], ['delivered', 'dropped', 'ingress-policy', web, 0]);
    assert.match(w.Text, /6 would change/);
    assert.equal(await revision(r), rev, 'a preview changes nothing');
    // …and once applied for real, the tracer agrees with the preview.
    await r.vpc().ReplaceSecurityGroupPolicies(request);
    const t = await call('TraceVpcFlow', { SourceInstanceId: id.a1, DestinationInstanceId: id.b1, Protocol: 'TCP', Port: 80 });
    assert.deepEqual([t.Code, t.Hops.at(-1).Detail.PolicyIndex], ['ingress-policy', 0]);
    await r.vpc().ReplaceSecurityGroupPolicies({ SecurityGroupId: web, SecurityGroupPolicySet: { Ingress: [{ ...request.SecurityGroupPolicySet.Ingress[0]!, Action: 'ACCEPT' }] } });
  });

  it('PreviewSecurityGroupPolicyChange: refuses what the action would refuse', async () => {
    const rev = await revision(r);
    const ingress = (p: Any) => ({ SecurityGroupId: web, SecurityGroupPolicySet: { Ingress: [p] } });
    const cases: [Any, string][] = [
      [{ Action: 'CreateSecurityGroupPolicies', Request: ingress({ Protocol: 'TCP', Port: '80', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }) }, 'UnsupportedOperation.DuplicatePolicy'],
      [{ Action: 'CreateSecurityGroupPolicies', Request: { ...ingress({ Protocol: 'TCP', Port: '81', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }), SecurityGroupPolicySet: { Version: '0', Ingress: [{ Protocol: 'TCP', Port: '81', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }] } } }, 'UnsupportedOperation.VersionMismatch'],
      [{ Action: 'CreateSecurityGroupPolicies', Request: ingress({ Protocol: 'TCP', Port: '81', SecurityGroupId: bobSg, Action: 'ACCEPT' }) }, 'ResourceNotFound'],
      [{ Action: 'DeleteSecurityGroupPolicies', Request: ingress({ PolicyIndex: 7 }) }, 'ResourceNotFound'],
      [{ Action: 'CreateSecurityGroupPolicies', Request: { SecurityGroupId: bobSg, SecurityGroupPolicySet: {} } }, 'ResourceNotFound'],
      [{ Action: 'DescribeVpcs', Request: ingress({}) }, 'InvalidParameterValue'],
      [{ Action: 'CreateSecurityGroupPolicies', Request: { SecurityGroupId: web } }, 'MissingParameter'],
      [{ Action: 'CreateSecurityGroupPolicies', Request: ingress({ Protocol: 'TCP', Port: '81', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT', Bogus: 1 }) }, 'UnknownParameter'],
    ];
    for (const [params, code] of cases) assert.equal(await errorCode(call('PreviewSecurityGroupPolicyChange', params)), code, JSON.stringify(params));
    assert.equal(await revision(r), rev);
  });

  it('weft trace | reach | what-if print text, or JSON with --json', async () => {
    const text = await r.weft(['trace', '--from', id.a1!, '--to', id.b1!, '--port', '80', '--reply']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^request tcp .*:49152 → .*:80: /);
    assert.match(text.stdout, /verdict: DELIVERED/);
    assert.match(text.stdout, /\nreply tcp /);
    const json = await r.weft(['trace', '--from', id.a1!, '--to', ip.b1!, '--proto', 'icmp', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Any;
    assert.equal(parsed.Code, 'delivered');
    assert.equal(parsed.Text, undefined);
    const reach = await r.weft(['reach', '--vpc', vpcId, '--proto', 'tcp', '--port', '22']);
    assert.equal(reach.code, 0, reach.stderr);
    assert.match(reach.stdout, /2 of 6 ordered pairs reachable/);
    const body = JSON.stringify({ SecurityGroupId: ssh, SecurityGroupPolicySet: { Version: '0' } });
    const whatIf = await r.weft(['what-if', '--action', 'ModifySecurityGroupPolicies', '--body', body]);
    assert.equal(whatIf.code, 0, whatIf.stderr);
    assert.match(whatIf.stdout, /what-if ModifySecurityGroupPolicies on sg-\w+ \(changes ingress and egress; bound to 1 instance/);
    assert.match(whatIf.stdout, /tcp\/22: delivered → dropped/);
    const bad = await r.weft(['trace', '--from', id.a1!, '--to', 'nowhere', '--proto', 'icmp']);
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as Any).Error.Code, 'InvalidParameterValue.Malformed');
    const usage = await r.weft(['trace', '--from', id.a1!, '--to', ip.b1!]);
    assert.equal(usage.code, 2, 'tcp without --port is a usage error');
  });
});
