// Permission audits over the index. Descriptors are few, so the access decision is
// made once per descriptor (POSIX ACL rules, in memory) and files are then paged
// by descriptor id through the (scan_id, security_id, id) index.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PoolClient } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { descriptorsOfHosts, entriesWithDescriptors, worldDescriptorIds, type AuditEntry } from '../../db/queries/index-browse';
import { permissionsFor, READ, WRITE, type AclEntry } from '../../lib/posix-acl';
import type { VolumeIndex } from '../../db/queries/index';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { notFound } from '../problem';
import { resolveScope, type IndexScope } from '../browse/scope';
import { accessibleBySchema, worldAccessSchema } from './schema';
import { resolvePrincipal } from './principal';

const READERS = ['viewer', 'operator', 'approver', 'admin'] as const;
type Paging = { kind: 'file' | 'dir' | 'all'; after: number; limit: number };

export function indexAuditRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/audit/world-access', { schema: worldAccessSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      return withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, async (client) => {
        const scope = await resolveScope(client, request.query);
        const ids = await worldDescriptorIds(client);
        return { descriptors: ids.length, ...await page(client, scope, ids, request.query) };
      });
    });

    app.get('/audit/accessible-by', { schema: accessibleBySchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      return withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, async (client) => {
        const scope = await resolveScope(client, request.query);
        const principal = await resolvePrincipal(client, request.query.principal, scope.volumes.map((v) => v.hostId));
        if (principal.hosts.length === 0) throw notFound(`no user or group ${request.query.principal} on the indexed hosts`);
        const needed = request.query.access === 'write' ? WRITE : READ;
        const descriptors = await descriptorsOfHosts(client, principal.hosts.map((h) => h.hostId));
        const ids = descriptors.filter((sd) => {
          const subject = principal.hosts.find((h) => h.hostId === sd.hostId)!.subject;
          return (permissionsFor(sd.entries as AclEntry[], { uid: Number(sd.ownerUid), gid: Number(sd.ownerGid) }, subject) & needed) !== 0;
        }).map((sd) => Number(sd.id));
        const hosts = principal.hosts.map((h) => ({ hostId: h.hostId, id: h.id, gids: h.subject.gids.map(Number) }));
        return { principal: { kind: principal.kind, name: principal.name, hosts }, descriptors: ids.length, ...await page(client, scope, ids, request.query) };
      });
    });
  };
}

async function page(client: PoolClient, scope: IndexScope, descriptorIds: number[], paging: Paging) {
  const rows = await entriesWithDescriptors(client, {
    scanIds: scope.volumes.map((v) => v.scanId), descriptorIds, shareIds: scope.shareIds, ...paging, afterId: paging.after,
  });
  const byScan = new Map<number, VolumeIndex>(scope.volumes.map((v) => [Number(v.scanId), v]));
  return { entries: rows.map((row) => present(row, byScan.get(Number(row.scanId))!)), next: rows.length === paging.limit ? String(rows[rows.length - 1].id) : null };
}

function present(row: AuditEntry, volume: VolumeIndex) {
  return {
    hostId: volume.hostId, volume: volume.volume, path: row.path, type: row.flags & 1 ? 'dir' as const : 'file' as const, size: Number(row.size),
    securityId: Number(row.securityId), permissions: row.permissions, shareId: row.shareId === null ? null : Number(row.shareId),
  };
}
