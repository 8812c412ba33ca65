/** The instance-type table (core/instance-types.ts): names and CPU/memory figures agree. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allInstanceTypes, DEFAULT_INSTANCE_TYPE, FAMILIES, instanceType, SIZES } from '../../src/core/instance-types.js';

describe('instance types', () => {
  it('knows the usual names', () => {
    assert.deepEqual(instanceType('S5.MEDIUM2'), { name: 'S5.MEDIUM2', family: 'S5', cpu: 2, memory: 2 });
    assert.deepEqual(instanceType('S5.SMALL1'), { name: 'S5.SMALL1', family: 'S5', cpu: 1, memory: 1 });
    assert.deepEqual(instanceType('S5.2XLARGE16'), { name: 'S5.2XLARGE16', family: 'S5', cpu: 8, memory: 16 });
    assert.deepEqual(instanceType('SA2.12XLARGE96'), { name: 'SA2.12XLARGE96', family: 'SA2', cpu: 48, memory: 96 });
    assert.deepEqual(instanceType('M5.LARGE32'), { name: 'M5.LARGE32', family: 'M5', cpu: 4, memory: 32 });
    assert.notEqual(typeof instanceType(DEFAULT_INSTANCE_TYPE), 'string');
  });

  it('tells malformed names from unknown ones', () => {
    for (const name of ['', 'S5', 'S5.', 's5.medium2', 'S5.MEDIUM', 'S5 MEDIUM2', '.MEDIUM2', 'S5.MEDIUM2 ', 'S5.2X', 'S5-MEDIUM2'])
      assert.equal(instanceType(name), 'malformed', name);
    for (const name of ['S5.MEDIUM3', 'S5.HUGE2', 'ZZ9.MEDIUM2', 'M5.MEDIUM2', 'C5.LARGE16', 'S5.5XLARGE40'])
      assert.equal(instanceType(name), 'unknown', name);
  });

  it('every listed type parses back to its own figures, and memory is a ratio the family offers', () => {
    const all = allInstanceTypes();
    assert.equal(new Set(all.map((t) => t.name)).size, all.length, 'names are unique');
    for (const t of all) {
      assert.deepEqual(instanceType(t.name), t);
      assert.ok(FAMILIES[t.family]!.includes(t.memory / t.cpu));
    }
  });

  it('a family/size/memory triple is accepted exactly when the memory is cpu × an offered ratio', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(FAMILIES)),
        fc.constantFrom(...Object.keys(SIZES)),
        fc.integer({ min: 1, max: 1024 }),
        (family, size, memory) => {
          const t = instanceType(`${family}.${size}${memory}`);
          const ok = FAMILIES[family]!.some((r) => r * SIZES[size]! === memory);
          return ok ? typeof t === 'object' && t.cpu === SIZES[size] && t.memory === memory : t === 'unknown';
        },
      ),
    );
  });
});
