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

  it('coordinates: grants never add up to more than the limit; a node takes up share only once another gave it up', () => {
    let t = 0;
    const c = createLimitCoordinator(() => t);
    const eip = (bytes: number, limitBps = 20e6) => ({ nodes: 2, eips: [{ publicIp: '198.51.100.2', limitBps, bytes, saturated: true }] });
    const granted: Record<string, number> = {};
    const ask = (node: string, bytes: number, limitBps?: number) => (granted[node] = c.report(node, eip(bytes, limitBps)).shares['198.51.100.2']!);
    assert.equal(ask('gw1', 0), 10e6, 'gw2 has not reported: it keeps its even share');
    assert.equal(ask('gw2', 9000), 10e6, 'gw1 still holds its 10: gw2 cannot take more yet');
    ask('gw1', 1000); // gw1 carried little: it gives share up
    assert.ok(granted.gw1! < 3e6, `${granted.gw1}`);
    ask('gw2', 9000); // now gw2 takes it up
    assert.ok(granted.gw2! > 17e6, `${granted.gw2}`);
    assert.ok(granted.gw1! + granted.gw2! <= 20e6 + 1);
    ask('gw1', 1000, 10e6); // a new limit starts over from the even split
    assert.equal(granted.gw1, 5e6);
    t = 20_000; // gw2 stopped reporting: it keeps its grant, gw1 cannot take it
    assert.ok(ask('gw1', 5000, 10e6) <= 5e6);
    assert.throws(() => c.report('gw1', { nodes: 2, eips: [{ publicIp: 'x', limitBps: -1, bytes: 0, saturated: false }] }), /malformed/);
  });
});
