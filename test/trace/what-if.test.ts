import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost } from '../../src/compile/compile.js';
import { PolicyError } from '../../src/core/sg-policy.js';
import { renderWhatIf } from '../../src/trace/render.js';
import { reachability } from '../../src/trace/reach.js';
import { policyOf, whatIf, type WhatIfQuery } from '../../src/trace/what-if.js';
import { baseScenario, documents, type PolicySpec } from './scenario.js';

const docs = documents(baseScenario());
const ask = (q: Omit<WhatIfQuery, 'request'> & { request: Partial<WhatIfQuery['request']> }) =>
  whatIf(docs, { ...q, request: { SecurityGroupId: 'sg-web00000', SecurityGroupPolicySet: {}, ...q.request } } as WhatIfQuery);
const flows = (r: ReturnType<typeof whatIf>) => r.changes.map((c) => `${c.from}>${c.to} ${c.protocol}${c.port ? `/${c.port}` : ''} ${c.before.verdict}>${c.after.verdict}`);

/** The same change made in the scenario itself and compiled: what the region would really become. */
function applied(sg: string, dir: 'ingress' | 'egress', list: PolicySpec[]) {
  const s = baseScenario();
  s.groups[sg] = { ...s.groups[sg], [dir]: list };
  return documents(s);
}

