// The tenant's audit trail, paged newest first, and verification of its hash chain.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { withTenant } from '../../db/tenant-tx';
import { listAudit, verifyAudit } from '../../db/queries/audit';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { listEventsSchema, verifySchema } from './schema';

export function auditRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/audit/events', { schema: listEventsSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['operator', 'approver', 'admin', 'viewer']);
      const q = request.query;
      const rows = await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, (client) =>
        listAudit(client, { action: q.action, actor: q.actor, target: q.path, since: q.since, until: q.until, afterSeq: q.before, limit: q.limit }));
      const events = rows.map((row) => ({ ...row, at: (row.at as Date).toISOString() })) as never[];
      const last = rows.at(-1);
      return { events, next: rows.length === q.limit && last ? `before=${last.seq}` : null };
    });

    app.get('/audit/verify', { schema: verifySchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['admin']);
      return withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, (client) => verifyAudit(client));
    });
  };
}
