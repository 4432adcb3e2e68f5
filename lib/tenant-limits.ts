// Per-tenant rate limits and quotas (seed 001) as pure logic: the install defaults,
// a token bucket for request rate, a counter of uploads in progress, and the daily
// rows quota. The api keeps one of each per tenant per process (each process enforcing
// its share when several serve the api); the clock is passed in.

export interface TenantLimits {
  /** Sustained requests per second through /api/v1 (seed 001: rate_limit_per_second 100). */
  requestsPerSecond: number;
  /** Requests allowed at once above the sustained rate. */
  burst: number;
  /** Chunk uploads, access batches and index changes being received at the same time. */
  maxConcurrentUploads: number;
  /** File rows ingested per UTC day (seed 001's max_events_per_day, sized for scans). */
  maxRowsPerDay: number;
}

export type LimitName = keyof TenantLimits;

export const DEFAULT_TENANT_LIMITS: TenantLimits = {
  requestsPerSecond: 100,
  burst: 200,
  maxConcurrentUploads: 16,
  maxRowsPerDay: 500_000_000,
};

export function defaultLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): TenantLimits {
  const pick = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return env[name] && Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    requestsPerSecond: pick('STRATA_RATE_LIMIT_RPS', DEFAULT_TENANT_LIMITS.requestsPerSecond),
    burst: pick('STRATA_RATE_LIMIT_BURST', DEFAULT_TENANT_LIMITS.burst),
    maxConcurrentUploads: pick('STRATA_MAX_CONCURRENT_UPLOADS', DEFAULT_TENANT_LIMITS.maxConcurrentUploads),
    maxRowsPerDay: pick('STRATA_MAX_ROWS_PER_DAY', DEFAULT_TENANT_LIMITS.maxRowsPerDay),
  };
}

/**
 * The part of a tenant's limits one api process enforces when `replicas` processes
 * serve the api behind a balancer (STRATA_API_REPLICAS): the request rate, burst and
 * concurrent uploads are counted in each process, so each allows its share (at least
 * one); the daily rows quota is counted in Postgres and stays whole.
 */
export function processShare(limits: TenantLimits, replicas: number): TenantLimits {
  if (!Number.isInteger(replicas) || replicas <= 1) return limits;
  return {
    requestsPerSecond: limits.requestsPerSecond / replicas,
    burst: Math.max(1, Math.floor(limits.burst / replicas)),
    maxConcurrentUploads: Math.max(1, Math.floor(limits.maxConcurrentUploads / replicas)),
    maxRowsPerDay: limits.maxRowsPerDay,
  };
}

export function apiReplicasFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.STRATA_API_REPLICAS ?? 1);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new Error(`STRATA_API_REPLICAS must be a whole number from 1 to 1000, got ${JSON.stringify(env.STRATA_API_REPLICAS)}`);
  }
  return value;
}

/** A limit that was hit: which one, and after how many whole seconds a retry may succeed. */
export interface LimitHit { limit: LimitName; retryAfterSeconds: number; detail: string }

/** Token bucket: holds up to `burst` tokens, refilled at `requestsPerSecond`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(private rate: number, private capacity: number, now: number) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Applies new settings without forgetting what was already spent. */
  reconfigure(rate: number, capacity: number): void {
    this.rate = rate;
    this.capacity = capacity;
    this.tokens = Math.min(this.tokens, capacity);
  }

  /** Takes one token; when none is left, the seconds until one will be there. */
  take(now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - this.tokens) / this.rate)) };
  }
}

/** Seconds from `now` until the next midnight UTC, when the daily quota starts again. */
export function secondsUntilNextUtcDay(now: number): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return Math.max(1, Math.ceil((next.getTime() - now) / 1000));
}

export function rowsQuotaHit(limits: TenantLimits, rowsToday: number, now: number): LimitHit | undefined {
  if (rowsToday < limits.maxRowsPerDay) return undefined;
  return {
    limit: 'maxRowsPerDay', retryAfterSeconds: secondsUntilNextUtcDay(now),
    detail: `the tenant has ingested ${rowsToday} file rows today (UTC), its daily quota is ${limits.maxRowsPerDay}`,
  };
}
