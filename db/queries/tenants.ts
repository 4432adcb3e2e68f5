// Tenant registry, users and token rows. Every statement runs inside withTenant.
import type { PoolClient } from 'pg';

export interface TenantRow { id: string; code: string; name: string; kmsRef: string; encryptedDek: string; status: string }

export async function insertTenant(client: PoolClient, row: Omit<TenantRow, 'status'>): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [row.id, row.code, row.name, row.kmsRef, row.encryptedDek]);
  return result.rowCount === 1;
}

export async function findTenant(client: PoolClient, tenantId: string): Promise<TenantRow | undefined> {
  const result = await client.query(
    `SELECT id, code, name, kms_ref AS "kmsRef", encrypted_dek AS "encryptedDek", status FROM tenant WHERE id = $1`,
    [tenantId]);
  return result.rows[0];
}

export async function tenantIdByCode(client: PoolClient, code: string): Promise<string | undefined> {
  const result = await client.query('SELECT tenant_id_by_code($1) AS id', [code]);
  return result.rows[0]?.id ?? undefined;
}

export async function replaceWrappedDek(client: PoolClient, tenantId: string, previous: string, next: string): Promise<boolean> {
  const result = await client.query(
    `UPDATE tenant SET encrypted_dek = $3, updated_at = now() WHERE id = $1 AND encrypted_dek = $2`,
    [tenantId, previous, next]);
  return result.rowCount === 1;
}

export async function ensureUser(client: PoolClient, tenantId: string, name: string, role: string): Promise<{ id: string; role: string }> {
  const result = await client.query(
    `INSERT INTO app_user (tenant_id, name, role) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, name) DO UPDATE SET role = app_user.role RETURNING id, role`,
    [tenantId, name, role]);
  return result.rows[0];
}

export async function userRole(client: PoolClient, name: string): Promise<string | undefined> {
  const result = await client.query('SELECT role FROM app_user WHERE name = $1', [name]);
  return result.rows[0]?.role;
}

export async function insertToken(client: PoolClient, token: { id: string; tenantId: string; userId: string; hash: Buffer; label: string; expiresAt?: string }): Promise<void> {
  await client.query(
    `INSERT INTO api_token (id, tenant_id, user_id, token_hash, label, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO NOTHING`,
    [token.id, token.tenantId, token.userId, token.hash, token.label, token.expiresAt ?? null]);
}

export async function revokeToken(client: PoolClient, tokenId: string): Promise<boolean> {
  const result = await client.query(
    `UPDATE api_token SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING id`, [tokenId]);
  return result.rowCount === 1;
}

export interface Principal {
  tokenId: string; tenantId: string | null; tenantCode: string | null; userId: string | null; userName: string; role: string;
}

export async function authenticate(client: PoolClient, hash: Buffer): Promise<Principal | undefined> {
  const result = await client.query(
    `SELECT token_id AS "tokenId", tenant_id AS "tenantId", tenant_code AS "tenantCode",
            user_id AS "userId", user_name AS "userName", role FROM authenticate_token($1)`, [hash]);
  return result.rows[0];
}
