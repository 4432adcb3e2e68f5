// Row-level changes of a live index for delta sync: find an entry by path or inode,
// upsert it, delete a subtree, and move a directory's subtree to a new path.
import type { PoolClient } from 'pg';
import type { EntryRow } from '../../activities/index-rows';

const DIR = 1;

export interface IndexedRow {
  id: number; dirPath: string; name: string; fileRef: number; parentRef: number; flags: number; size: number; world: boolean;
}

const ROW_COLUMNS = `f.id, d.dir_path AS "dirPath", f.name, f.file_ref AS "fileRef", f.parent_ref AS "parentRef", f.flags,
  f.size_bytes AS size, coalesce(sd.grants_world_access, false) AS world`;

export async function findByPath(client: PoolClient, scanId: number, dirPath: string, name: string): Promise<IndexedRow | undefined> {
  const result = await client.query(
    `SELECT ${ROW_COLUMNS} FROM dir d JOIN file f ON f.dir_id = d.id AND f.scan_id = $1 AND f.name = $3
       LEFT JOIN security_descriptor sd ON sd.id = f.security_id
      WHERE d.path_hash = dir_path_hash($2) AND d.dir_path = $2`, [scanId, dirPath, name]);
  return result.rows[0];
}

/** Directory rows with this inode (only directories are indexed by inode). */
export async function findDirectoriesByRef(client: PoolClient, scanId: number, fileRef: number): Promise<IndexedRow[]> {
  const result = await client.query(
    `SELECT ${ROW_COLUMNS} FROM file f JOIN dir d ON d.id = f.dir_id LEFT JOIN security_descriptor sd ON sd.id = f.security_id
      WHERE f.scan_id = $1 AND f.file_ref = $2 AND f.flags & ${DIR} <> 0 ORDER BY f.id`, [scanId, fileRef]);
  return result.rows;
}

