// Reads of the live index for browse and audits: directory listings (by path or
// parent inode) with owner, permissions and subtree totals, and paged lists of the
// entries whose security descriptor is in a given set.
import type { PoolClient } from 'pg';

export interface ListedEntry {
  id: number; name: string; flags: number; size: number; mtime: number; mode: number; uid: number; gid: number; fileRef: number;
  owner: string | null; group: string | null; securityId: number | null; permissions: string | null; world: boolean;
  extended: boolean; shareId: number | null; subtree: { files: number; dirs: number; bytes: number; worldFiles: number } | null;
}

const ENTRY_COLUMNS = `f.id, f.name, f.flags, f.size_bytes AS size, f.mtime_unix AS mtime, f.mode, f.uid, f.gid, f.file_ref AS "fileRef",
  coalesce(sd.owner_name, pu.name) AS owner, coalesce(sd.group_name, pg.name) AS "group", f.security_id AS "securityId",
  sd.summary AS permissions, coalesce(sd.grants_world_access, false) AS world, coalesce(sd.extended, false) AS extended,
  f.share_id AS "shareId",
  CASE WHEN st.dir_ref IS NULL THEN NULL ELSE json_build_object('files', st.files, 'dirs', st.dirs, 'bytes', st.bytes, 'worldFiles', st.world_files) END AS subtree`;

const ENTRY_JOINS = `LEFT JOIN security_descriptor sd ON sd.id = f.security_id
  LEFT JOIN index_principal pu ON pu.host_id = $3 AND pu.kind = 'user' AND pu.id = f.uid
  LEFT JOIN index_principal pg ON pg.host_id = $3 AND pg.kind = 'group' AND pg.id = f.gid
  LEFT JOIN index_dir_stats st ON st.scan_id = f.scan_id AND st.dir_ref = f.file_ref AND f.flags & 1 <> 0`;

export async function listByDirPath(client: PoolClient, scanId: number, dirPath: string, hostId: string, after: string | null, limit: number): Promise<ListedEntry[]> {
  const result = await client.query(
    `SELECT ${ENTRY_COLUMNS} FROM file f ${ENTRY_JOINS}
      WHERE f.scan_id = $1 AND f.dir_id = (SELECT id FROM dir WHERE path_hash = dir_path_hash($2) AND dir_path = $2)
        AND ($4::text IS NULL OR f.name > $4) ORDER BY f.name LIMIT $5`, [scanId, dirPath, hostId, after, limit]);
  return result.rows;
}

/** The row of a directory itself, by its absolute path or by its inode. */
export async function findDirectory(client: PoolClient, scanId: number, ref: { path?: string; fileRef?: number }): Promise<{ fileRef: number; path: string } | undefined> {
  if (ref.fileRef !== undefined) {
    const result = await client.query(
      `SELECT f.file_ref AS "fileRef", CASE WHEN d.dir_path = '/' THEN '/' || f.name ELSE d.dir_path || '/' || f.name END AS path
         FROM file f JOIN dir d ON d.id = f.dir_id WHERE f.scan_id = $1 AND f.file_ref = $2 AND f.flags & 1 <> 0 LIMIT 1`, [scanId, ref.fileRef]);
    return result.rows[0];
  }
  const path = ref.path!;
  const cut = path.lastIndexOf('/');
  const parent = cut <= 0 ? '/' : path.slice(0, cut);
  const result = await client.query(
    `SELECT f.file_ref AS "fileRef", $3::text AS path FROM dir d JOIN file f ON f.dir_id = d.id AND f.scan_id = $1 AND f.name = $4
      WHERE d.path_hash = dir_path_hash($2) AND d.dir_path = $2 AND f.flags & 1 <> 0`, [scanId, parent, path, path.slice(cut + 1)]);
  return result.rows[0];
}

export interface AuditEntry { id: number; scanId: number; path: string; flags: number; size: number; securityId: number; permissions: string; shareId: number | null }

/** Entries of the given scans whose descriptor is one of ids, by ascending row id after a cursor. */
export async function entriesWithDescriptors(client: PoolClient, query: {
  scanIds: number[]; descriptorIds: number[]; shareIds: number[] | null; kind: 'file' | 'dir' | 'all'; afterId: number; limit: number;
}): Promise<AuditEntry[]> {
  if (query.scanIds.length === 0 || query.descriptorIds.length === 0) return [];
  const kindFilter = query.kind === 'file' ? 'AND f.flags & 1 = 0' : query.kind === 'dir' ? 'AND f.flags & 1 <> 0' : '';
  const result = await client.query(
    `SELECT f.id, f.scan_id AS "scanId", CASE WHEN d.dir_path = '/' THEN '/' || f.name ELSE d.dir_path || '/' || f.name END AS path,
            f.flags, f.size_bytes AS size, f.security_id AS "securityId", sd.summary AS permissions, f.share_id AS "shareId"
       FROM file f JOIN dir d ON d.id = f.dir_id JOIN security_descriptor sd ON sd.id = f.security_id
      WHERE f.scan_id = ANY($1::bigint[]) AND f.security_id = ANY($2::bigint[]) AND ($3::bigint[] IS NULL OR f.share_id = ANY($3::bigint[]))
        AND f.id > $4 ${kindFilter}
      ORDER BY f.id LIMIT $5`,
    [query.scanIds, query.descriptorIds, query.shareIds, query.afterId, query.limit]);
  return result.rows;
}

export async function worldDescriptorIds(client: PoolClient): Promise<number[]> {
  const result = await client.query('SELECT id FROM security_descriptor WHERE grants_world_access');
  return result.rows.map((row) => Number(row.id));
}

export interface DescriptorAcl { id: number; hostId: string; ownerUid: number; ownerGid: number; entries: { tag: string; perm: number; id: number | null }[] }

export async function descriptorsOfHosts(client: PoolClient, hostIds: string[]): Promise<DescriptorAcl[]> {
  const result = await client.query(
    `SELECT id, host_id AS "hostId", owner_uid AS "ownerUid", owner_gid AS "ownerGid", entries FROM security_descriptor
      WHERE host_id = ANY($1::text[])`, [hostIds]);
  return result.rows;
}
