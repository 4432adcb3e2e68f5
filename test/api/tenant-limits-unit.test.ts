// The pure parts of rate limiting: the token bucket's rate and Retry-After, and the
// daily quota's reset time.
import fc from 'fast-check';
import { rowsQuotaHit, secondsUntilNextUtcDay, TokenBucket, DEFAULT_TENANT_LIMITS, defaultLimitsFromEnv } from '../../lib/tenant-limits';

describe('token bucket', () => {
  it('allows the burst at once, then refuses with the seconds until a token is back', () => {
    const bucket = new TokenBucket(2, 5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(0)).toEqual({ ok: true });
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(bucket.take(500)).toEqual({ ok: true });
    expect(bucket.take(500)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('a slow rate asks for a longer wait', () => {
    const bucket = new TokenBucket(0.25, 1, 0);
    expect(bucket.take(0).ok).toBe(true);
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterSeconds: 4 });
  });

  it('never lets more than burst + rate * seconds through (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 100 }),
      fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 300 }), (rate, burst, gaps) => {
        const bucket = new TokenBucket(rate, burst, 0);
        let now = 0;
        let allowed = 0;
        for (const gap of gaps) {
          now += gap;
          const answer = bucket.take(now);
          if (answer.ok) allowed += 1;
          else expect(answer.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        }
        expect(allowed).toBeLessThanOrEqual(burst + Math.floor((rate * now) / 1000) + 1);
      }));
  });

  it('lowering the burst takes effect at once', () => {
    const bucket = new TokenBucket(1, 100, 0);
    bucket.reconfigure(1, 2);
    expect([bucket.take(0).ok, bucket.take(0).ok, bucket.take(0).ok]).toEqual([true, true, false]);
  });
});

describe('daily rows quota', () => {
  it('refuses once the quota is used, until midnight UTC', () => {
    const now = Date.parse('2026-03-01T23:59:00Z');
    expect(secondsUntilNextUtcDay(now)).toBe(60);
    const limits = { ...DEFAULT_TENANT_LIMITS, maxRowsPerDay: 1000 };
    expect(rowsQuotaHit(limits, 999, now)).toBeUndefined();
    expect(rowsQuotaHit(limits, 1000, now)).toMatchObject({ limit: 'maxRowsPerDay', retryAfterSeconds: 60 });
  });

  it('install defaults come from the environment, bad values fall back', () => {
    expect(defaultLimitsFromEnv({ STRATA_RATE_LIMIT_RPS: '7', STRATA_RATE_LIMIT_BURST: 'x' })).toMatchObject({ requestsPerSecond: 7, burst: DEFAULT_TENANT_LIMITS.burst });
  });
});
