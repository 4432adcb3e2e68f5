// Test helpers: an install admin token and tenants onboarded through the api.
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { FastifyInstance } from 'fastify';
import { ensureInstallAdmin } from '../../scripts/admin-token';
import { databaseSettings } from '../../db/settings';

export async function installAdminToken(): Promise<string> {
  const token = `strata_${randomBytes(32).toString('base64url')}`;
  await ensureInstallAdmin(databaseSettings().adminUrl, token);
  return token;
}

export function uniqueCode(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestTenant { tenantId: string; code: string; adminToken: string }

export async function onboardViaApi(app: FastifyInstance, adminToken: string, code = uniqueCode()): Promise<TestTenant> {
  const response = await app.inject({
    method: 'POST', url: '/api/v1/tenants', headers: { authorization: `Bearer ${adminToken}` },
    payload: { code, name: `Tenant ${code}` },
  });
  if (response.statusCode !== 201) throw new Error(`onboarding ${code} failed: ${response.statusCode} ${response.body}`);
  const body = response.json();
  return { tenantId: body.tenantId, code, adminToken: body.adminToken.token };
}

export async function issueTokenViaApi(app: FastifyInstance, tenant: TestTenant, userName: string, role: string): Promise<string> {
  const response = await app.inject({
    method: 'POST', url: `/api/v1/tenants/${tenant.code}/tokens`, headers: { authorization: `Bearer ${tenant.adminToken}` },
    payload: { userName, role },
  });
  if (response.statusCode !== 201) throw new Error(`token for ${userName} failed: ${response.statusCode} ${response.body}`);
  return response.json().token;
}

export async function countRows(admin: Pool, table: string, tenantId: string): Promise<number> {
  const result = await admin.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenantId]);
  return result.rows[0].n;
}
