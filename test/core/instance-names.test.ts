/** Names of a batch of instances (core/instance-names.ts), by the rule of RunInstancesRequest.InstanceName. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hasPattern, instanceNames, UNNAMED } from '../../src/core/instance-names.js';

describe('instance names', () => {
  it('follows the examples of the model documentation', () => {
    assert.deepEqual(instanceNames('server_{R:3}', 1), ['server_3']);
    assert.deepEqual(instanceNames('server_{R:3}', 2), ['server_3', 'server_4']);
    assert.deepEqual(instanceNames('server_{R:3,F:3}', 2), ['server_003', 'server_004']);
    assert.deepEqual(instanceNames('app_{R:99,F:2}', 2), ['app_99', 'app_100']);
    assert.deepEqual(instanceNames('server_', 2), ['server_1', 'server_2']);
  });

  it('keeps a plain name for one instance and names unnamed instances 未命名', () => {
    assert.deepEqual(instanceNames('web', 1), ['web']);
    assert.deepEqual(instanceNames(undefined, 3), [UNNAMED, UNNAMED, UNNAMED]);
    assert.deepEqual(instanceNames('', 1), [UNNAMED]);
  });

  it('replaces several patterns and treats malformed ones as text', () => {
    assert.deepEqual(instanceNames('a{R:1}-b{R:10,F:3}', 2), ['a1-b010', 'a2-b011']);
    assert.deepEqual(instanceNames('x{}', 2), ['x{}1', 'x{}2']);
    assert.deepEqual(instanceNames('x{R:}', 2), ['x{R:}1', 'x{R:}2']);
    assert.deepEqual(instanceNames('x{R:1,F:9}', 2), ['x{R:1,F:9}1', 'x{R:1,F:9}2'], 'F is at most 8');
    assert.deepEqual(instanceNames('x{R:0,F:0}', 2), ['x0', 'x1']);
    assert.deepEqual(instanceNames('x{R:9007199254740993}', 2), ['x9007199254740993', 'x9007199254740994'], 'no float rounding');
  });

  it('gives n distinct names when asked for a name with or without a pattern', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 2, max: 50 }), fc.boolean(), (base, n, pattern) => {
        const template = pattern ? `${base}{R:1}` : base;
        const names = instanceNames(template, n);
        return names.length === n && new Set(names).size === n;
      }),
    );
  });

  it('without a pattern, names are the template plus 1..n', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !hasPattern(s)),
        fc.integer({ min: 2, max: 20 }),
        (base, n) => instanceNames(base, n).every((name, i) => name === `${base}${i + 1}`),
      ),
    );
  });
});
