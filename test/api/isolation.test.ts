/**
 * Cross-account isolation: account B never sees, changes or deletes account
 * A's resources, nor uses them as parameters, and learns nothing from trying:
 * every answer about a foreign ID is the answer about a missing one (same
 * code, same message but for the ID). A's resources are unchanged afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACTIONS } from '../../src/api/registry.js';
import { revision } from '../helpers/raw.js';
import { engineName, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

type Call = (params: Record<string, unknown>) => Promise<Record<string, unknown>>;
const has = (name: string) => ACTIONS.some((a) => a.name === name);

/** What an account learns from a call: its answer without the RequestId, or its error. */
async function outcome(p: Promise<unknown>): Promise<{ error?: string; text: string }> {
  try {
    const { RequestId: _r, ...rest } = (await p) as Record<string, unknown>;
    return { text: JSON.stringify(rest) };
  } catch (e) {
    const { code, message } = e as { code?: string; message?: string };
    if (!code) throw e;
    return { error: code, text: `${code}: ${message}` };
  }
}

describe(`cross-account isolation (${engineName()})`, () => {
  let r: TestRegion;
  let b: Creds;
  // A's resources.
  let vpcId: string;
  let subnetId: string | undefined;
  let sgId: string | undefined;
  let instanceId: string | undefined;
  const missing = { vpc: 'vpc-zzzzzzzz', subnet: 'subnet-zzzzzzzz', sg: 'sg-zzzzzzzz', ins: 'ins-zzzzzzzz' };

  // Official SDK clients expose each action as a method; call them by name.
  const as = (who: 'A' | 'B', action: string): Call => {
    const creds = who === 'A' ? undefined : b;
    const client = (ACTIONS.find((a) => a.name === action)?.service === 'cvm' ? r.cvm(creds) : r.vpc(creds)) as unknown as Record<string, Call>;
    return (params) => client[action]!.call(client, params);
  };

  /** B's call about A's ID answers exactly like its call about a missing ID; returns that outcome. */
  async function likeMissing(action: string, build: (id: string) => Record<string, unknown>, foreign: string, absent: string) {
    const f = await outcome(as('B', action)(build(foreign)));
    const m = await outcome(as('B', action)(build(absent)));
    assert.equal(f.text.replaceAll(foreign, 'ID'), m.text.replaceAll(absent, 'ID'), `${action}: foreign and missing IDs answer alike`);
    assert.equal(f.error === undefined, m.error === undefined);
    return f;
  }

  /** A's view of everything it owns, to compare before and after B's attempts. */
  async function snapshotOfA() {
    const parts: unknown[] = [(await as('A', 'DescribeVpcs')({ VpcIds: [vpcId] })).VpcSet];
    if (subnetId) parts.push((await as('A', 'DescribeSubnets')({ SubnetIds: [subnetId] })).SubnetSet);
    if (sgId) {
      parts.push((await as('A', 'DescribeSecurityGroups')({ SecurityGroupIds: [sgId] })).SecurityGroupSet);
      parts.push((await as('A', 'DescribeSecurityGroupPolicies')({ SecurityGroupId: sgId })).SecurityGroupPolicySet);
    }
    if (instanceId) {
      const set = (await as('A', 'DescribeInstances')({ InstanceIds: [instanceId] })).InstanceSet as Record<string, unknown>[];
      // Only what B could have changed; state and timestamps move on their own as the instance starts.
      parts.push(set.map((i) => [i.InstanceId, i.InstanceName, i.VirtualPrivateCloud, i.PrivateIpAddresses, i.SecurityGroupIds, i.Placement]));
    }
    return JSON.stringify(parts);
  }

  let before_: string;
  before(async () => {
    r = await startRegion();
    b = await r.newAccount('tenant-b');
    vpcId = ((await as('A', 'CreateVpc')({ VpcName: 'a-private', CidrBlock: '10.0.0.0/16' })).Vpc as { VpcId: string }).VpcId;
    if (has('CreateSubnet'))
      subnetId = ((await as('A', 'CreateSubnet')({ VpcId: vpcId, SubnetName: 'a-net', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet as { SubnetId: string })
        .SubnetId;
    if (has('CreateSecurityGroup')) {
      sgId = ((await as('A', 'CreateSecurityGroup')({ GroupName: 'a-sg', GroupDescription: 'A only' })).SecurityGroup as { SecurityGroupId: string }).SecurityGroupId;
      if (has('CreateSecurityGroupPolicies'))
        await as('A', 'CreateSecurityGroupPolicies')({
          SecurityGroupId: sgId,
          SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '22', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }] },
        });
    }
    if (has('RunInstances') && subnetId && sgId) {
      const run = await as('A', 'RunInstances')({
        Placement: { Zone: 'local-1' },
        VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId },
        SecurityGroupIds: [sgId],
        InstanceName: 'a-vm',
      });
      instanceId = (run.InstanceIdSet as string[])[0];
    }
    before_ = await snapshotOfA();
  });
  after(async () => r?.stop());

  it('B does not see A’s VPC by ID, by filter or in its full list', async () => {
    const byId = await likeMissing('DescribeVpcs', (id) => ({ VpcIds: [id] }), vpcId, missing.vpc);
    assert.ok(!byId.text.includes(vpcId));
    for (const filter of [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'vpc-name', Values: ['a-private'] }, { Name: 'cidr-block', Values: ['10.0.0.0/16'] }]) {
      const got = await as('B', 'DescribeVpcs')({ Filters: [filter] });
      assert.equal(got.TotalCount, 0, JSON.stringify(filter));
    }
    const all = await as('B', 'DescribeVpcs')({});
    assert.equal(all.TotalCount, 0);
    assert.ok(!JSON.stringify(all).includes(vpcId));
    // The same query as A does find it, so the filters above could have matched.
    assert.equal((await as('A', 'DescribeVpcs')({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).TotalCount, 1);
  });

  it('B cannot modify or delete A’s VPC: ResourceNotFound, as for a missing ID', async () => {
    const rev = await revision(r);
    assert.equal((await likeMissing('ModifyVpcAttribute', (id) => ({ VpcId: id, VpcName: 'stolen' }), vpcId, missing.vpc)).error, 'ResourceNotFound');
    assert.equal((await likeMissing('DeleteVpc', (id) => ({ VpcId: id }), vpcId, missing.vpc)).error, 'ResourceNotFound');
    assert.equal(await revision(r), rev, 'nothing written');
  });

  it('subnets: B can neither see, change, delete nor create one in A’s VPC', async (t) => {
    if (!subnetId) return t.skip('subnet actions are not implemented');
    const rev = await revision(r);
    const byId = await likeMissing('DescribeSubnets', (id) => ({ SubnetIds: [id] }), subnetId, missing.subnet);
    assert.ok(!byId.text.includes(subnetId));
    for (const filter of [{ Name: 'subnet-id', Values: [subnetId] }, { Name: 'vpc-id', Values: [vpcId] }]) {
      const got = await outcome(as('B', 'DescribeSubnets')({ Filters: [filter] }));
      assert.ok(!got.text.includes(subnetId) && !/"TotalCount":[1-9]/.test(got.text), `${JSON.stringify(filter)}: ${got.text}`);
    }
    assert.equal((await likeMissing('ModifySubnetAttribute', (id) => ({ SubnetId: id, SubnetName: 'stolen' }), subnetId, missing.subnet)).error, 'ResourceNotFound');
    assert.equal((await likeMissing('DeleteSubnet', (id) => ({ SubnetId: id }), subnetId, missing.subnet)).error, 'ResourceNotFound');
    const inForeignVpc = (id: string) => ({ VpcId: id, SubnetName: 'squat', CidrBlock: '10.0.2.0/24', Zone: 'local-1' });
    assert.equal((await likeMissing('CreateSubnet', inForeignVpc, vpcId, missing.vpc)).error, 'ResourceNotFound');
    if (has('DescribeVpcPrivateIpAddresses'))
      assert.ok((await likeMissing('DescribeVpcPrivateIpAddresses', (id) => ({ VpcId: id, PrivateIpAddresses: ['10.0.1.2'] }), vpcId, missing.vpc)).error);
    assert.equal(await revision(r), rev, 'nothing written');
  });

  it('security groups: B can neither see, change, delete nor use A’s', async (t) => {
    if (!sgId) return t.skip('security group actions are not implemented');
    const rev = await revision(r);
    const byId = await likeMissing('DescribeSecurityGroups', (id) => ({ SecurityGroupIds: [id] }), sgId, missing.sg);
    assert.ok(!byId.text.includes(sgId));
    const filtered = await outcome(as('B', 'DescribeSecurityGroups')({ Filters: [{ Name: 'security-group-id', Values: [sgId] }] }));
    assert.ok(!filtered.text.includes(sgId), filtered.text);
    const all = await outcome(as('B', 'DescribeSecurityGroups')({}));
    assert.ok(!all.text.includes(sgId), all.text);
    const rule = { Ingress: [{ Protocol: 'TCP', Port: '80', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] };
    const checks: [string, (id: string) => Record<string, unknown>][] = [
      ['DescribeSecurityGroupPolicies', (id) => ({ SecurityGroupId: id })],
      ['ModifySecurityGroupAttribute', (id) => ({ SecurityGroupId: id, GroupName: 'stolen' })],
      ['CreateSecurityGroupPolicies', (id) => ({ SecurityGroupId: id, SecurityGroupPolicySet: rule })],
      ['DeleteSecurityGroupPolicies', (id) => ({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0 }] } })],
      ['ReplaceSecurityGroupPolicy', (id) => ({ SecurityGroupId: id, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 0, ...rule.Ingress[0] }] } })],
      ['ModifySecurityGroupPolicies', (id) => ({ SecurityGroupId: id, SecurityGroupPolicySet: { Version: '0' } })],
      ['DeleteSecurityGroup', (id) => ({ SecurityGroupId: id })],
    ];
    for (const [action, build] of checks) if (has(action)) assert.equal((await likeMissing(action, build, sgId, missing.sg)).error, 'ResourceNotFound', action);
    // A's group as a rule source in B's own group.
    if (has('CreateSecurityGroupPolicies')) {
      const own = ((await as('B', 'CreateSecurityGroup')({ GroupName: 'b-sg', GroupDescription: 'B' })).SecurityGroup as { SecurityGroupId: string }).SecurityGroupId;
      const rev2 = await revision(r);
      const ref = (id: string) => ({ SecurityGroupId: own, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '22', SecurityGroupId: id, Action: 'ACCEPT' }] } });
      assert.ok((await likeMissing('CreateSecurityGroupPolicies', ref, sgId, missing.sg)).error, 'a foreign group is not a rule source');
      assert.equal(await revision(r), rev2, 'nothing written');
      await as('B', 'DeleteSecurityGroup')({ SecurityGroupId: own });
      return;
    }
    assert.equal(await revision(r), rev, 'nothing written');
  });

  it('instances: B can neither see, terminate nor launch into A’s network', async (t) => {
    if (!has('RunInstances') || !subnetId || !sgId) return t.skip('instance actions are not implemented');
    assert.ok(instanceId);
    const rev = await revision(r);
    const byId = await likeMissing('DescribeInstances', (id) => ({ InstanceIds: [id] }), instanceId, missing.ins);
    assert.ok(!byId.text.includes(instanceId));
    for (const filter of [{ Name: 'instance-id', Values: [instanceId] }, { Name: 'vpc-id', Values: [vpcId] }, { Name: 'subnet-id', Values: [subnetId] }]) {
      const got = await outcome(as('B', 'DescribeInstances')({ Filters: [filter] }));
      assert.ok(!got.text.includes(instanceId) && !/"TotalCount":[1-9]/.test(got.text), `${JSON.stringify(filter)}: ${got.text}`);
    }
    assert.ok((await likeMissing('TerminateInstances', (id) => ({ InstanceIds: [id] }), instanceId, missing.ins)).error);
    if (has('AssociateSecurityGroups')) {
      assert.ok((await likeMissing('AssociateSecurityGroups', (id) => ({ InstanceIds: [id], SecurityGroupIds: [sgId!] }), instanceId, missing.ins)).error);
      assert.ok((await likeMissing('DisassociateSecurityGroups', (id) => ({ InstanceIds: [id], SecurityGroupIds: [sgId!] }), instanceId, missing.ins)).error);
    }
    const launch = (vpc: string, subnet: string) => ({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpc, SubnetId: subnet } });
    assert.ok((await likeMissing('RunInstances', (id) => launch(id, subnetId!), vpcId, missing.vpc)).error, 'into A’s VPC');
    assert.ok((await likeMissing('RunInstances', (id) => ({ ...launch(vpcId, id) }), subnetId, missing.subnet)).error, 'into A’s subnet');
    assert.equal(await revision(r), rev, 'nothing written');
  });

  it('A’s resources are exactly as they were after all of B’s attempts', async () => {
    assert.equal(await snapshotOfA(), before_);
  });
});
