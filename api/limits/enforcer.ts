// Enforces each tenant's limits on /api/v1 before a request is validated or its
// body read: a token bucket for the request rate, a cap on uploads being received
// at once, and the daily rows quota on chunk uploads. Over a limit: 429 with
// Retry-After (problem+json), counted in the metrics. Unauthenticated requests pass
// through to the route, which refuses them itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { Counter } from 'prom-client';
import { authenticateRequest } from '../auth';
import { HttpProblem } from '../problem';
import { registry } from '../metrics';
import { processShare, rowsQuotaHit, TokenBucket, type LimitHit, type TenantLimits } from '../../lib/tenant-limits';
import type { LimitStore } from './store';

const CHUNK_ROUTE = 'PUT /api/v1/scans/:scanGuid/chunks/:seq';
const UPLOAD_ROUTES = new Set([CHUNK_ROUTE, 'POST /api/v1/audit-updates', 'POST /api/v1/index/changes']);

const limited = new Counter({
  name: 'strata_rate_limited_total', help: 'Requests answered 429 by tenant limit', labelNames: ['limit'], registers: [registry],
});

export function tooManyRequests(hit: LimitHit, tenantCode: string): HttpProblem {
  return new HttpProblem(429, 'Too Many Requests', `tenant ${tenantCode}: ${hit.detail}; retry after ${hit.retryAfterSeconds} s`,
    [{ field: `limits.${hit.limit}`, reason: hit.detail }], { 'Retry-After': String(hit.retryAfterSeconds) });
}

export class TenantLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly uploads = new Map<string, number>();

  constructor(private readonly pool: Pool, readonly store: LimitStore, private readonly replicas = 1, private readonly now: () => number = Date.now) {}

  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => this.check(request, reply));
  }

  private async check(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    if (!request.routeOptions.url?.startsWith('/api/v1/')) return;
    const principal = await authenticateRequest(this.pool, request).catch(() => undefined);
    if (!principal || principal.role === 'install-admin' || principal.tenantId === null) return;
    request.principal = principal;
    const tenantId = principal.tenantId;
    const tenantCode = principal.tenantCode ?? tenantId;
    // Limits that cannot be read (Postgres down) are not enforced: the route answers 503 itself.
    const known = await this.store.limitsOf(tenantId).catch((error: unknown) => { request.log.warn({ err: error }, 'tenant limits unavailable'); });
    if (!known) return;
    const limits = processShare(known.limits, this.replicas);
    const rate = this.bucketOf(tenantId, limits).take(this.now());
    if (!rate.ok) {
      const share = this.replicas > 1 ? ` on this api process, its share as 1 of ${this.replicas}` : '';
      const detail = `more than ${limits.requestsPerSecond} requests/s (burst ${limits.burst})${share}`;
      throw this.refuse({ limit: 'requestsPerSecond', retryAfterSeconds: rate.retryAfterSeconds, detail }, tenantCode);
    }
    if (!UPLOAD_ROUTES.has(route)) return;
    if (route === CHUNK_ROUTE) {
      const rowsToday = await this.store.rowsToday(tenantId).catch(() => 0);
      const quota = rowsQuotaHit(limits, rowsToday, this.now());
      if (quota) throw this.refuse(quota, tenantCode);
    }
    const running = this.uploads.get(tenantId) ?? 0;
    if (running >= limits.maxConcurrentUploads) {
      const detail = `${running} uploads are already being received (limit ${limits.maxConcurrentUploads} at once)`;
      throw this.refuse({ limit: 'maxConcurrentUploads', retryAfterSeconds: 1, detail }, tenantCode);
    }
    this.uploads.set(tenantId, running + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.uploads.get(tenantId) ?? 1) - 1;
      if (left > 0) this.uploads.set(tenantId, left); else this.uploads.delete(tenantId);
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  }

  uploadsInProgress(tenantId: string): number {
    return this.uploads.get(tenantId) ?? 0;
  }

  private bucketOf(tenantId: string, limits: TenantLimits): TokenBucket {
    let bucket = this.buckets.get(tenantId);
    if (!bucket) {
      bucket = new TokenBucket(limits.requestsPerSecond, limits.burst, this.now());
      this.buckets.set(tenantId, bucket);
    } else {
      bucket.reconfigure(limits.requestsPerSecond, limits.burst);
    }
    return bucket;
  }

  private refuse(hit: LimitHit, tenantCode: string): HttpProblem {
    limited.inc({ limit: hit.limit });
    return tooManyRequests(hit, tenantCode);
  }
}
