import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { collapseCidrs, containsCidr, maskOf, normaliseCidr, type Cidr } from '../../src/core/cidr.js';

const cidr = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([ip, prefix]): Cidr => ({ base: (ip & maskOf(prefix)) >>> 0, prefix }));
// Few distinct high bits, so nesting is common.
const nested = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 4, max: 12 })).map(([hi, prefix]): Cidr => ({ base: ((hi << 28) & maskOf(prefix)) >>> 0, prefix }));

test('collapseCidrs keeps exactly the CIDRs no other contains, sorted', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(cidr, nested), { maxLength: 40 }), (cs) => {
      const out = collapseCidrs(cs);
      const key = (c: Cidr) => `${c.base}/${c.prefix}`;
      const expected = [...new Map(cs.map((c) => [key(c), c])).values()].filter((c) => !cs.some((o) => key(o) !== key(c) && containsCidr(o, c)));
      assert.deepEqual(new Set(out.map(key)), new Set(expected.map(key)));
      for (let i = 1; i < out.length; i++) assert.ok(out[i - 1]!.base < out[i]!.base, 'sorted, disjoint');
    }),
  );
});

test('normaliseCidr: a bare address is a /32, host bits are cleared, anything else is refused', () => {
  assert.equal(normaliseCidr('10.0.0.7'), '10.0.0.7/32');
  assert.equal(normaliseCidr('10.0.0.7/24'), '10.0.0.0/24');
  assert.equal(normaliseCidr('0.0.0.0/0'), '0.0.0.0/0');
  for (const bad of ['10.0.0.256', '10.0.0.0/33', 'fe80::1', '']) assert.equal(normaliseCidr(bad), undefined, bad);
});
