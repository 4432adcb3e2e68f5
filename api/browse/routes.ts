// The index browser: list a directory of a share or volume by path (or by parent
// inode) from the live index, with its subtree totals.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PoolClient } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { findDirectory, listByDirPath, type ListedEntry } from '../../db/queries/index-browse';
import { dirTotals } from '../../db/queries/index-stats';
import { FLAG_DIR, FLAG_SYMLINK } from '../../activities/index-rows';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { badRequest, notFound } from '../problem';
import { browseSchema } from './schema';
import { normalize, pathInShare, resolveScope, type ScopeQuery } from './scope';

const READERS = ['viewer', 'operator', 'approver', 'admin'] as const;

export function browseRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/browse', { schema: browseSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      return withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, (client) => browse(client, request.query));
    });
  };
}

async function browse(client: PoolClient, query: ScopeQuery & { path?: string; parent_ref?: number; after?: string; limit: number }) {
  const scope = await resolveScope(client, query);
  if (scope.volumes.length !== 1) {
    throw badRequest('name a share, or a host and volume, to browse', [{ field: 'querystring.share', reason: `${scope.volumes.length} indexed volumes match` }]);
  }
  const [volume] = scope.volumes;
  const path = scope.share ? pathInShare(scope.share, query.path) : normalize(query.path ?? volume.volume);
  const dir = await findDirectory(client, volume.scanId, query.parent_ref !== undefined ? { fileRef: query.parent_ref } : { path });
  if (!dir) throw notFound(`no directory ${query.parent_ref ?? path} in the index of ${volume.hostId}:${volume.volume}`);
  const rows = await listByDirPath(client, volume.scanId, dir.path, volume.hostId, query.after ?? null, query.limit);
  const subtree = await dirTotals(client, volume.scanId, dir.fileRef);
  return {
    hostId: volume.hostId, volume: volume.volume, scanId: volume.scanId,
    share: scope.share ? { id: scope.share.id, name: scope.share.name } : null,
    directory: { path: dir.path, fileRef: Number(dir.fileRef), subtree: subtree ? numbers(subtree) : null },
    entries: rows.map(present), next: rows.length === query.limit ? rows[rows.length - 1].name : null,
  };
}

function present(row: ListedEntry) {
  const type = row.flags & FLAG_DIR ? 'dir' as const : row.flags & FLAG_SYMLINK ? 'symlink' as const : (row.mode & 0o170000) === 0o100000 ? 'file' as const : 'other' as const;
  return {
    name: row.name, type, size: Number(row.size), mtime: Number(row.mtime), mode: (row.mode & 0o7777).toString(8).padStart(4, '0'),
    fileRef: Number(row.fileRef), owner: row.owner ?? String(row.uid), group: row.group ?? String(row.gid), permissions: row.permissions,
    worldAccess: row.world, extendedAcl: row.extended, securityId: row.securityId === null ? null : Number(row.securityId),
    shareId: row.shareId === null ? null : Number(row.shareId), subtree: row.subtree ? numbers(row.subtree) : null,
  };
}

function numbers(t: { files: number; dirs: number; bytes: number; worldFiles: number }) {
  return { files: Number(t.files), dirs: Number(t.dirs), bytes: Number(t.bytes), worldFiles: Number(t.worldFiles) };
}
