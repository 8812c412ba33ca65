import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFlowReport, MAX_SKEW_MS } from '../../src/core/flow-samples.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const good = {
  natGatewayId: 'nat-abcd1234',
  privateIp: '10.0.1.2',
  at: '2026-12-02T11:59:30.500Z',
  inBytes: 10,
  outBytes: 20,
  inPackets: 1,
  outPackets: 2,
  connections: 0,
  newConnections: 5,
};

test('checkFlowReport takes a good report, with its time in epoch ms', () => {
  const r = checkFlowReport({ flows: [good, { ...good, at: '2026-12-02T19:59:30+08:00' }] }, NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.samples.map((s) => s.at), [NOW - 29_500, NOW - 30_000]);
  assert.deepEqual(checkFlowReport({ flows: [] }, NOW), { ok: true, samples: [] });
});

test('checkFlowReport refuses nonsense, saying which sample and field, and never throws', () => {
  const cases: [string, unknown, RegExp][] = [
    ['no body', null, /body/],
    ['not a list', { flows: 'x' }, /body/],
    ['a string sample', { flows: ['x'] }, /flows\.0: not an object/],
    ['bad gateway ID', { flows: [{ ...good, natGatewayId: 'vpn-abcd1234' }] }, /natGatewayId/],
    ['bad address', { flows: [{ ...good, privateIp: '10.0.1.300' }] }, /privateIp/],
    ['address not in its one spelling', { flows: [{ ...good, privateIp: '10.0.1.02' }] }, /privateIp/],
    ['no zone', { flows: [{ ...good, at: '2026-12-02 11:59:30' }] }, /at is not/],
    ['far ahead', { flows: [{ ...good, at: new Date(NOW + MAX_SKEW_MS + 1000).toISOString() }] }, /ahead/],
    ['negative', { flows: [good, { ...good, inBytes: -1 }] }, /flows\.1: inBytes/],
    ['fraction', { flows: [{ ...good, outPackets: 1.5 }] }, /outPackets/],
    ['string number', { flows: [{ ...good, connections: '3' }] }, /connections/],
    ['missing counter', { flows: [{ ...good, newConnections: undefined }] }, /newConnections/],
    ['too large', { flows: [{ ...good, outBytes: 2 ** 60 }] }, /outBytes/],
  ];
  for (const [name, body, why] of cases) {
    const r = checkFlowReport(body, NOW);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.errors.join('; '), why, name);
  }
});
