/**
 * Anti-abuse: a token bucket per key (the account). `perSecond` tokens refill
 * continuously up to `burst`. A limit of 0 disables limiting.
 */
export interface Limiter {
  readonly perSecond: number;
  /** True when the request may proceed. */
  take(key: string): boolean | Promise<boolean>;
}

/** Buckets in this process's memory: the region's when one process serves it (SQLite). Pure apart from the clock passed in. */
export class RateLimiter implements Limiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perSecond: number,
    readonly burst = perSecond * 2,
  ) {}

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

/**
 * The region's buckets when several replicas serve it: the buckets live in the
 * store (store/rate-buckets.ts), and each replica leases a tenth of a second's
 * tokens at a time to spend itself, so the store sees one round trip per lease,
 * not per request. Leased tokens unspent after LEASE_MS are dropped (the
 * region then admits a little less, never more, than its limit). A bucket the
 * store said was empty is not asked again until a token has refilled.
 */
export class LeasedRateLimiter implements Limiter {
  private stock = new Map<string, { tokens: number; until: number; emptyUntil: number }>();
  private refills = new Map<string, Promise<void>>();
  constructor(
    readonly perSecond: number,
    private readonly lease: (key: string, want: number, perSecond: number, burst: number) => Promise<number>,
    readonly burst = perSecond * 2,
  ) {}

  static readonly LEASE_MS = 1000;

  async take(key: string): Promise<boolean> {
    if (this.perSecond <= 0) return true;
    for (;;) {
      const now = performance.now();
      const s = this.stock.get(key);
      if (s && s.until > now && s.tokens >= 1) {
        s.tokens -= 1;
        return true;
      }
      if (s && s.emptyUntil > now) return false;
      await (this.refills.get(key) ?? this.refill(key));
    }
  }

  private refill(key: string): Promise<void> {
    const want = Math.max(1, Math.ceil(this.perSecond / 10));
    const p = this.lease(key, want, this.perSecond, this.burst)
      .then((granted) => {
        const now = performance.now();
        this.stock.set(key, granted > 0 ? { tokens: granted, until: now + LeasedRateLimiter.LEASE_MS, emptyUntil: 0 } : { tokens: 0, until: 0, emptyUntil: now + 1000 / this.perSecond });
      })
      .finally(() => this.refills.delete(key));
    this.refills.set(key, p);
    return p;
  }
}
