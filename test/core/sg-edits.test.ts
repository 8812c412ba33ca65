import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editPolicyLists, type PolicyActionName, type PolicyLists, type PolicyRequest } from '../../src/core/sg-edits.js';
import { parsePolicy, PolicyError, type PolicyInput } from '../../src/core/sg-policy.js';

const p = (port: string, action = 'ACCEPT'): PolicyInput => ({ Protocol: 'TCP', Port: port, CidrBlock: '10.0.0.0/16', Action: action });
const lists = (): PolicyLists => ({ Ingress: ['22', '80', '443'].map((x, i) => parsePolicy(p(x), `x${i}`)), Egress: [parsePolicy({ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }, 'e')] });
const ports = (l: PolicyLists['Ingress'] | undefined) => l?.map((x) => `${x.port}${x.action === 'DROP' ? '!' : ''}`);
const edit = (action: PolicyActionName, set: PolicyRequest['SecurityGroupPolicySet'], more: Partial<PolicyRequest> = {}, o = {}) =>
  editPolicyLists(action, { SecurityGroupId: 'sg-00000001', SecurityGroupPolicySet: set, ...more }, lists(), o);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof PolicyError) return e.code;
    throw e;
  }
  return 'accepted';
};

describe('policy edits of the five actions', () => {
  it('Create inserts at the shared PolicyIndex or appends, one direction only', () => {
    assert.deepEqual(ports(edit('CreateSecurityGroupPolicies', { Ingress: [p('8080'), p('8081')] }).Ingress), ['22', '80', '443', '8080', '8081']);
    const front = edit('CreateSecurityGroupPolicies', { Ingress: [{ ...p('8080'), PolicyIndex: 0 }] });
    assert.deepEqual(ports(front.Ingress), ['8080', '22', '80', '443']);
    assert.equal(front.Egress, undefined, 'a direction not edited is absent');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [p('1')], Egress: [p('2')] })), 'InvalidParameter.Coexist');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', {})), 'InvalidParameterValue.Empty');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [{ ...p('1'), PolicyIndex: 0 }, { ...p('2'), PolicyIndex: 1 }] })), 'InvalidParameterValue');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [{ ...p('1'), PolicyIndex: 4 }] })), 'InvalidParameterValue.Range');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [p('80')] })), 'UnsupportedOperation.DuplicatePolicy');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [p('1')] }, {}, { limit: 3 })), 'LimitExceeded.SecurityGroupPolicySet');
  });

  it('checks Version where the action does', () => {
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Version: '2', Ingress: [p('1')] }, {}, { version: 3 })), 'UnsupportedOperation.VersionMismatch');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Version: '3', Ingress: [p('1')] }, {}, { version: 3 })), 'accepted');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Version: 'x', Ingress: [p('1')] })), 'InvalidParameterValue.Malformed');
    assert.equal(code(() => edit('ModifySecurityGroupPolicies', { Version: '7', Ingress: [p('1')] }, {}, { version: 3 })), 'accepted', 'Modify does not check it');
  });

  it('Delete by index or by content, never both', () => {
    assert.deepEqual(ports(edit('DeleteSecurityGroupPolicies', { Ingress: [{ PolicyIndex: 0 }, { PolicyIndex: 2 }] }).Ingress), ['80']);
    assert.deepEqual(ports(edit('DeleteSecurityGroupPolicies', { Ingress: [{ ...p('443'), PolicyDescription: 'ignored' }] }).Ingress), ['22', '80']);
    assert.equal(code(() => edit('DeleteSecurityGroupPolicies', { Ingress: [{ PolicyIndex: 0 }, p('80')] })), 'InvalidParameter.Coexist');
    assert.equal(code(() => edit('DeleteSecurityGroupPolicies', { Ingress: [{ PolicyIndex: 3 }] })), 'ResourceNotFound');
    assert.equal(code(() => edit('DeleteSecurityGroupPolicies', { Ingress: [p('81')] })), 'ResourceNotFound');
  });

  it('Replace one or several in place, or move them (Priority, Both)', () => {
    assert.deepEqual(ports(edit('ReplaceSecurityGroupPolicy', { Ingress: [{ ...p('23'), PolicyIndex: 0 }] }).Ingress), ['23', '80', '443']);
    assert.equal(code(() => edit('ReplaceSecurityGroupPolicy', { Ingress: [{ ...p('1'), PolicyIndex: 0 }, { ...p('2'), PolicyIndex: 1 }] })), 'InvalidParameter');
    assert.equal(code(() => edit('ReplaceSecurityGroupPolicy', { Ingress: [p('1')] })), 'MissingParameter');
    assert.deepEqual(ports(edit('ReplaceSecurityGroupPolicies', { Ingress: [{ ...p('80', 'DROP'), PolicyIndex: 1 }] }).Ingress), ['22', '80!', '443']);
    const moved = edit('ReplaceSecurityGroupPolicies', { Ingress: [{ PolicyIndex: 0 }] }, { UpdateType: 'Priority', OriginalSecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 2 }] } });
    assert.deepEqual(ports(moved.Ingress), ['443', '22', '80']);
    const both = edit('ReplaceSecurityGroupPolicies', { Ingress: [{ ...p('444'), PolicyIndex: 0 }] }, { UpdateType: 'Both', OriginalSecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 2 }] } });
    assert.deepEqual(ports(both.Ingress), ['444', '22', '80']);
    assert.equal(code(() => edit('ReplaceSecurityGroupPolicies', { Ingress: [{ PolicyIndex: 0 }] }, { UpdateType: 'Priority' })), 'MissingParameter');
    assert.equal(code(() => edit('ReplaceSecurityGroupPolicies', { Ingress: [{ ...p('1'), PolicyIndex: 5 }] })), 'ResourceNotFound');
  });

  it('Modify replaces the directions given, and Version "0" clears both', () => {
    const m = edit('ModifySecurityGroupPolicies', { Ingress: [p('1')], Egress: [] });
    assert.deepEqual(ports(m.Ingress), ['1']);
    assert.deepEqual(m.Egress, []);
    assert.deepEqual(Object.keys(edit('ModifySecurityGroupPolicies', { Egress: [p('2')] })), ['Egress']);
    assert.deepEqual(edit('ModifySecurityGroupPolicies', { Version: '0', Ingress: [p('1')] }), { Ingress: [], Egress: [] });
    assert.equal(code(() => edit('ModifySecurityGroupPolicies', {})), 'InvalidParameterValue.Empty');
    assert.equal(code(() => edit('ModifySecurityGroupPolicies', { Ingress: [{ ...p('1'), PolicyIndex: 0 }] })), 'UnsupportedOperation');
  });

  it('refuses other actions and invalid policies with the parser’s codes', () => {
    assert.equal(code(() => edit('DescribeVpcs' as PolicyActionName, { Ingress: [p('1')] })), 'InvalidParameterValue');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [p('0')] })), 'InvalidParameterValue.Range');
    assert.equal(code(() => edit('CreateSecurityGroupPolicies', { Ingress: [{ Protocol: 'TCP', Action: 'ACCEPT' }] })), 'MissingParameter');
  });

  it('marks new policies with their request path, leaving the input lists alone', () => {
    const before = lists();
    const out = editPolicyLists('CreateSecurityGroupPolicies', { SecurityGroupId: 'sg-00000001', SecurityGroupPolicySet: { Ingress: [p('9')] } }, before);
    assert.equal(before.Ingress.length, 3);
    assert.deepEqual(out.Ingress!.map((x) => x.from), [undefined, undefined, undefined, 'SecurityGroupPolicySet.Ingress.0']);
  });
});
