import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitLimit } from '../../src/core/limit-split.js';
import { createLimitCoordinator } from '../../src/controller/limit-coordinator.js';

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('splitting an EIP limit over the gateway nodes', () => {
  it('splits evenly before anything was measured, and in proportion after, always adding up to the limit', () => {
    assert.deepEqual([...splitLimit(100, [{ node: 'a', bytes: 0, saturated: false }, { node: 'b', bytes: 0, saturated: false }])], [['a', 50], ['b', 50]]);
    const s = splitLimit(100, [{ node: 'a', bytes: 300, saturated: false }, { node: 'b', bytes: 100, saturated: false }]);
    assert.ok(Math.abs(sum(s) - 100) < 1e-9);
    assert.ok(s.get('a')! > 74 && s.get('a')! < 75, `${s.get('a')}`);
    assert.ok(s.get('b')! > 25, 'the floor: 2 % of an even split on top');
  });

  it('gives a node that held packets back more than its measured share, and an idle node its floor', () => {
    const s = splitLimit(100, [{ node: 'a', bytes: 100, saturated: true }, { node: 'b', bytes: 100, saturated: false }, { node: 'c', bytes: 0, saturated: false }]);
    assert.ok(s.get('a')! > s.get('b')!);
    assert.ok(Math.abs(s.get('c')! - (0.02 * 100) / 3) < 1e-9);
    assert.ok(Math.abs(sum(s) - 100) < 1e-9);
  });

  it('coordinates: answers each node its share among the nodes that reported the EIP recently', () => {
    let t = 0;
    const c = createLimitCoordinator(() => t);
    const eip = (bytes: number) => ({ eips: [{ publicIp: '198.51.100.2', limitBps: 20e6, bytes, saturated: true }] });
    assert.equal(c.report('gw1', eip(3000)).shares['198.51.100.2'], 20e6, 'alone: all of it');
    const gw2 = c.report('gw2', eip(1000)).shares['198.51.100.2']!;
    assert.ok(gw2 > 5e6 && gw2 < 5.2e6, `${gw2}`);
    t = 20_000; // gw2 stops reporting (failed): gw1 gets all of it again
    assert.equal(c.report('gw1', eip(3000)).shares['198.51.100.2'], 20e6);
    assert.throws(() => c.report('gw1', { eips: [{ publicIp: 'x', limitBps: -1, bytes: 0, saturated: false }] }), /malformed/);
  });
});
