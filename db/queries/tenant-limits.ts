// A tenant's configured limits (NULL = install default) and its rows ingested today.
// Every statement runs inside withTenant; row-level security pins the tenant.
import type { PoolClient } from 'pg';
import type { TenantLimits } from '../../lib/tenant-limits';

export type LimitOverrides = { [K in keyof TenantLimits]: number | null };

export const NO_OVERRIDES: LimitOverrides = { requestsPerSecond: null, burst: null, maxConcurrentUploads: null, maxRowsPerDay: null };

const COLUMNS = `requests_per_second AS "requestsPerSecond", burst, max_concurrent_uploads AS "maxConcurrentUploads",
  max_rows_per_day AS "maxRowsPerDay"`;

export async function findLimitOverrides(client: PoolClient, tenantId: string): Promise<LimitOverrides> {
  const result = await client.query(`SELECT ${COLUMNS} FROM tenant_limits WHERE tenant_id = $1`, [tenantId]);
  return result.rows[0] ?? NO_OVERRIDES;
}

/** Replaces the tenant's overrides (a null clears one back to the default). */
export async function saveLimitOverrides(client: PoolClient, tenantId: string, overrides: LimitOverrides, updatedBy: string): Promise<LimitOverrides> {
  const result = await client.query(
    `INSERT INTO tenant_limits (tenant_id, requests_per_second, burst, max_concurrent_uploads, max_rows_per_day, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id) DO UPDATE SET requests_per_second = $2, burst = $3, max_concurrent_uploads = $4,
       max_rows_per_day = $5, updated_by = $6, updated_at = now()
     RETURNING ${COLUMNS}`,
    [tenantId, overrides.requestsPerSecond, overrides.burst, overrides.maxConcurrentUploads, overrides.maxRowsPerDay, updatedBy]);
  return result.rows[0];
}

/** File rows of the chunks this tenant ingested since midnight UTC. */
export async function rowsIngestedToday(client: PoolClient, tenantId: string): Promise<number> {
  const result = await client.query(
    `SELECT coalesce(sum(row_count), 0)::bigint AS rows FROM ingest_chunk
      WHERE tenant_id = $1 AND ingested_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`, [tenantId]);
  return result.rows[0].rows;
}
