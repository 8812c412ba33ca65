import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { flowMinutes, MAX_GAP_MS, MINUTE_MS, spreadOverMinutes, type Counters, type Sample } from '../../src/core/flow-minutes.js';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const sample = (at: number, n: Partial<Sample> = {}): Sample => ({ at, inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, newConnections: 0, connections: 0, ...n });
const sum = (ms: { inBytes: number }[]) => ms.reduce((a, m) => a + m.inBytes, 0);

test('spreadOverMinutes: whole amounts, in time order, one per minute touched, summing to the total', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: 10 * MINUTE_MS }), fc.integer({ min: 1, max: 30 * MINUTE_MS }), (total, off, len) => {
      const from = T0 + off;
      const out = spreadOverMinutes(total, from, from + len);
      assert.equal(out.reduce((a, [, n]) => a + n, 0), total);
      assert.ok(out.every(([, n]) => Number.isInteger(n) && n >= 0));
      assert.equal(out[0]![0], Math.floor(from / MINUTE_MS) * MINUTE_MS);
      for (let i = 1; i < out.length; i++) assert.equal(out[i]![0] - out[i - 1]![0], MINUTE_MS);
      assert.ok(out.at(-1)![0] < from + len && out.at(-1)![0] + MINUTE_MS >= from + len);
    }),
  );
});

test('spreadOverMinutes: in proportion to the time in each minute', () => {
  // 12:00:30 → 12:02:00: half a minute, then a whole one.
  assert.deepEqual(spreadOverMinutes(300, T0 + 30_000, T0 + 120_000), [
    [T0, 100],
    [T0 + MINUTE_MS, 200],
  ]);
});

test('flowMinutes: the first sample sets the base only; the next adds the difference to its minute', () => {
  const a = flowMinutes(undefined, [sample(T0 + 10_000, { inBytes: 1000, connections: 3 })]);
  assert.deepEqual(a.minutes, [{ minute: T0, inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, newConnections: 0, connections: 3 }]);
  const b = flowMinutes(a.last, [sample(T0 + 40_000, { inBytes: 1600, outBytes: 50, inPackets: 4, outPackets: 2, newConnections: 7, connections: 5 })]);
  assert.deepEqual(b.minutes, [{ minute: T0, inBytes: 600, outBytes: 50, inPackets: 4, outPackets: 2, newConnections: 7, connections: 5 }]);
  assert.equal(b.last!.at, T0 + 40_000);
});

test('flowMinutes: a counter that went down was restarted: its new value is all new', () => {
  const out = flowMinutes({ at: T0, inBytes: 5000, outBytes: 10, inPackets: 9, outPackets: 1, newConnections: 3 }, [sample(T0 + 20_000, { inBytes: 700, outBytes: 30 })]);
  assert.equal(out.minutes[0]!.inBytes, 700);
  assert.equal(out.minutes[0]!.outBytes, 20);
});

test('flowMinutes: repeats and older samples change nothing; a long gap only moves the base', () => {
  const base: Counters = { at: T0 + 30_000, inBytes: 100, outBytes: 0, inPackets: 0, outPackets: 0, newConnections: 0 };
  const same = flowMinutes(base, [sample(T0 + 30_000, { inBytes: 999 }), sample(T0, { inBytes: 999 })]);
  assert.deepEqual(same, { minutes: [], last: base });
  const gap = flowMinutes(base, [sample(T0 + 30_000 + MAX_GAP_MS + 1, { inBytes: 10_000 })]);
  assert.equal(sum(gap.minutes), 0);
  assert.equal(gap.last!.inBytes, 10_000);
});

test('flowMinutes: samples in any order count every byte once, and connections keep the most seen in a minute', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 9 * MINUTE_MS }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 20, maxLength: 20 }),
      (offsets, steps) => {
        const sorted = [...offsets].sort((a, b) => a - b);
        let bytes = 0;
        const samples = sorted.map((o, i) => sample(T0 + o, { inBytes: (bytes += steps[i]!), connections: steps[i]! }));
        const shuffled = [...samples].reverse();
        const out = flowMinutes({ at: T0, inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, newConnections: 0 }, shuffled);
        assert.equal(sum(out.minutes), bytes);
        for (const m of out.minutes) {
          const inMinute = samples.filter((s) => s.at >= m.minute && s.at < m.minute + MINUTE_MS).map((s) => s.connections);
          assert.equal(m.connections, inMinute.length ? Math.max(...inMinute) : 0);
        }
        // The same samples in two reports give the same minutes as in one.
        const cut = Math.floor(samples.length / 2);
        const first = flowMinutes({ at: T0, inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, newConnections: 0 }, samples.slice(0, cut));
        const second = flowMinutes(first.last, samples.slice(cut));
        assert.equal(sum(first.minutes) + sum(second.minutes), bytes);
      },
    ),
  );
});
