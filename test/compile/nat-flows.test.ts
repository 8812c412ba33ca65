import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natFlowRules } from '../../src/compile/nat-flows.js';

test('natFlowRules: nothing for a gateway without monitor or caps, so its document stays as it was', () => {
  assert.deepEqual(natFlowRules(undefined), {});
  assert.deepEqual(natFlowRules({ monitor: false, qos: [] }), {});
});

test('natFlowRules: the monitor when on, caps sorted by address as numbers (10.0.0.9 before 10.0.0.10)', () => {
  assert.deepEqual(
    natFlowRules({
      monitor: true,
      qos: [
        { private_ip: '10.0.0.10', bandwidth: 5 },
        { private_ip: '10.0.0.9', bandwidth: 0 },
        { private_ip: '10.0.1.1', bandwidth: 20 },
      ],
    }),
    {
      flowMonitor: true,
      qos: [
        { privateIp: '10.0.0.9', bandwidthMbps: 0 },
        { privateIp: '10.0.0.10', bandwidthMbps: 5 },
        { privateIp: '10.0.1.1', bandwidthMbps: 20 },
      ],
    },
  );
  assert.deepEqual(natFlowRules({ monitor: false, qos: [{ private_ip: '10.0.0.2', bandwidth: 1 }] }), { qos: [{ privateIp: '10.0.0.2', bandwidthMbps: 1 }] });
});
