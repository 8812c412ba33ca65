/**
 * The request budgets' logic (api/rate-limit.ts): the in-memory bucket, and
 * the leased one against a bucket kept as the store keeps it (one shared
 * bucket, whole tokens taken under its lock), here a plain object so the
 * arithmetic of two replicas sharing it can be followed exactly. The store's
 * own statement is tested against both replicas in test/controller/replicas.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeasedRateLimiter, RateLimiter } from '../../src/api/rate-limit.js';

describe('request budgets', () => {
  it('a bucket admits its burst, then what refills', () => {
    const l = new RateLimiter(10, 20);
    const admitted = Array.from({ length: 30 }, () => l.take('a', 0)).filter(Boolean).length;
    assert.equal(admitted, 20);
    assert.equal(l.take('a', 50), false, 'half a token refilled');
    assert.equal(l.take('a', 100), true, 'one token refilled');
    assert.equal(l.take('b', 100), true, 'another key has its own');
    assert.equal(new RateLimiter(0).take('a', 0), true, '0 disables limiting');
  });

  it('replicas leasing from one bucket admit its burst between them, asking the bucket once per lease', async () => {
    let tokens = 20; // burst 20 at 10/s; no time passes in this test, so nothing refills
    let leases = 0;
    const lease = async (_key: string, want: number) => {
      leases++;
      const granted = Math.min(want, Math.floor(tokens));
      tokens -= granted;
      return granted;
    };
    const a = new LeasedRateLimiter(10, lease, 20);
    const b = new LeasedRateLimiter(10, lease, 20);
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).take('acct')));
    assert.equal(answers.filter(Boolean).length, 20, 'the region admits its burst, not each replica its own');
    assert.equal(tokens, 0);
    // A tenth of a second's tokens per lease (1 at 10/s), plus one empty answer per replica, which it then remembers.
    assert.ok(leases <= 22, `${leases} leases`);
    const before = leases;
    assert.equal(await a.take('acct'), false);
    assert.equal(leases, before, 'an empty bucket is not asked again before a token can have refilled');
  });

  it('a lease that fails (the store is away) fails the request, and the next one asks again', async () => {
    let up = false;
    const l = new LeasedRateLimiter(100, async (_k, want) => {
      if (!up) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return want;
    });
    await assert.rejects(l.take('acct'), /ECONNREFUSED/);
    up = true;
    assert.equal(await l.take('acct'), true);
  });
});
