// The pure parts of rate limiting: the token bucket's rate and Retry-After, and the
// daily quota's reset time.
import fc from 'fast-check';
import {
  apiReplicasFromEnv, defaultLimitsFromEnv, DEFAULT_TENANT_LIMITS, processShare, rowsQuotaHit, secondsUntilNextUtcDay, TokenBucket,
} from '../../lib/tenant-limits';

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

describe('limits shared by several api processes', () => {
  it('gives each process its share of rate, burst and uploads, never below one, and keeps the daily quota whole', () => {
    const limits = { requestsPerSecond: 100, burst: 200, maxConcurrentUploads: 16, maxRowsPerDay: 1_000 };
    expect(processShare(limits, 1)).toEqual(limits);
    expect(processShare(limits, 4)).toEqual({ requestsPerSecond: 25, burst: 50, maxConcurrentUploads: 4, maxRowsPerDay: 1_000 });
    expect(processShare(limits, 40)).toEqual({ requestsPerSecond: 2.5, burst: 5, maxConcurrentUploads: 1, maxRowsPerDay: 1_000 });
  });

  it('together the processes never allow more than the tenant limit (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 64 }), (rate, burst, replicas) => {
      const share = processShare({ requestsPerSecond: rate, burst, maxConcurrentUploads: 16, maxRowsPerDay: 1 }, replicas);
      expect(share.requestsPerSecond * replicas).toBeCloseTo(rate, 6);
      if (burst >= replicas) expect(share.burst * replicas).toBeLessThanOrEqual(burst);
    }));
  });

  it('reads STRATA_API_REPLICAS and refuses a value that is not a whole number from 1 to 1000', () => {
    expect(apiReplicasFromEnv({})).toBe(1);
    expect(apiReplicasFromEnv({ STRATA_API_REPLICAS: '3' })).toBe(3);
    expect(() => apiReplicasFromEnv({ STRATA_API_REPLICAS: 'three' })).toThrow(/STRATA_API_REPLICAS must be a whole number from 1 to 1000, got "three"/);
    expect(() => apiReplicasFromEnv({ STRATA_API_REPLICAS: '0' })).toThrow(/STRATA_API_REPLICAS/);
  });
});
