// Bearer-token authentication: the token decides tenant and role. A header that
// names another tenant is refused; install admins name the tenant they act on.
import type { FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { authenticate, tenantIdByCode, type Principal } from '../db/queries/tenants';
import { hashToken } from '../lib/tokens';
import { forbidden, notFound, unauthorized } from './problem';

export type Role = 'viewer' | 'operator' | 'approver' | 'admin' | 'agent';

export interface Caller { tokenId: string; tenantId: string; tenantCode: string; userId: string | null; userName: string; role: Role | 'install-admin' }

declare module 'fastify' {
  interface FastifyRequest { principal?: Principal }
}

const TOKEN_FORMAT = /^Bearer (strata_[A-Za-z0-9_-]{43})$/;

export async function authenticateRequest(pool: Pool, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header) throw unauthorized('missing Authorization: Bearer <token> header');
  const match = TOKEN_FORMAT.exec(header);
  if (!match) throw unauthorized('Authorization header is not a strata bearer token');
  const principal = await withTenant(pool, { tenantId: null, role: 'strata_api' }, (client) => authenticate(client, hashToken(match[1])));
  if (!principal) throw unauthorized('token is unknown, revoked or expired');
  const named = request.headers['x-tenant-code'];
  if (typeof named === 'string' && principal.tenantCode !== null && named !== principal.tenantCode) {
    throw forbidden(`this token belongs to another tenant than X-Tenant-Code ${JSON.stringify(named)}`);
  }
  return principal;
}

// Resolves who acts on which tenant; install admins may act on any tenant they name.
export async function callerFor(pool: Pool, request: FastifyRequest, allowed: Role[], tenantCode?: string): Promise<Caller> {
  const principal = request.principal ?? await authenticateRequest(pool, request);
  request.principal = principal;
  if (principal.role === 'install-admin') {
    const code = tenantCode ?? headerTenant(request);
    if (!code) throw forbidden('an install admin must name the tenant (X-Tenant-Code header)');
    const tenantId = await withTenant(pool, { tenantId: null, role: 'strata_api' }, (client) => tenantIdByCode(client, code));
    if (!tenantId) throw notFound(`tenant ${code} does not exist`);
    return { ...principal, tenantId, tenantCode: code, role: 'install-admin' };
  }
  if (tenantCode !== undefined && tenantCode !== principal.tenantCode) throw forbidden('this token belongs to another tenant');
  if (!allowed.includes(principal.role as Role)) {
    throw forbidden(`role ${principal.role} may not do this; allowed: ${allowed.join(', ')}`);
  }
  return principal as Caller;
}

export async function requireInstallAdmin(pool: Pool, request: FastifyRequest): Promise<Principal> {
  const principal = request.principal ?? await authenticateRequest(pool, request);
  request.principal = principal;
  if (principal.role !== 'install-admin') throw forbidden('only an install admin may do this');
  return principal;
}

function headerTenant(request: FastifyRequest): string | undefined {
  const value = request.headers['x-tenant-code'];
  return typeof value === 'string' ? value : undefined;
}
