import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceError } from '../../src/trace/model.js';
import { reachability } from '../../src/trace/reach.js';
import { renderMatrix } from '../../src/trace/render.js';
import { trace } from '../../src/trace/trace.js';
import { buildWorld } from '../../src/trace/world.js';
import { baseScenario, documents } from './scenario.js';

const docs = documents(baseScenario());

describe('reachability matrix', () => {
  it('has a row and a column per placed instance of the VPC, and the trace code in each cell', () => {
    const m = reachability(docs, { vpcId: 'vpc-aaaaaaaa', protocol: 'tcp', port: 80 });
    assert.deepEqual(m.instances.map((i) => i.instanceId), ['ins-a1', 'ins-a2', 'ins-a3', 'ins-a4', 'ins-a6'], 'a5 is not placed; b1, b2 are another VPC');
    assert.deepEqual(m.instances[2], { instanceId: 'ins-a3', ip: '10.0.2.7', hostId: 'h2', subnetId: 'subnet-a2' });
    assert.deepEqual(m.cells, [
      ['loopback', 'ingress-default', 'delivered', 'ingress-default', 'delivered'],
      ['delivered', 'loopback', 'delivered', 'egress-default', 'egress-default'],
      ['delivered', 'ingress-default', 'loopback', 'ingress-default', 'delivered'],
      ['egress-default', 'egress-default', 'egress-default', 'loopback', 'egress-default'],
      ['egress-default', 'egress-default', 'egress-default', 'egress-default', 'loopback'],
    ]);
    assert.equal(m.pairs, 20);
    assert.equal(m.reachable, 6);
  });

  it('agrees with single traces cell by cell, for every protocol', () => {
    const world = buildWorld(docs);
    for (const q of [
      { protocol: 'tcp' as const, port: 22 },
      { protocol: 'udp' as const, port: 53 },
      { protocol: 'icmp' as const },
    ]) {
      const m = reachability(world, { vpcId: 'vpc-aaaaaaaa', ...q });
      m.instances.forEach((a, i) =>
        m.instances.forEach((b, j) => assert.equal(m.cells[i]![j], trace(world, { from: a.instanceId, to: b.instanceId, ...q }).code, `${a.instanceId} → ${b.instanceId} ${q.protocol}`)),
      );
    }
  });

  it('takes a chosen subset in the given order, and refuses instances outside the VPC', () => {
    const m = reachability(docs, { vpcId: 'vpc-aaaaaaaa', protocol: 'tcp', port: 22, instanceIds: ['ins-a3', 'ins-a2'] });
    assert.deepEqual(m.cells, [
      ['loopback', 'delivered'],
      ['ingress-policy', 'loopback'],
    ]);
    assert.throws(() => reachability(docs, { vpcId: 'vpc-aaaaaaaa', protocol: 'tcp', port: 22, instanceIds: ['ins-b1'] }), TraceError);
    const b = reachability(docs, { vpcId: 'vpc-bbbbbbbb', protocol: 'icmp' });
    assert.deepEqual([b.pairs, b.reachable], [2, 2]);
    assert.deepEqual(reachability(docs, { vpcId: 'vpc-00000000', protocol: 'icmp' }).instances, []);
  });

  it('prints a grid with a legend of the codes it uses', () => {
    const text = renderMatrix(reachability(docs, { vpcId: 'vpc-aaaaaaaa', protocol: 'tcp', port: 80 }));
    const lines = text.trim().split('\n');
    assert.equal(lines[0], 'tcp/80 in vpc-aaaaaaaa: 6 of 20 ordered pairs reachable (row = from, column = to)');
    assert.match(lines[2]!, /^ {2}1 ins-a1 10\.0\.1\.5 +h1 +- i ✓ i ✓$/);
    assert.equal(lines.length, 2 + 5 + 1);
    assert.match(lines.at(-1)!, /^legend: ✓ delivered · e egress: .* · i ingress: .* · - self$/);
    assert.doesNotMatch(lines.at(-1)!, /E dropped/, 'codes that do not occur are left out');
  });
});
