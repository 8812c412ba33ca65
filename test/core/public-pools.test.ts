/** Property tests of the public address pools (core/public-pools.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { containsIp, formatCidr, formatIp, lastOf, parseIp, type Cidr } from '../../src/core/cidr.js';
import { allocatePublic, checkPublicRequested, DEFAULT_PUBLIC_POOLS, parsePublicPools, publicCapacity } from '../../src/core/public-pools.js';

/** One to three disjoint pools of /26 to /30 inside 198.51.100.0/24, in random order. */
const pools = fc
  .uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 })
  .chain((quarters) =>
    fc.tuple(...quarters.map((q) => fc.integer({ min: 26, max: 30 }).map((prefix): Cidr => ({ base: parseIp('198.51.100.0')! + q * 64, prefix })))),
  );
/** Pools and a random set of taken addresses in and around them. */
const poolsWithTaken = pools.chain((ps) =>
  fc
    .uniqueArray(fc.integer({ min: parseIp('198.51.100.0')!, max: parseIp('198.51.100.255')! }), { maxLength: 80 })
    .map((ips) => ({ pools: parsePublicPools(ps.map(formatCidr)), taken: new Set(ips.map(formatIp)) })),
);
const givable = (ps: readonly Cidr[], ip: number) => ps.some((p) => containsIp(p, ip) && ip !== p.base && ip !== p.base + 1 && ip !== lastOf(p));

describe('public pools', () => {
  it('parses the defaults: the two documentation ranges, 506 addresses to give', () => {
    const ps = parsePublicPools(DEFAULT_PUBLIC_POOLS);
    assert.deepEqual(ps.map(formatCidr), ['198.51.100.0/24', '203.0.113.0/24']);
    assert.equal(publicCapacity(ps), 506);
  });

  it('sorts pools by address and refuses what is not a pool', () => {
    assert.deepEqual(parsePublicPools(['203.0.113.0/24', ' 198.51.100.0/25']).map(formatCidr), ['198.51.100.0/25', '203.0.113.0/24']);
    for (const [bad, why] of [
      [[], /at least one/],
      [['198.51.100.0'], /CIDR/],
      [['198.51.100.7/24'], /network address/],
      [['198.51.100.0/31'], /too small/],
      [['198.51.100.0/24', '198.51.100.64/26'], /overlap/],
    ] as const)
      assert.throws(() => parsePublicPools(bad), why, JSON.stringify(bad));
  });

  it('gives the lowest free givable addresses, distinct, never taken, never a pool\'s first two or last', () => {
    fc.assert(
      fc.property(poolsWithTaken, fc.integer({ min: 0, max: 300 }), ({ pools: ps, taken }, count) => {
        const got = allocatePublic(ps, taken, count).map((s) => parseIp(s)!);
        assert.equal(new Set(got).size, got.length);
        for (const ip of got) assert.ok(givable(ps, ip) && !taken.has(formatIp(ip)), formatIp(ip));
        // Exactly the lowest ones: every free givable address below the highest given was given.
        const free = [];
        for (let ip = parseIp('198.51.100.0')!; ip <= parseIp('198.51.100.255')!; ip++) if (givable(ps, ip) && !taken.has(formatIp(ip))) free.push(ip);
        assert.deepEqual(got, free.slice(0, count));
      }),
    );
  });

  it('accepts a requested address exactly when allocation could have given it', () => {
    fc.assert(
      fc.property(poolsWithTaken, fc.integer({ min: parseIp('198.51.100.0')!, max: parseIp('198.51.100.255')! }), ({ pools: ps, taken }, ip) => {
        const c = checkPublicRequested(ps, formatIp(ip), taken);
        assert.equal(c.ok, givable(ps, ip) && !taken.has(formatIp(ip)));
        if (!c.ok) assert.equal(c.why, !ps.some((p) => containsIp(p, ip)) ? 'outside' : givable(ps, ip) ? 'taken' : 'reserved');
      }),
    );
    assert.deepEqual(checkPublicRequested(parsePublicPools(DEFAULT_PUBLIC_POOLS), '203.0.113.300', new Set()), { ok: false, why: 'malformed' });
  });
});
