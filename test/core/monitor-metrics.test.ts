import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataPoints, metricOf, METRICS } from '../../src/core/monitor-metrics.js';

const T = 1_800_000_000 - (1_800_000_000 % 60); // minute-aligned Unix seconds

test('the QCE/CVM network metrics, the QCE/NAT_GATEWAY and the QCE/LB (EIP) ones, in Tencent units', () => {
  assert.deepEqual(
    METRICS.map((m) => [m.namespace, m.name, m.unit, m.dimension, m.periods.join()]),
    [
      ['QCE/CVM', 'LanOuttraffic', 'Mbps', 'InstanceId', '10,60'],
      ['QCE/CVM', 'LanIntraffic', 'Mbps', 'InstanceId', '10,60'],
      ['QCE/CVM', 'LanOutpkg', 'Packets/s', 'InstanceId', '10,60'],
      ['QCE/CVM', 'LanInpkg', 'Packets/s', 'InstanceId', '10,60'],
      ['QCE/NAT_GATEWAY', 'OutBandwidth', 'Mbps', 'natId', '60'],
      ['QCE/NAT_GATEWAY', 'InBandwidth', 'Mbps', 'natId', '60'],
      ['QCE/NAT_GATEWAY', 'OutPkg', 'Count', 'natId', '60'],
      ['QCE/NAT_GATEWAY', 'InPkg', 'Count', 'natId', '60'],
      ['QCE/NAT_GATEWAY', 'Conns', 'Count', 'natId', '60'],
      ['QCE/LB', 'VipIntraffic', 'Mbps', 'eip', '10,60'],
      ['QCE/LB', 'VipOuttraffic', 'Mbps', 'eip', '10,60'],
      ['QCE/LB', 'VipInpkg', 'Packets/s', 'eip', '10,60'],
      ['QCE/LB', 'VipOutpkg', 'Packets/s', 'eip', '10,60'],
    ],
  );
  assert.equal(metricOf('QCE/CVM', 'LanOutpkg')?.field, 'out_packets');
  assert.equal(metricOf('QCE/CVM', 'CpuUsage'), undefined);
});

test('dataPoints, 10 s: one point per bucket, bytes as Mbps, packets per second; no bucket, no point', () => {
  const buckets = [
    { at: T, value: 1_250_000 },
    { at: T + 10, value: 0 },
    { at: T + 30, value: 2_500_000 },
  ];
  const p = dataPoints(buckets, { kind: 'traffic', bucketSeconds: 10 }, 10, T, T + 59);
  assert.deepEqual(p.Timestamps, [T, T + 10, T + 30]);
  assert.deepEqual(p.Values, [1, 0, 2]);
  assert.deepEqual(dataPoints([{ at: T, value: 500 }], { kind: 'packets', bucketSeconds: 10 }, 10, T, T + 9).Values, [50]);
});

test('dataPoints, 60 s: aligned to the minute, average over the buckets present, max and min of the 10 s rates', () => {
  const buckets = [0, 10, 20, 30, 40, 50].map((o, i) => ({ at: T + o, value: (i + 1) * 100 })).concat([{ at: T + 60, value: 600 }]);
  const p = dataPoints(buckets, { kind: 'packets', bucketSeconds: 10 }, 60, T + 15, T + 70);
  assert.deepEqual(p.Timestamps, [T, T + 60], 'the period holding StartTime is whole');
  assert.deepEqual(p.Values, [35, 60]); // 2100 packets / 60 s; 600 / 10 s
  assert.deepEqual(p.MaxValues, [60, 60]);
  assert.deepEqual(p.MinValues, [10, 60]);
  assert.deepEqual(dataPoints(buckets, { kind: 'packets', bucketSeconds: 10 }, 60, T + 120, T + 200).Timestamps, [], 'nothing in range');
});

test('dataPoints over minute buckets: rates per second of the minute; a gauge as it is', () => {
  const minutes = [
    { at: T, value: 7_500_000 },
    { at: T + 60, value: 0 },
  ];
  assert.deepEqual(dataPoints(minutes, { kind: 'traffic', bucketSeconds: 60 }, 60, T, T + 119).Values, [1, 0]);
  assert.deepEqual(dataPoints([{ at: T, value: 42 }], { kind: 'gauge', bucketSeconds: 60 }, 60, T, T + 59).Values, [42]);
});
