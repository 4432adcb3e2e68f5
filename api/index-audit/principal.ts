// Resolves `user:alice`, `group:staff` or a bare name to ids and group memberships
// on each indexed host, from the principals recorded at indexing time.
import type { PoolClient } from 'pg';
import type { Subject } from '../../lib/posix-acl';

export interface ResolvedPrincipal {
  kind: 'user' | 'group'; name: string;
  hosts: { hostId: string; id: number; subject: Subject }[];
}

export async function resolvePrincipal(client: PoolClient, spec: string, hostIds: string[]): Promise<ResolvedPrincipal> {
  const match = /^(?:(user|group|u|g):)?(.+)$/.exec(spec)!;
  const wanted = match[1] ? (match[1].startsWith('u') ? 'user' : 'group') : null;
  const name = match[2];
  const rows = (await client.query(
    `SELECT host_id AS "hostId", kind, id, name, gids FROM index_principal
      WHERE host_id = ANY($1::text[]) AND (name = $2 OR ($3 AND id::text = $2)) ORDER BY host_id, kind DESC`,
    [hostIds, name, /^\d+$/.test(name)])).rows as { hostId: string; kind: 'user' | 'group'; id: number; gids: number[] }[];
  const kind = wanted ?? (rows.some((r) => r.kind === 'user') ? 'user' : 'group');
  const hosts = rows.filter((r) => r.kind === kind).map((r) => ({
    hostId: r.hostId, id: Number(r.id),
    subject: kind === 'user' ? { uid: Number(r.id), gids: r.gids.map(Number) } : { uid: -1, gids: [Number(r.id)] },
  }));
  return { kind, name, hosts: hosts.filter((h, i) => hosts.findIndex((o) => o.hostId === h.hostId) === i) };
}
