// Runs work inside one transaction as a function role with the tenant pinned by
// SET LOCAL, so row-level security decides what every statement can see.
import type { Pool, PoolClient } from 'pg';

export type FunctionRole =
  | 'strata_api' | 'strata_ingest' | 'strata_planner' | 'strata_actor'
  | 'strata_sanitizer' | 'strata_indexer' | 'strata_remediator' | 'strata_report';

const FUNCTION_ROLES = new Set<FunctionRole>([
  'strata_api', 'strata_ingest', 'strata_planner', 'strata_actor',
  'strata_sanitizer', 'strata_indexer', 'strata_remediator', 'strata_report',
]);

export interface TenantScope {
  tenantId: string | null;
  role: FunctionRole;
}

export async function withTenant<T>(pool: Pool, scope: TenantScope, work: (client: PoolClient) => Promise<T>): Promise<T> {
  // The role name is interpolated, so only the fixed set is accepted.
  if (!FUNCTION_ROLES.has(scope.role)) throw new Error(`unknown function role ${scope.role}`);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${scope.role}`);
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [scope.tenantId ?? '']);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => { broken = true; });
    throw error;
  } finally {
    client.release(broken);
  }
}
