// A tenant's rate limits and quotas: its admins read them, install admins set them.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerFor, requireInstallAdmin } from '../auth';
import type { ApiContext } from '../context';
import { NO_OVERRIDES } from '../../db/queries/tenant-limits';
import type { TenantLimiter } from './enforcer';
import type { EffectiveLimits } from './store';
import { getLimitsSchema, putLimitsSchema } from './schema';

export function limitRoutes(context: ApiContext, limiter: TenantLimiter): FastifyPluginAsyncZod {
  const answer = async (tenantId: string, tenantCode: string, effective: EffectiveLimits) => ({
    tenantCode, ...effective,
    usage: { rowsToday: await limiter.store.rowsToday(tenantId, true), uploadsInProgress: limiter.uploadsInProgress(tenantId) },
  });

  return async (app) => {
    app.get('/tenants/:code/limits', { schema: getLimitsSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['admin'], request.params.code);
      return answer(caller.tenantId, caller.tenantCode, await limiter.store.limitsOf(caller.tenantId));
    });

    app.put('/tenants/:code/limits', { schema: putLimitsSchema }, async (request) => {
      const admin = await requireInstallAdmin(context.pool, request);
      const caller = await callerFor(context.pool, request, ['admin'], request.params.code);
      const overrides = { ...NO_OVERRIDES };
      for (const key of Object.keys(overrides) as (keyof typeof overrides)[]) overrides[key] = request.body[key] ?? null;
      const saved = await limiter.store.save(caller.tenantId, overrides, `install-admin:${admin.userName}`);
      return answer(caller.tenantId, caller.tenantCode, saved);
    });
  };
}
