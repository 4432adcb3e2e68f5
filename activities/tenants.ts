// Postgres side of tenant onboarding and key rotation, under the api role with
// the tenant pinned, so row-level security applies even to onboarding itself.
import { withTenant } from '../db/tenant-tx';
import * as tenants from '../db/queries/tenants';
import { appendAudit, type AuditEntry } from '../db/queries/audit';
import { ConflictError, NotFoundError } from './errors';
import type { ActivityDeps } from './deps';

export interface FirstUserInput { name: string; role: string; tokenId: string; tokenHashHex: string; label?: string }

export interface RegisterTenantInput {
  tenantId: string; code: string; name: string; kmsRef: string; encryptedDek: string; firstUsers?: FirstUserInput[]; actor: string;
  /**
   * The run found no tenant of this code and proposes tenantId for a new one: a tenant
   * of that id is then this run's own, inserted by an attempt whose completion was lost.
   */
  expectNew?: boolean;
}

export function createTenantActivities({ pool, vault }: Pick<ActivityDeps, 'pool' | 'vault'>) {
  const asApi = <T>(tenantId: string | null, work: Parameters<typeof withTenant<T>>[2]) =>
    withTenant(pool, { tenantId, role: 'strata_api' }, work);

  return {
    async findTenantIdByCode(input: { code: string }): Promise<string | null> {
      return asApi(null, async (client) => (await tenants.tenantIdByCode(client, input.code)) ?? null);
    },

    async registerTenant(input: RegisterTenantInput): Promise<{ tenantId: string; created: boolean }> {
      const existing = await asApi(input.tenantId, (client) => tenants.tenantIdByCode(client, input.code));
      const tenantId = existing ?? input.tenantId;
      return asApi(tenantId, async (client) => {
        const insertedBefore = input.expectNew === true && existing === input.tenantId;
        const created = insertedBefore || (!existing && await tenants.insertTenant(client, {
          id: tenantId, code: input.code, name: input.name, kmsRef: input.kmsRef, encryptedDek: input.encryptedDek,
        }));
        if (!existing && !created) throw new ConflictError(`tenant code ${input.code} was taken concurrently`);
        for (const user of input.firstUsers ?? []) {
          const { id: userId } = await tenants.ensureUser(client, tenantId, user.name, user.role);
          await tenants.insertToken(client, {
            id: user.tokenId, tenantId, userId, hash: Buffer.from(user.tokenHashHex, 'hex'), label: user.label ?? 'first token',
          });
        }
        await appendAudit(client, tenantId, {
          actor: input.actor, action: 'tenant.onboarded', target: input.code,
          details: { created, users: (input.firstUsers ?? []).map((u) => ({ name: u.name, role: u.role })) },
          eventKey: `tenant.onboarded/${input.code}/${input.tenantId}`,
        });
        return { tenantId, created };
      });
    },

    async rewrapTenantDek(input: { tenantId: string; tenantCode: string }): Promise<{ rewrapped: boolean }> {
      const tenant = await asApi(input.tenantId, (client) => tenants.findTenant(client, input.tenantId));
      if (!tenant) throw new NotFoundError(`tenant ${input.tenantCode} not found`);
      const next = await vault.rewrap(input.tenantCode, tenant.encryptedDek);
      if (next === tenant.encryptedDek) return { rewrapped: false };
      const rewrapped = await asApi(input.tenantId, (client) =>
        tenants.replaceWrappedDek(client, input.tenantId, tenant.encryptedDek, next));
      return { rewrapped };
    },

    async lookupUserRole(input: { tenantId: string; userName: string }): Promise<string | null> {
      return asApi(input.tenantId, async (client) => (await tenants.userRole(client, input.userName)) ?? null);
    },

    async recordAudit(input: { tenantId: string; entry: AuditEntry }): Promise<void> {
      await asApi(input.tenantId, (client) => appendAudit(client, input.tenantId, input.entry));
    },
  };
}