describe('what-if', () => {
  it('lists the flows a replaced policy turns, with what decided before and after', () => {
    // sg-web00000 ingress policy 1 (ACCEPT tcp 80,443 from anywhere) becomes a DROP.
    const r = ask({
      action: 'ReplaceSecurityGroupPolicies',
      request: { SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 1, Protocol: 'TCP', Port: '80,443', CidrBlock: '0.0.0.0/0', Action: 'DROP' }] } },
    });
    assert.deepEqual(r.directions, ['ingress']);
    assert.deepEqual(r.boundInstances, ['ins-a1', 'ins-a3'], 'a5 has no port');
    assert.deepEqual(r.probes, [
      { protocol: 'tcp', port: 22 },
      { protocol: 'tcp', port: 80 },
      { protocol: 'tcp', port: 443 },
      { protocol: 'tcp', port: 8000 },
      { protocol: 'tcp', port: 8010 },
      { protocol: 'icmp' },
    ]);
    assert.deepEqual(flows(r), [
      'ins-a1>ins-a3 tcp/80 delivered>dropped',
      'ins-a1>ins-a3 tcp/443 delivered>dropped',
      'ins-a2>ins-a1 tcp/80 delivered>dropped',
      'ins-a2>ins-a1 tcp/443 delivered>dropped',
      'ins-a2>ins-a3 tcp/80 delivered>dropped',
      'ins-a2>ins-a3 tcp/443 delivered>dropped',
      'ins-a3>ins-a1 tcp/80 delivered>dropped',
      'ins-a3>ins-a1 tcp/443 delivered>dropped',
    ]);
    const c = r.changes[0]!;
    assert.deepEqual([c.before.securityGroupId, c.before.policyIndex, c.after.securityGroupId, c.after.policyIndex, c.after.code], ['sg-web00000', 1, 'sg-web00000', 1, 'ingress-policy']);
    // Pairs: each of a1, a3 as destination, from the 4 other placed instances of vpc-a: 2 × 4, × 6 probes.
    assert.equal(r.flowsChecked, 8 * 6);
    const text = renderWhatIf(r);
    assert.match(text, /^what-if ReplaceSecurityGroupPolicies on sg-web00000 \(changes ingress; bound to 2 instance\(s\) with a port\)/);
    assert.match(text, /checked 48 flow\(s\) \(tcp\/22, tcp\/80, tcp\/443, tcp\/8000, tcp\/8010, icmp\): 8 would change/);
    assert.match(text, /ins-a3 \(10\.0\.2\.7\) → ins-a1 \(10\.0\.1\.5\) tcp\/80: delivered → dropped\n {6}before: .*policy 1 \(ACCEPT.*\n {6}after: {2}.*policy 1 \(DROP/);
  });

  it('predicts exactly the matrix the compiled change gives', () => {
    // Create an egress policy on sg-inonly00 (a6 may send nothing new today).
    const r = whatIf(docs, {
      action: 'CreateSecurityGroupPolicies',
      request: { SecurityGroupId: 'sg-inonly00', SecurityGroupPolicySet: { Egress: [{ Protocol: 'TCP', Port: '22', CidrBlock: '10.0.0.0/16', Action: 'ACCEPT' }] } },
    });
    const later = applied('sg-inonly00', 'egress', [{ protocol: 'TCP', port: '22', cidr: '10.0.0.0/16', action: 'ACCEPT' }]);
    const m0 = reachability(docs, { vpcId: 'vpc-aaaaaaaa', protocol: 'tcp', port: 22 });
    const m1 = reachability(later, { vpcId: 'vpc-aaaaaaaa', protocol: 'tcp', port: 22 });
    const expected: string[] = [];
    m0.instances.forEach((a, i) =>
      m0.instances.forEach((b, j) => {
        const was = m0.cells[i]![j] === 'delivered';
        const will = m1.cells[i]![j] === 'delivered';
        if (was !== will) expected.push(`${a.instanceId}>${b.instanceId} tcp/22 ${was ? 'delivered' : 'dropped'}>${will ? 'delivered' : 'dropped'}`);
      }),
    );
    assert.ok(expected.length > 0);
    assert.deepEqual(flows(r).filter((f) => f.includes('tcp/22')), expected);
  });

  it('resolves a group newly referenced by the change to its members', () => {
    // sg-inonly00 gets "ACCEPT ALL from members of sg-web00000": nothing on h3 referenced sg-web00000 before.
    assert.equal(docs.find((d) => d.hostId === 'h3')!.vpcs[0]!.groupMembers['sg-web00000'], undefined);
    const r = whatIf(docs, {
      action: 'CreateSecurityGroupPolicies',
      request: { SecurityGroupId: 'sg-inonly00', SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', SecurityGroupId: 'sg-web00000', Action: 'ACCEPT' }] } },
      probes: [{ protocol: 'udp', port: 9000 }],
    });
    assert.deepEqual(flows(r), [
      'ins-a1>ins-a6 tcp/9000 dropped>delivered',
      'ins-a1>ins-a6 udp/9000 dropped>delivered',
      'ins-a1>ins-a6 icmp dropped>delivered',
      'ins-a3>ins-a6 tcp/9000 dropped>delivered',
      'ins-a3>ins-a6 udp/9000 dropped>delivered',
      'ins-a3>ins-a6 icmp dropped>delivered',
    ]);
    assert.equal(r.changes[0]!.after.policyIndex, 1);
  });

  it('handles deletion by index and by content, and the reset of ModifySecurityGroupPolicies', () => {
    const byIndex = ask({ action: 'DeleteSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Egress: [{ PolicyIndex: 1 }] } } });
    // Removing "DROP tcp 25" lets tcp 25 out of a1 and a3 (sg-base0000 accepts it), but no destination accepts tcp 25.
    assert.deepEqual(byIndex.probes, [{ protocol: 'tcp', port: 22 }, { protocol: 'tcp', port: 25 }, { protocol: 'udp', port: 53 }]);
    assert.ok(byIndex.flowsChecked > 0);
    assert.deepEqual(flows(byIndex), []);
    assert.equal(byIndex.after.egress.length, 1);
    const byContent = ask({
      action: 'DeleteSecurityGroupPolicies',
      request: { SecurityGroupPolicySet: { Ingress: [{ Protocol: 'tcp', Port: '8000-8010', CidrBlock: '10.0.0.0/16', Action: 'accept' }] } },
    });
    assert.ok(flows(byContent).includes('ins-a3>ins-a1 tcp/8000 delivered>dropped'));
    const reset = ask({ action: 'ModifySecurityGroupPolicies', request: { SecurityGroupPolicySet: { Version: '0' } } });
    assert.deepEqual(reset.directions, ['ingress', 'egress']);
    assert.ok(flows(reset).includes('ins-a3>ins-a1 tcp/80 delivered>dropped'));
    assert.ok(flows(reset).every((f) => f.endsWith('delivered>dropped')));
  });

  it('refuses what the action would refuse, with its error code', () => {
    const code = (q: Parameters<typeof ask>[0]) => {
      try {
        ask(q);
      } catch (e) {
        if (e instanceof PolicyError) return e.code;
        throw e;
      }
      return 'accepted';
    };
    assert.equal(code({ action: 'CreateSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '22', SecurityGroupId: 'sg-db000000', Action: 'DROP' }] } } }), 'UnsupportedOperation.DuplicatePolicy');
    assert.equal(code({ action: 'DeleteSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: 9 }] } } }), 'ResourceNotFound');
    assert.equal(code({ action: 'ReplaceSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Action: 'DROP', CidrBlock: '0.0.0.0/0' }] } } }), 'MissingParameter');
    assert.equal(code({ action: 'CreateSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Version: '3', Ingress: [{ Protocol: 'TCP', Action: 'DROP', CidrBlock: '0.0.0.0/0' }] } }, version: 4 }), 'UnsupportedOperation.VersionMismatch');
    assert.equal(code({ action: 'CreateSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Action: 'DROP', CidrBlock: '0.0.0.0/0' }] } }, limit: 5 }), 'LimitExceeded.SecurityGroupPolicySet');
    assert.equal(code({ action: 'CreateSecurityGroupPolicies', request: { SecurityGroupPolicySet: { Ingress: [{ Protocol: 'GRE', Action: 'DROP', CidrBlock: '0.0.0.0/0' }] } } }), 'UnsupportedOperation');
  });

  it('says so when the group is bound to no placed instance', () => {
    const r = whatIf(docs, {
      action: 'CreateSecurityGroupPolicies',
      request: { SecurityGroupId: 'sg-nobody00', SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] } },
    });
    assert.equal(r.changes.length, 0);
    assert.equal(r.flowsChecked, 0);
    assert.match(r.note!, /bound to no instance/);
  });

  it('reads a rule back as the policy it was compiled from', () => {
    const rows = [
      { protocol: 'TCP', port: '80,443' },
      { protocol: 'UDP', port: '8000-8010' },
      { protocol: 'TCP', port: '22' },
      { protocol: 'ALL', port: 'ALL' },
      { protocol: 'ICMP', port: 'ALL' },
    ];
    for (const row of rows) {
      const doc = compileHost({
        host: { id: 'h1', underlay: '100.64.0.11' },
        revision: 1,
        underlays: {},
        vpcs: [{ id: 'vpc-x', vni: 1 }],
        instances: [{ id: 'ins-x', vpc_id: 'vpc-x', subnet_id: 's', private_ip: '10.0.0.4', mac: '52:54:00:00:00:04', host_id: 'h1' }],
        subnets: [{ id: 's', cidr: '10.0.0.0/24' }],
        bindings: [{ instance_id: 'ins-x', sg_id: 'sg-x', position: 0 }],
        policies: [{ sg_id: 'sg-x', direction: 'ingress', position: 0, ...row, cidr: '10.0.0.0/8', ipv6_cidr: '', ref_sg_id: '', action: 'DROP' }],
      });
      const p = policyOf(doc.vpcs[0]!.securityGroups['sg-x']!.ingress[0]!);
      assert.deepEqual([p.protocol, p.port, p.cidr, p.action], [row.protocol, row.port, '10.0.0.0/8', 'DROP']);
    }
  });
});
