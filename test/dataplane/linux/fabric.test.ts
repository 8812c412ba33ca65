import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuMask, hostCpu } from '../../../src/dataplane/linux/fabric.js';

test('RPS masks as sysfs writes them: hex, 32 CPUs per comma-separated group', () => {
  assert.equal(cpuMask(0), '1');
  assert.equal(cpuMask(1), '2');
  assert.equal(cpuMask(5), '20');
  assert.equal(cpuMask(31), '80000000');
  assert.equal(cpuMask(32), '1,00000000');
  assert.equal(cpuMask(70), '40,00000000,00000000');
});

test('hosts take the CPUs round-robin', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => hostCpu(i, 2)), [0, 1, 0, 1, 0]);
  assert.deepEqual([0, 1, 2].map((i) => hostCpu(i, 8)), [0, 1, 2]);
  assert.equal(hostCpu(3, 0), 0);
});
