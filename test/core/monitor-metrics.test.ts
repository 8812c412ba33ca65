import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataPoints, metricOf, METRICS } from '../../src/core/monitor-metrics.js';

const T = 1_800_000_000 - (1_800_000_000 % 60); // minute-aligned Unix seconds

test('the QCE/CVM network metrics, in Tencent units', () => {
  assert.deepEqual(
    METRICS.map((m) => [m.namespace, m.name, m.unit, m.dimension]),
    [
      ['QCE/CVM', 'LanOuttraffic', 'Mbps', 'InstanceId'],
      ['QCE/CVM', 'LanIntraffic', 'Mbps', 'InstanceId'],
      ['QCE/CVM', 'LanOutpkg', 'Packets/s', 'InstanceId'],
      ['QCE/CVM', 'LanInpkg', 'Packets/s', 'InstanceId'],
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
  const p = dataPoints(buckets, { kind: 'traffic' }, 10, T, T + 59);
  assert.deepEqual(p.Timestamps, [T, T + 10, T + 30]);
  assert.deepEqual(p.Values, [1, 0, 2]);
  assert.deepEqual(dataPoints([{ at: T, value: 500 }], { kind: 'packets' }, 10, T, T + 9).Values, [50]);
});

test('dataPoints, 60 s: aligned to the minute, average over the buckets present, max and min of the 10 s rates', () => {
  const buckets = [0, 10, 20, 30, 40, 50].map((o, i) => ({ at: T + o, value: (i + 1) * 100 })).concat([{ at: T + 60, value: 600 }]);
  const p = dataPoints(buckets, { kind: 'packets' }, 60, T + 15, T + 70);
  assert.deepEqual(p.Timestamps, [T, T + 60], 'the period holding StartTime is whole');
  assert.deepEqual(p.Values, [35, 60]); // 2100 packets / 60 s; 600 / 10 s
  assert.deepEqual(p.MaxValues, [60, 60]);
  assert.deepEqual(p.MinValues, [10, 60]);
  assert.deepEqual(dataPoints(buckets, { kind: 'packets' }, 60, T + 120, T + 200).Timestamps, [], 'nothing in range');
});