export async function ensureDir(client: PoolClient, tenantId: string, dirPath: string): Promise<number> {
  await client.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path) VALUES ($1, dir_path_hash($2), $2) ON CONFLICT DO NOTHING`, [tenantId, dirPath]);
  const result = await client.query('SELECT id FROM dir WHERE path_hash = dir_path_hash($1) AND dir_path = $1', [dirPath]);
  return result.rows[0].id;
}

export async function upsertEntry(client: PoolClient, tenantId: string, scanId: number, dirId: number, row: EntryRow): Promise<void> {
  await upsertEntries(client, tenantId, scanId, [{ dirId, row }]);
}

/** Inserts or refreshes entries by (scan, directory, name): applying the same change twice gives the same rows. */
export async function upsertEntries(client: PoolClient, tenantId: string, scanId: number, entries: { dirId: number; row: EntryRow }[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 5_000) {
    const json = JSON.stringify(entries.slice(i, i + 5_000).map(({ dirId, row }) => ({
      ...row, dirId, size: String(row.size), ino: String(row.ino), parentIno: String(row.parentIno),
    })));
    await client.query(
      `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix, btime_unix,
                         file_ref, parent_ref, security_id, share_id, mode, uid, gid, flags)
       SELECT $1, $2, r."dirId", r.name, r.size, r.atime, r.mtime, r.ctime, r.btime, r.ino, r."parentIno", r."securityId",
              r."shareId", r.mode, r.uid, r.gid, r.flags
         FROM jsonb_to_recordset($3::jsonb) AS r("dirId" bigint, name text, size bigint, atime bigint, mtime bigint, ctime bigint,
              btime bigint, ino bigint, "parentIno" bigint, "securityId" bigint, "shareId" bigint, mode integer, uid bigint, gid bigint, flags integer)
       ON CONFLICT (scan_id, dir_id, name) DO UPDATE SET size_bytes = EXCLUDED.size_bytes, atime_unix = EXCLUDED.atime_unix,
         mtime_unix = EXCLUDED.mtime_unix, ctime_unix = EXCLUDED.ctime_unix, btime_unix = EXCLUDED.btime_unix,
         file_ref = EXCLUDED.file_ref, parent_ref = EXCLUDED.parent_ref, security_id = EXCLUDED.security_id,
         share_id = EXCLUDED.share_id, mode = EXCLUDED.mode, uid = EXCLUDED.uid, gid = EXCLUDED.gid, flags = EXCLUDED.flags`,
      [tenantId, scanId, json]);
  }
}

export interface SubtreeDir { ref: number; path: string; dirId: number | null }

/** The directories of a subtree (the root included): inode, escaped path, and the dir row of that path. */
export async function subtreeDirs(client: PoolClient, scanId: number, rootRef: number, rootPath: string): Promise<SubtreeDir[]> {
  const result = await client.query(
    `WITH RECURSIVE sub(ref, path, depth) AS (
       SELECT $2::bigint, $3::text, 0
       UNION ALL
       SELECT f.file_ref, CASE WHEN sub.path = '/' THEN '/' || f.name ELSE sub.path || '/' || f.name END, sub.depth + 1
         FROM sub JOIN file f ON f.scan_id = $1 AND f.parent_ref = sub.ref AND f.flags & ${DIR} <> 0 WHERE sub.depth < 4096
     )
     SELECT sub.ref, sub.path, d.id AS "dirId" FROM sub LEFT JOIN dir d ON d.path_hash = dir_path_hash(sub.path) AND d.dir_path = sub.path`,
    [scanId, rootRef, rootPath]);
  return result.rows.map((row) => ({ ref: Number(row.ref), path: row.path, dirId: row.dirId === null ? null : Number(row.dirId) }));
}

function pathOf(row: IndexedRow): string {
  return row.dirPath === '/' ? `/${row.name}` : `${row.dirPath}/${row.name}`;
}

/** Deletes a row and, for a directory, everything below it (by the dir rows of its subtree's paths). */
export async function deleteEntry(client: PoolClient, scanId: number, row: IndexedRow): Promise<void> {
  if (row.flags & DIR) {
    const dirs = await subtreeDirs(client, scanId, row.fileRef, pathOf(row));
    const dirIds = dirs.map((d) => d.dirId).filter((id): id is number => id !== null);
    await client.query('DELETE FROM file WHERE scan_id = $1 AND dir_id = ANY($2::bigint[])', [scanId, dirIds]);
    await client.query('DELETE FROM index_dir_stats WHERE scan_id = $1 AND dir_ref = ANY($2::bigint[])', [scanId, dirs.map((d) => d.ref)]);
  }
  await client.query('DELETE FROM file WHERE id = $1', [row.id]);
}

/** For a directory moving to newPath: each dir row of its subtree and the path it will have. */
async function subtreeMapping(client: PoolClient, scanId: number, row: IndexedRow, newPath: string): Promise<{ oldId: number; newPath: string }[]> {
  if (!(row.flags & DIR)) return [];
  const oldRoot = pathOf(row);
  const dirs = await subtreeDirs(client, scanId, row.fileRef, oldRoot);
  return dirs.filter((d) => d.dirId !== null).map((d) => ({ oldId: d.dirId!, newPath: newPath + d.path.slice(oldRoot.length) }));
}

/**
 * Rows already indexed at the new paths of a moving directory's entries (written by
 * earlier events about the same entries under their new names): the move replaces them.
 */
export async function findMoveConflicts(client: PoolClient, scanId: number, row: IndexedRow, newPath: string): Promise<IndexedRow[]> {
  const mapping = await subtreeMapping(client, scanId, row, newPath);
  if (mapping.length === 0) return [];
  const result = await client.query(
    `SELECT ${ROW_COLUMNS} FROM jsonb_to_recordset($2::jsonb) AS m("oldId" bigint, "newPath" text)
       JOIN dir d ON d.path_hash = dir_path_hash(m."newPath") AND d.dir_path = m."newPath"
       JOIN file f ON f.scan_id = $1 AND f.dir_id = d.id
       LEFT JOIN security_descriptor sd ON sd.id = f.security_id
      WHERE EXISTS (SELECT 1 FROM file o WHERE o.scan_id = $1 AND o.dir_id = m."oldId" AND o.name = f.name)`,
    [scanId, JSON.stringify(mapping)]);
  return result.rows;
}

/** Re-points a moved entry, and every row below a moved directory, at the directories of its new path. */
export async function moveEntry(client: PoolClient, tenantId: string, scanId: number, row: IndexedRow, to: { dirId: number; name: string; parentRef: number; newPath: string }): Promise<void> {
  const mapping = await subtreeMapping(client, scanId, row, to.newPath);
  await client.query('UPDATE file SET dir_id = $2, name = $3, parent_ref = $4 WHERE id = $1', [row.id, to.dirId, to.name, to.parentRef]);
  if (mapping.length === 0) return;
  const json = JSON.stringify(mapping);
  await client.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path)
     SELECT $1, dir_path_hash(m."newPath"), m."newPath" FROM jsonb_to_recordset($2::jsonb) AS m("oldId" bigint, "newPath" text)
      ORDER BY 2, 3 ON CONFLICT DO NOTHING`, [tenantId, json]);
  await client.query(
    `UPDATE file f SET dir_id = nd.id
       FROM jsonb_to_recordset($2::jsonb) AS m("oldId" bigint, "newPath" text)
       JOIN dir nd ON nd.path_hash = dir_path_hash(m."newPath") AND nd.dir_path = m."newPath"
      WHERE f.scan_id = $1 AND f.dir_id = m."oldId"`, [scanId, json]);
}
