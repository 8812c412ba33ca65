import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuMask, hostCpu } from '../../../src/dataplane/linux/fabric.js';
import { checkTools, missingTools } from '../../../src/dataplane/linux/preflight.js';

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

test('a machine without nftables is told which packages to install', () => {
  assert.deepEqual(missingTools(''), ['ip', 'bridge', 'nft', 'sysctl', 'nsenter']);
  assert.throws(() => checkTools(''), /apt-get install -y iproute2 nftables procps util-linux/);
  if (missingTools().length) console.log(`# not on this machine's PATH: ${missingTools().join(', ')}`);
  else assert.doesNotThrow(() => checkTools());
});
