import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UNKNOWN_HEALTH, healthStep, type HealthState } from '../../src/core/health-state.js';

const run = (outcomes: readonly boolean[], rise: number, fall: number): HealthState[] => {
  const states: HealthState[] = [];
  let s = UNKNOWN_HEALTH;
  for (const ok of outcomes) states.push((s = healthStep(s, ok, { rise, fall })));
  return states;
};
const statuses = (outcomes: string, rise: number, fall: number) => run([...outcomes].map((c) => c === '+'), rise, fall).map((s) => s.status[0]).join('');

describe('a target’s health state', () => {
  it('goes Alive on the first success, Dead after fall failures, Alive again after rise successes', () => {
    assert.equal(statuses('+', 3, 2), 'A');
    assert.equal(statuses('--+', 3, 2), 'UDD', 'Unknown → Dead after fall failures; then rise successes are needed');
    assert.equal(statuses('-+', 3, 2), 'UA', 'a failure before the first success does not delay it');
    assert.equal(statuses('+-+--', 3, 2), 'AAAAD', 'one failure between successes is forgiven');
    assert.equal(statuses('+----++-+++', 3, 2), 'AADDDDDDDDA', 'a failure starts the run of successes over');
    assert.equal(statuses('+-+-', 1, 1), 'ADAD');
    assert.equal(statuses('-', 0, 0), 'D', 'counts below 1 act as 1');
  });

  it('changes status only at the end of a run of rise successes or fall failures (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (outcomes, rise, fall) => {
        const states = run(outcomes, rise, fall);
        let prev: HealthState = UNKNOWN_HEALTH;
        for (const [i, s] of states.entries()) {
          const ok = outcomes[i]!;
          // the counts are the current run of equal outcomes
          let k = 0;
          while (k <= i && outcomes[i - k] === ok) k++;
          assert.deepEqual([s.successes, s.failures], ok ? [k, 0] : [0, k]);
          if (s.status !== prev.status) {
            if (s.status === 'Alive') assert.ok(ok && (prev.status === 'Unknown' || k === rise), `${outcomes} @${i}`);
            else assert.ok(s.status === 'Dead' && !ok && k === fall, `${outcomes} @${i}`);
          }
          assert.ok(!(s.status === 'Unknown' && ok), 'a success always gives a verdict');
          prev = s;
        }
      }),
    );
  });
});
