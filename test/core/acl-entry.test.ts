import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAclDirection, parseAclEntry, type AclEntryInput } from '../../src/core/acl-entry.js';
import { PolicyError } from '../../src/core/sg-policy.js';

const P = 'NetworkAclEntrySet.Ingress.0';
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PolicyError, String(e));
    return { code: e.code, message: e.message };
  }
  assert.fail('expected a PolicyError');
};

describe('network ACL entries', () => {
  it('normalises protocol, action and port, case-insensitively', () => {
    assert.deepEqual(parseAclEntry({ Protocol: 'tcp', Port: '80', CidrBlock: '10.0.0.0/8', Action: 'Accept' }, P), {
      protocol: 'TCP',
      port: '80',
      cidr: '10.0.0.0/8',
      ipv6Cidr: '',
      action: 'ACCEPT',
      description: '',
    });
    assert.equal(parseAclEntry({ Protocol: 'UDP', Port: '8000 - 8010', CidrBlock: '1.2.3.4', Action: 'drop' }, P).port, '8000-8010');
    assert.equal(parseAclEntry({ Protocol: 'UDP', CidrBlock: '1.2.3.4', Action: 'DROP' }, P).port, 'ALL', 'no Port: every port');
    assert.equal(parseAclEntry({ Protocol: 'ALL', Port: 'all', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }, P).port, 'ALL');
    const v6 = parseAclEntry({ Protocol: 'ICMP', Ipv6CidrBlock: '2001:DB8::/32', Action: 'ACCEPT', Description: 'ping' }, P);
    assert.deepEqual([v6.cidr, v6.ipv6Cidr, v6.description], ['', '2001:db8::/32', 'ping']);
    // Output-only fields echoed back from Describe are ignored.
    assert.equal(parseAclEntry({ Protocol: 'TCP', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT', Priority: 3, ModifyTime: 'x', NetworkAclIpv4EntryId: '' }, P).protocol, 'TCP');
  });

  const bad: [string, AclEntryInput, string, string][] = [
    ['no protocol', { CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'MissingParameter', 'Protocol'],
    ['no action', { Protocol: 'TCP', CidrBlock: '10.0.0.0/8' }, 'MissingParameter', 'Action'],
    ['unknown protocol', { Protocol: 'GRE', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'InvalidParameterValue', `${P}.Protocol`],
    ['ICMPV6 is not an ACL protocol', { Protocol: 'ICMPV6', Ipv6CidrBlock: '::/0', Action: 'ACCEPT' }, 'InvalidParameterValue', `${P}.Protocol`],
    ['unknown action', { Protocol: 'TCP', CidrBlock: '10.0.0.0/8', Action: 'ALLOW' }, 'InvalidParameterValue', `${P}.Action`],
    ['malformed CIDR', { Protocol: 'TCP', CidrBlock: '10.0.0.0/33', Action: 'ACCEPT' }, 'InvalidParameterValue.Malformed', `${P}.CidrBlock`],
    ['host bits set', { Protocol: 'TCP', CidrBlock: '10.0.0.1/8', Action: 'ACCEPT' }, 'InvalidParameterValue.Malformed', `${P}.CidrBlock`],
    ['malformed IPv6', { Protocol: 'TCP', Ipv6CidrBlock: '2001:zz::/32', Action: 'ACCEPT' }, 'InvalidParameterValue.Malformed', `${P}.Ipv6CidrBlock`],
    ['both families', { Protocol: 'TCP', CidrBlock: '10.0.0.0/8', Ipv6CidrBlock: '::/0', Action: 'ACCEPT' }, 'InvalidParameter.Coexist', 'CidrBlock'],
    ['no peer', { Protocol: 'TCP', Action: 'ACCEPT' }, 'MissingParameter', 'CidrBlock'],
    ['port list', { Protocol: 'TCP', Port: '80,443', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'InvalidParameterValue.Malformed', `${P}.Port`],
    ['port out of range', { Protocol: 'TCP', Port: '70000', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'InvalidParameterValue.Range', `${P}.Port`],
    ['reversed range', { Protocol: 'TCP', Port: '90-80', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'InvalidParameterValue.Range', `${P}.Port`],
    ['port with ICMP', { Protocol: 'ICMP', Port: '80', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'InvalidParameterValue', `${P}.Port`],
    ['port with ALL', { Protocol: 'ALL', Port: '1-10', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }, 'InvalidParameterValue', `${P}.Port`],
    ['long description', { Protocol: 'TCP', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT', Description: 'x'.repeat(101) }, 'InvalidParameterValue.TooLong', `${P}.Description`],
  ];
  for (const [name, input, code, names] of bad)
    it(`refuses ${name} with ${code}, naming ${names}`, () => {
      const e = codeOf(() => parseAclEntry(input, P));
      assert.equal(e.code, code);
      assert.ok(e.message.includes(names), e.message);
    });

  it('a direction is all or nothing, within its quota', () => {
    const ok = { Protocol: 'TCP', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' };
    assert.equal(parseAclDirection([ok, ok], 'Egress', 2).length, 2);
    assert.deepEqual(parseAclDirection([], 'Egress', 2), []);
    assert.equal(codeOf(() => parseAclDirection([ok, ok, ok], 'Egress', 2)).code, 'LimitExceeded');
    const e = codeOf(() => parseAclDirection([ok, { ...ok, CidrBlock: 'nope' }], 'Egress', 5));
    assert.ok(e.message.includes('NetworkAclEntrySet.Egress.1.CidrBlock'), e.message);
  });
});
