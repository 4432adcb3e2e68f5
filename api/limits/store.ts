// The limits the api enforces for a tenant: install defaults overlaid with the
// tenant's row, cached for a few seconds per process (a change made through this
// process is seen at once), plus the rows it ingested today for the daily quota.
import type { Pool } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { appendAudit } from '../../db/queries/audit';
import { findLimitOverrides, rowsIngestedToday, saveLimitOverrides, type LimitOverrides } from '../../db/queries/tenant-limits';
import { defaultLimitsFromEnv, type TenantLimits } from '../../lib/tenant-limits';

const LIMITS_TTL_MS = 5_000;
const ROWS_TTL_MS = 2_000;

export interface EffectiveLimits { limits: TenantLimits; overrides: LimitOverrides; defaults: TenantLimits }

export function effective(overrides: LimitOverrides, defaults = defaultLimitsFromEnv()): EffectiveLimits {
  const limits = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof TenantLimits)[]) limits[key] = overrides[key] ?? defaults[key];
  return { limits, overrides, defaults };
}

interface Cached<T> { value: T; until: number }

export class LimitStore {
  private readonly limits = new Map<string, Cached<EffectiveLimits>>();
  private readonly rows = new Map<string, Cached<number>>();

  constructor(private readonly pool: Pool, private readonly now: () => number = Date.now) {}

  async limitsOf(tenantId: string): Promise<EffectiveLimits> {
    const cached = this.limits.get(tenantId);
    if (cached && cached.until > this.now()) return cached.value;
    const overrides = await withTenant(this.pool, { tenantId, role: 'strata_api' }, (client) => findLimitOverrides(client, tenantId));
    const value = effective(overrides);
    this.limits.set(tenantId, { value, until: this.now() + LIMITS_TTL_MS });
    return value;
  }

  async save(tenantId: string, overrides: LimitOverrides, updatedBy: string): Promise<EffectiveLimits> {
    const saved = await withTenant(this.pool, { tenantId, role: 'strata_api' }, async (client) => {
      const row = await saveLimitOverrides(client, tenantId, overrides, updatedBy);
      await appendAudit(client, tenantId, { actor: updatedBy, action: 'tenant.limits.set', details: { ...row } });
      return row;
    });
    const value = effective(saved);
    this.limits.set(tenantId, { value, until: this.now() + LIMITS_TTL_MS });
    return value;
  }

  async rowsToday(tenantId: string, fresh = false): Promise<number> {
    const cached = this.rows.get(tenantId);
    if (!fresh && cached && cached.until > this.now()) return cached.value;
    const value = await withTenant(this.pool, { tenantId, role: 'strata_api' }, (client) => rowsIngestedToday(client, tenantId));
    this.rows.set(tenantId, { value, until: this.now() + ROWS_TTL_MS });
    return value;
  }
}
