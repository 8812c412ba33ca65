/**
 * Anti-abuse: a token bucket per key (the account). `perSecond` tokens refill
 * continuously up to `burst`. Pure apart from the clock passed in.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perSecond: number,
    readonly burst = perSecond * 2,
  ) {}

  /** True when the request may proceed. A limit of 0 disables limiting. */
  take(key: string, now = performance.now()): boolean {
    if (this.perSecond <= 0) return true;
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
