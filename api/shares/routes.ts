// Shares of the tenant's hosts (smb.conf and exports) with files, bytes,
// world-readable files and the risk score computed from the index.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { withTenant } from '../../db/tenant-tx';
import { listShares, type ShareRow } from '../../db/queries/shares';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { listSharesSchema } from './schema';

export function shareRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/shares', { schema: listSharesSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['viewer', 'operator', 'approver', 'admin']);
      const rows = await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, (client) =>
        listShares(client, { hostId: request.query.host, includeInactive: request.query.inactive === 'true' }));
      return { shares: rows.map(present) };
    });
  };
}

function present(row: ShareRow) {
  return {
    id: Number(row.id), hostId: row.hostId, protocol: row.protocol as 'smb' | 'nfs', name: row.name, uncPath: row.uncPath, localPath: row.localPath,
    volume: row.volume, remark: row.remark, permissions: row.permissions, rootFileRef: row.rootFileRef === null ? null : Number(row.rootFileRef),
    active: row.isActive, files: Number(row.fileCount), dirs: Number(row.dirCount), bytes: Number(row.totalBytes), worldFiles: Number(row.worldFiles),
    risk: { score: row.riskScore, level: row.riskLevel as 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL', factors: row.riskFactors },
    statsAt: row.statsAt ? row.statsAt.toISOString() : null,
  };
}
