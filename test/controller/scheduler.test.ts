import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choose } from '../../src/controller/scheduler.js';

describe('scheduler', () => {
  it('spreads instances over the hosts of their zone, least loaded first', () => {
    const hosts = [
      { id: 'h1', zone: 'z1', instances: 2 },
      { id: 'h2', zone: 'z1', instances: 0 },
      { id: 'h3', zone: 'z2', instances: 0 },
    ];
    assert.deepEqual(choose(hosts, ['z1', 'z1', 'z1', 'z2', 'z3']), ['h2', 'h2', 'h1', 'h3', undefined]);
  });
});
