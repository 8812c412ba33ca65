import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FLOW_HASH_SEED, MAGLEV_SIZE, flowHashExpr, flowSlot, maglevTable, murmur3, type MaglevBackend } from '../../src/core/maglev.js';

const backend = (i: number, weight = 1): MaglevBackend => ({ key: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`, weight });
const equal = (n: number) => Array.from({ length: n }, (_, i) => backend(i));

/** Slots per backend index. */
function counts(table: Int32Array, n: number): number[] {
  const c = new Array<number>(n).fill(0);
  for (const b of table) c[b]!++;
  return c;
}

/** The fraction of slots whose backend (by key) differs between two tables. */
function movedFraction(a: Int32Array, before: readonly MaglevBackend[], b: Int32Array, after: readonly MaglevBackend[]): number {
  let moved = 0;
  for (let s = 0; s < a.length; s++) if (before[a[s]!]!.key !== after[b[s]!]!.key) moved++;
  return moved / a.length;
}

const shuffle = <T>(xs: readonly T[], seed: number): T[] => {
  const out = [...xs];
  let r = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    r ^= r << 13;
    r ^= r >>> 17;
    r ^= r << 5;
    const j = (r >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

/**
 * Maglev by its definition, slowly: backends sorted by key; in turn t = 1, 2, …
 * each in order claims while it has claimed fewer than ⌊t · w / maxW⌋ slots,
 * walking its permutation offset + i · skip to the first free slot.
 */
function reference(backends: readonly MaglevBackend[], size: number): number[] {
  const table = new Array<number>(size).fill(-1);
  const live = backends.map((b, i) => ({ ...b, i })).filter((b) => b.weight > 0).sort((x, y) => (x.key < y.key ? -1 : 1));
  if (!live.length) return table;
  const maxW = Math.max(...live.map((b) => b.weight));
  const enc = new TextEncoder();
  const perm = live.map((b) => ({ offset: murmur3(enc.encode(b.key), 0x9e3779b9) % size, skip: (murmur3(enc.encode(b.key), 0x85ebca6b) % (size - 1)) + 1, i: 0, claims: 0 }));
  let filled = 0;
  for (let t = 1; ; t++)
    for (const [j, b] of live.entries()) {
      const p = perm[j]!;
      if (p.claims >= Math.floor((t * b.weight) / maxW)) continue;
      let s = (p.offset + p.i * p.skip) % size;
      while (table[s] !== -1) s = (p.offset + ++p.i * p.skip) % size;
      table[s] = b.i;
      p.claims++;
      if (++filled === size) return table;
    }
}

describe('Maglev table', () => {
  it('balances equal weights: every backend owns ⌊M/N⌋ or ⌈M/N⌉ slots, N = 1 … 1000, M = 65537', () => {
    let worst = 0;
    for (let n = 1; n <= 1000; n++) {
      const c = counts(maglevTable(equal(n)), n);
      const max = Math.max(...c);
      const min = Math.min(...c);
      assert.ok(max - min <= 1, `N=${n}: ${min}…${max}`);
      worst = Math.max(worst, max / (MAGLEV_SIZE / n));
    }
    assert.ok(worst <= 1.05, `max/mean ${worst}`);
  });

  it('is Maglev by its definition, for equal, mixed, skewed and very skewed weights (each of the build’s paths)', () => {
    const weights = fc.oneof(
      fc.constant(() => 7),
      fc.constant((i: number) => i % 101),
      fc.constant((i: number) => (i === 0 ? 100 : 1 + (i % 2))), // from N ≈ 40: buckets of turns
      fc.constant((i: number) => (i === 0 ? 100 : i % 2 ? 1 : 1 / 1024)), // from N ≈ 20: weights 102,400 to 1, the heap
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), weights, fc.constantFrom(7, 251, 1009), (n, w, size) => {
        const bs = Array.from({ length: n }, (_, i) => backend(i * 7919, w(i)));
        assert.deepEqual([...maglevTable(bs, size)], reference(bs, size));
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order of the backends', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ i: fc.integer({ min: 0, max: 1 << 20 }), w: fc.integer({ min: 0, max: 100 }) }), { selector: (b) => b.i, minLength: 1, maxLength: 60 }),
        fc.integer(),
        (spec, seed) => {
          const bs = spec.map(({ i, w }) => backend(i, w));
          const shuffled = shuffle(bs, seed);
          const a = maglevTable(bs, 251);
          const b = maglevTable(shuffled, 251);
          for (let s = 0; s < a.length; s++) assert.equal(a[s] === -1 ? null : bs[a[s]!]!.key, b[s] === -1 ? null : shuffled[b[s]!]!.key);
        },
      ),
      { numRuns: 200 },
    );
    const bs = equal(1000);
    const rev = [...bs].reverse();
    const a = maglevTable(bs);
    const b = maglevTable(rev);
    for (let s = 0; s < a.length; s++) assert.equal(a[s], 999 - b[s]!);
  });

  it('honours weights: each backend owns weight/Σweights of the slots (within 2 + (N+1)·share slots: the credits left over when the table fills go to whoever claims), weight 0 owns none', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 50 }), (ws) => {
        const bs = ws.map((w, i) => backend(i, w));
        const t = maglevTable(bs, 4099);
        const total = ws.reduce((a, b) => a + b, 0);
        if (total === 0) return assert.ok(t.every((s) => s === -1));
        const c = counts(t, bs.length);
        for (const [i, w] of ws.entries()) {
          if (w === 0) assert.equal(c[i], 0);
          else assert.ok(Math.abs(c[i]! - (4099 * w) / total) <= 2 + ((ws.length + 1) * w) / total, `weight ${w}/${total}: ${c[i]} slots of 4099`);
        }
      }),
      { numRuns: 200 },
    );
    const bs = Array.from({ length: 100 }, (_, i) => backend(i, (i % 10) * 10 + 1));
    const c = counts(maglevTable(bs), 100);
    const total = bs.reduce((a, b) => a + b.weight, 0);
    for (const [i, b] of bs.entries()) {
      const share = c[i]! / MAGLEV_SIZE / (b.weight / total);
      assert.ok(share > 0.97 && share < 1.03, `${b.weight}: ${share}`);
    }
  });

  it('honours skewed weights too (a few heavy backends among many light ones: the claims ordered by a heap)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 300 }), fc.integer({ min: 1, max: 3 }), fc.integer(), (n, heavy, seed) => {
        const ws = Array.from({ length: n }, (_, i) => (i < heavy ? 100 : 1 + (i % 2)));
        const bs = shuffle(ws.map((w, i) => backend(i, w)), seed);
        const t = maglevTable(bs, 4099);
        const total = ws.reduce((a, b) => a + b, 0);
        const c = counts(t, n);
        for (const [i, b] of bs.entries()) assert.ok(Math.abs(c[i]! - (4099 * b.weight) / total) <= 2 + ((n + 1) * b.weight) / total, `${b.weight}/${total}: ${c[i]}`);
        const sorted = [...bs].sort((x, y) => (x.key < y.key ? -1 : 1));
        const u = maglevTable(sorted, 4099);
        for (let s = 0; s < t.length; s++) assert.equal(bs[t[s]!]!.key, sorted[u[s]!]!.key);
      }),
      { numRuns: 100 },
    );
    // the same claims in the same order as walking turn by turn: a backend's m-th claim in turn ⌈m · maxW / w⌉, ties by key
    const bs = [backend(1, 100), backend(2, 1), backend(3, 3), ...Array.from({ length: 40 }, (_, i) => backend(10 + i, 1))];
    const t = maglevTable(bs, 4099);
    const c = counts(t, bs.length);
    assert.ok(c[0]! > 4099 * 0.65 && c[0]! < 4099 * 0.7, `${c[0]}`);
    assert.ok(Math.abs(c[2]! - 3 * c[1]!) <= 3, `${c[2]} vs 3 × ${c[1]}`);
  });

  it('moves few slots when one backend goes or comes (about 1/N, plus Maglev’s extra ≤ ~1.5 % of the table)', (t) => {
    const report: string[] = [];
    for (const n of [2, 3, 5, 10, 30, 100, 300, 1000]) {
      const bs = equal(n);
      const a = maglevTable(bs);
      let worstRemove = 0;
      let worstAdd = 0;
      for (const r of [0, n >> 1, n - 1]) {
        const rest = bs.filter((_, i) => i !== r);
        const b = maglevTable(rest);
        // every slot of the removed backend goes to a survivor; the survivors keep almost all of theirs
        let lost = 0;
        for (let s = 0; s < a.length; s++) {
          if (a[s] === r) assert.notEqual(rest[b[s]!]!.key, bs[r]!.key);
          else if (bs[a[s]!]!.key !== rest[b[s]!]!.key) lost++;
        }
        const moved = movedFraction(a, bs, b, rest);
        assert.ok(moved <= 1.5 / n + 0.015, `N=${n}, removing one: ${moved}`);
        assert.ok(moved >= 1 / (n + 1), 'at least the removed backend’s slots');
        assert.ok(lost / a.length <= 0.015, `N=${n}: survivors lost ${lost} slots`);
        worstRemove = Math.max(worstRemove, moved);
        const more = [...bs, backend(1 << 19 | r, 1)];
        const c = maglevTable(more);
        const movedAdd = movedFraction(a, bs, c, more);
        assert.ok(movedAdd <= 1.5 / (n + 1) + 0.015, `N=${n}, adding one: ${movedAdd}`);
        worstAdd = Math.max(worstAdd, movedAdd);
      }
      report.push(`N=${n}: remove ${(worstRemove * 100).toFixed(2)} % (1/N ${(100 / n).toFixed(2)} %), add ${(worstAdd * 100).toFixed(2)} %`);
    }
    t.diagnostic(`slots moved: ${report.join('; ')}`);
  });

  it('a weight change moves about the share that changed', () => {
    const bs = equal(100);
    const a = maglevTable(bs);
    const heavier = bs.map((b, i) => (i === 7 ? { ...b, weight: 2 } : b));
    const moved = movedFraction(a, bs, maglevTable(heavier), heavier);
    assert.ok(moved < 0.03, `${moved}`); // the share of backend 7 goes from 1/100 to 2/101
  });

  it('answers -1 everywhere with no backend or only zero weights, and rejects what it cannot honour', () => {
    assert.ok(maglevTable([]).every((s) => s === -1));
    assert.equal(maglevTable([]).length, MAGLEV_SIZE);
    assert.ok(maglevTable([backend(1, 0), backend(2, 0)], 7).every((s) => s === -1));
    assert.deepEqual([...maglevTable([backend(1, 0), backend(2, 3)], 7)], [1, 1, 1, 1, 1, 1, 1]);
    assert.throws(() => maglevTable(equal(3), 65536), /not prime/);
    assert.throws(() => maglevTable(equal(3), 1), /not prime/);
    assert.throws(() => maglevTable([backend(1), backend(1)]), /duplicate/);
    assert.throws(() => maglevTable([{ key: 'a', weight: -1 }]), /weight/);
    assert.throws(() => maglevTable([{ key: 'a', weight: NaN }]), /weight/);
  });

  it('builds 65537 slots for 1,000 backends in a few milliseconds', (t) => {
    const bs = equal(1000);
    maglevTable(bs);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      maglevTable(bs);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    t.diagnostic(`median ${times[7]!.toFixed(2)} ms`);
    assert.ok(times[7]! < 25, `${times[7]} ms (goal ≤ 5 ms; loose here for loaded CI machines)`);
  });
});

describe('flow hash', () => {
  it('is the nft jhash expression over the 4-tuple, with the fixed seed', () => {
    assert.equal(FLOW_HASH_SEED, 0x77656674);
    assert.equal(flowHashExpr(65537), 'jhash ip saddr . th sport . ip daddr . th dport mod 65537 seed 0x77656674');
    assert.throws(() => flowHashExpr(0));
  });

  it('answers what the kernel answered (flows of test/dataplane/linux/flow-hash.test.ts)', () => {
    assert.equal(flowSlot({ protocol: 'tcp', src: '10.77.0.10', sport: 34567, dst: '10.77.0.1', dport: 80 }, MAGLEV_SIZE), 45421);
    assert.equal(flowSlot({ protocol: 'udp', src: '10.77.0.254', sport: 40000, dst: '10.77.0.129', dport: 53 }, MAGLEV_SIZE), 11981);
  });

  it('picks a slot in range, the same for TCP and UDP, spread evenly', () => {
    const hits = new Array<number>(16).fill(0);
    for (let p = 1024; p < 1024 + 16_000; p++) {
      const f = { src: '10.0.0.5', sport: p, dst: '10.0.9.9', dport: 80, protocol: 'tcp' as const };
      const s = flowSlot(f, 16);
      assert.equal(flowSlot({ ...f, protocol: 'udp' }, 16), s);
      hits[s]!++;
    }
    for (const h of hits) assert.ok(h > 900 && h < 1100, `${hits}`);
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 65535 }), fc.ipV4(), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 0xffffffff }), (src, sport, dst, dport, size) => {
        const s = flowSlot({ src, sport, dst, dport, protocol: 'udp' }, size);
        assert.ok(Number.isInteger(s) && s >= 0 && s < size);
      }),
    );
  });
});
