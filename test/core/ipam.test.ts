/** Property tests of the pure CIDR math (core/cidr.ts) and subnet IPAM (core/ipam.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { containsCidr, containsIp, formatCidr, formatIp, lastOf, maskOf, overlaps, parseCidr, parseIp, size, type Cidr } from '../../src/core/cidr.js';
import { allocate, checkRequested, gatewayOf, isReserved, RESERVED_PER_SUBNET, usableCount } from '../../src/core/ipam.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Any CIDR block, given as its network address. */
const cidrOf = (minPrefix: number, maxPrefix: number) =>
  fc.tuple(u32, fc.integer({ min: minPrefix, max: maxPrefix })).map(([ip, prefix]): Cidr => ({ base: (ip & maskOf(prefix)) >>> 0, prefix }));
/** Blocks inside 10.0.0.0/24, small enough to enumerate. */
const BASE = parseIp('10.0.0.0')!;
const smallCidr = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 24, max: 32 })).map(([off, prefix]): Cidr => ({
  base: ((BASE + off) & maskOf(prefix)) >>> 0,
  prefix,
}));
const members = (c: Cidr) => new Set(Array.from({ length: size(c) }, (_, i) => c.base + i));
/** A subnet of a realistic size with a random set of taken addresses in (and around) it. */
const subnetWithTaken = cidrOf(24, 30).chain((subnet) =>
  fc
    .uniqueArray(fc.integer({ min: subnet.base - 4, max: lastOf(subnet) + 4 }), { maxLength: size(subnet) })
    .map((ips) => ({ subnet, taken: new Set(ips.filter((ip) => ip >= 0 && ip <= 0xffffffff).map(formatIp)) })),
);

describe('cidr', () => {
  it('formatIp and parseIp are inverse', () => {
    fc.assert(fc.property(u32, (n) => parseIp(formatIp(n)) === n));
  });

  it('parseIp rejects what is not a dotted quad of 0..255 without leading zeros', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-1', ' 1.2.3.4', 'a.b.c.d', '1..2.3'])
      assert.equal(parseIp(bad), undefined, bad);
  });

  it('formatCidr and parseCidr are inverse on network addresses', () => {
    fc.assert(fc.property(cidrOf(0, 32), (c) => assert.deepEqual(parseCidr(formatCidr(c)), c)));
  });

  it('strict parseCidr rejects host bits; loose parseCidr masks them off', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        const text = `${formatIp(ip)}/${prefix}`;
        const network = (ip & maskOf(prefix)) >>> 0;
        assert.equal(parseCidr(text) === undefined, network !== ip);
        assert.deepEqual(parseCidr(text, false), { base: network, prefix });
      }),
    );
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0/8', '10.0.0.0/8/8', 'banana/8', '10.0.0.0/-1'])
      assert.equal(parseCidr(bad), undefined, bad);
  });

  it('a block holds 2^(32-prefix) addresses from its base to lastOf', () => {
    fc.assert(
      fc.property(cidrOf(0, 32), (c) => {
        assert.equal(lastOf(c) - c.base + 1, size(c));
        assert.ok(lastOf(c) <= 0xffffffff);
        assert.ok(containsIp(c, c.base) && containsIp(c, lastOf(c)));
        if (c.base > 0) assert.ok(!containsIp(c, c.base - 1));
        if (lastOf(c) < 0xffffffff) assert.ok(!containsIp(c, lastOf(c) + 1));
      }),
    );
  });

  it('overlaps is symmetric and reflexive', () => {
    fc.assert(fc.property(cidrOf(0, 32), cidrOf(0, 32), (a, b) => overlaps(a, b) === overlaps(b, a)));
    fc.assert(fc.property(cidrOf(0, 32), (a) => overlaps(a, a)));
  });

  it('overlaps and containsCidr agree with brute force on small blocks', () => {
    fc.assert(
      fc.property(smallCidr, smallCidr, (a, b) => {
        const ma = members(a);
        const mb = members(b);
        assert.equal(overlaps(a, b), [...ma].some((ip) => mb.has(ip)), `${formatCidr(a)} vs ${formatCidr(b)}`);
        assert.equal(containsCidr(a, b), [...mb].every((ip) => ma.has(ip)), `${formatCidr(a)} ⊇ ${formatCidr(b)}`);
      }),
      { numRuns: 500 },
    );
  });

  it('two CIDR blocks are nested or disjoint, never partly overlapping', () => {
    fc.assert(fc.property(cidrOf(0, 32), cidrOf(0, 32), (a, b) => overlaps(a, b) === (containsCidr(a, b) || containsCidr(b, a))));
  });
});

describe('ipam', () => {
  it('allocate never returns reserved, taken, outside or repeated addresses', () => {
    fc.assert(
      fc.property(subnetWithTaken, fc.integer({ min: 0, max: 300 }), ({ subnet, taken }, count) => {
        const got = allocate(subnet, taken, count);
        assert.ok(got.length <= count);
        assert.equal(new Set(got).size, got.length);
        for (const s of got) {
          const ip = parseIp(s)!;
          assert.ok(containsIp(subnet, ip), `${s} outside ${formatCidr(subnet)}`);
          assert.ok(!isReserved(subnet, ip), `${s} is reserved`);
          assert.ok(!taken.has(s), `${s} is taken`);
        }
      }),
    );
  });

  it('allocate gives the lowest free addresses, as many as asked or all that are free', () => {
    fc.assert(
      fc.property(subnetWithTaken, fc.integer({ min: 0, max: 300 }), ({ subnet, taken }, count) => {
        const free = [...members(subnet)].filter((ip) => !isReserved(subnet, ip) && !taken.has(formatIp(ip))).map(formatIp);
        assert.deepEqual(allocate(subnet, taken, count), free.slice(0, count));
      }),
    );
  });

  it('an empty subnet has usableCount free addresses: all but network, gateway and last', () => {
    fc.assert(
      fc.property(cidrOf(16, 32), (subnet) => {
        const all = allocate(subnet, new Set(), size(subnet));
        assert.equal(all.length, usableCount(subnet));
        if (subnet.prefix <= 30) {
          assert.equal(usableCount(subnet), size(subnet) - RESERVED_PER_SUBNET);
          assert.equal(all[0], formatIp(gatewayOf(subnet) + 1));
          assert.equal(all.at(-1), formatIp(lastOf(subnet) - 1));
        }
      }),
    );
    assert.equal(usableCount(parseCidr('10.0.0.0/24')!), 253);
    assert.equal(usableCount(parseCidr('10.0.0.0/28')!), 13);
  });

  it('checkRequested accepts exactly the addresses allocate could give', () => {
    fc.assert(
      fc.property(subnetWithTaken, fc.integer({ min: -8, max: 300 }), ({ subnet, taken }, off) => {
        const ip = subnet.base + off;
        if (ip < 0 || ip > 0xffffffff) return;
        const c = checkRequested(subnet, formatIp(ip), taken);
        const allocatable = allocate(subnet, taken, size(subnet)).includes(formatIp(ip));
        assert.equal(c.ok, allocatable, `${formatIp(ip)} in ${formatCidr(subnet)}`);
        if (!c.ok) {
          const why = !containsIp(subnet, ip) ? 'outside' : isReserved(subnet, ip) ? 'reserved' : 'taken';
          assert.equal(c.why, why);
        } else assert.equal(c.ip, formatIp(ip));
      }),
    );
    assert.deepEqual(checkRequested(parseCidr('10.0.0.0/24')!, '10.0.0.256', new Set()), { ok: false, why: 'malformed' });
  });
});
