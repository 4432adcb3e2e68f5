// Which live index a browse or audit request reads: a share (by id, or by name and
// optionally host), a host and volume, a host, or every indexed volume of the tenant.
import type { PoolClient } from 'pg';
import { currentVolume, currentVolumes, type VolumeIndex } from '../../db/queries/index';
import { findShare, type ShareRow } from '../../db/queries/shares';
import { badRequest, notFound } from '../problem';

export interface ScopeQuery { share?: string; host?: string; volume?: string }
/** shareIds: the share and every share at or below its root (entries carry the deepest share that holds them). */
export interface IndexScope { volumes: VolumeIndex[]; share: ShareRow | null; shareIds: number[] | null }

export async function resolveScope(client: PoolClient, query: ScopeQuery): Promise<IndexScope> {
  if (query.share !== undefined) {
    const share = await oneShare(client, query.share, query.host);
    if (!share.volume) throw notFound(`share ${share.name} is not inside an indexed volume`);
    const volume = await currentVolume(client, share.hostId, share.volume);
    if (!volume) throw notFound(`share ${share.name}: volume ${share.volume} on ${share.hostId} has no index yet`);
    const root = normalize(share.localPath);
    const nested = (await findShare(client, { hostId: share.hostId }))
      .filter((s) => normalize(s.localPath) === root || normalize(s.localPath).startsWith(root === '/' ? '/' : `${root}/`));
    return { volumes: [volume], share, shareIds: nested.map((s) => Number(s.id)) };
  }
  if (query.volume !== undefined) {
    if (query.host === undefined) throw badRequest('volume needs host', [{ field: 'querystring.host', reason: 'required with volume' }]);
    const volume = await currentVolume(client, query.host, normalize(query.volume));
    if (!volume) throw notFound(`volume ${query.volume} on ${query.host} has no index`);
    return { volumes: [volume], share: null, shareIds: null };
  }
  const volumes = (await currentVolumes(client)).filter((v) => query.host === undefined || v.hostId === query.host);
  return { volumes, share: null, shareIds: null };
}

async function oneShare(client: PoolClient, ref: string, hostId: string | undefined): Promise<ShareRow> {
  const matches = await findShare(client, /^\d+$/.test(ref) ? { id: Number(ref), hostId } : { name: ref, hostId });
  if (matches.length === 0) throw notFound(`no active share ${ref}${hostId ? ` on ${hostId}` : ''}`);
  if (matches.length > 1) {
    throw badRequest(`share name ${ref} is ambiguous: name the host or use the share id`, [{ field: 'querystring.share', reason: 'ambiguous' }]);
  }
  return matches[0];
}

export function normalize(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** An absolute path inside a share: the share's root joined with a share-relative path. */
export function pathInShare(share: ShareRow, relative: string | undefined): string {
  const root = normalize(share.localPath);
  const rest = normalize(relative ?? '/').replace(/^\/+/, '');
  if (rest.split('/').includes('..')) throw badRequest('path may not contain ..', [{ field: 'querystring.path', reason: 'contains ..' }]);
  if (rest === '') return root;
  return root === '/' ? `/${rest}` : `${root}/${rest}`;
}
