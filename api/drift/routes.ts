// GET /audit/drift: files that completed remediations changed and that a scheduled
// drift check found off their target descriptor since (open drift only), paged.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { withTenant } from '../../db/tenant-tx';
import { lastDriftCheck, listOpenDrift } from '../../db/queries/remediation-drift';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { driftSchema } from './schema';

export function driftRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/audit/drift', { schema: driftSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['viewer', 'operator', 'approver', 'admin']);
      const [afterRun, afterItem] = request.query.after?.split(':') ?? [];
      return withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, async (client) => {
        const rows = await listOpenDrift(client, { runId: request.query.run, afterRun, afterItem: Number(afterItem ?? 0), limit: request.query.limit });
        const entries = rows.map((r) => ({ ...r, firstSeenAt: r.firstSeenAt.toISOString(), lastSeenAt: r.lastSeenAt.toISOString() }));
        const last = rows[rows.length - 1];
        return { lastCheck: await lastDriftCheck(client), entries, next: rows.length === request.query.limit ? `${last.runId}:${last.itemNo}` : null };
      });
    });
  };
}
