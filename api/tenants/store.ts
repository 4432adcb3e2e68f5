// Database side of the token routes, under the api role with the tenant pinned.
import type { Pool } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { ensureUser, insertToken, revokeToken, tenantIdByCode } from '../../db/queries/tenants';
import { appendAudit } from '../../db/queries/audit';
import { issueToken } from '../../lib/tokens';
import type { Caller, Role } from '../auth';
import { conflict } from '../problem';

export async function tenantExists(pool: Pool, code: string): Promise<boolean> {
  return (await withTenant(pool, { tenantId: null, role: 'strata_api' }, (client) => tenantIdByCode(client, code))) !== undefined;
}

export async function issueTokenRecord(pool: Pool, caller: Caller, request: { userName: string; role: Role; label?: string; expiresInDays?: number }) {
  const token = issueToken();
  const expiresAt = request.expiresInDays ? new Date(Date.now() + request.expiresInDays * 86_400_000).toISOString() : null;
  await withTenant(pool, { tenantId: caller.tenantId, role: 'strata_api' }, async (client) => {
    const user = await ensureUser(client, caller.tenantId, request.userName, request.role);
    if (user.role !== request.role) throw conflict(`user ${request.userName} already exists with role ${user.role}`);
    const userId = user.id;
    await insertToken(client, { id: token.id, tenantId: caller.tenantId, userId, hash: token.hash, label: request.label ?? '', expiresAt: expiresAt ?? undefined });
    await appendAudit(client, caller.tenantId, {
      actor: caller.userName, action: 'token.issued', target: request.userName, details: { tokenId: token.id, role: request.role },
    });
  });
  return { id: token.id, userName: request.userName, role: request.role, token: token.token, expiresAt };
}

export async function revokeTokenRecord(pool: Pool, caller: Caller, tokenId: string): Promise<boolean> {
  return withTenant(pool, { tenantId: caller.tenantId, role: 'strata_api' }, async (client) => {
    const revoked = await revokeToken(client, tokenId);
    if (revoked) await appendAudit(client, caller.tenantId, { actor: caller.userName, action: 'token.revoked', target: tokenId });
    return revoked;
  });
}
