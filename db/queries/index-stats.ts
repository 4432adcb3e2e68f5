// Directory subtree totals of an index scan: computed once after the walk (direct
// counts per parent rolled up the tree) and adjusted along ancestors by delta sync.
import type { PoolClient } from 'pg';

export interface DirTotals { files: number; dirs: number; bytes: number; worldFiles: number }
export interface DirStatsRow extends DirTotals { dirRef: number }

const DIR = 1;

/** Direct (non-recursive) totals per directory as the walk summed them, and the directory tree of the scan. */
export async function directTotals(client: PoolClient, scanId: number): Promise<{ direct: DirStatsRow[]; tree: { ref: number; parent: number }[] }> {
  const direct = await client.query(
    `SELECT dir_ref AS "dirRef", direct_files AS files, direct_dirs AS dirs, direct_bytes AS bytes, direct_world_files AS "worldFiles"
       FROM index_dir_stats WHERE scan_id = $1`, [scanId]);
  const tree = await client.query(
    `SELECT file_ref AS ref, parent_ref AS parent FROM file WHERE scan_id = $1 AND flags & ${DIR} <> 0`, [scanId]);
  return { direct: direct.rows, tree: tree.rows };
}

/** Rolls direct totals up the tree (children before parents, iteratively: trees can be deep). */
export function rollUp(direct: DirStatsRow[], tree: { ref: number; parent: number }[]): DirStatsRow[] {
  const totals = new Map<number, DirStatsRow>();
  for (const node of tree) totals.set(node.ref, { dirRef: node.ref, files: 0, dirs: 0, bytes: 0, worldFiles: 0 });
  for (const row of direct) {
    const target = totals.get(row.dirRef);
    if (target) Object.assign(target, { files: row.files, dirs: row.dirs, bytes: row.bytes, worldFiles: row.worldFiles });
  }
  const children = new Map<number, number[]>();
  for (const node of tree) {
    if (node.ref === node.parent || !totals.has(node.parent)) continue;
    const list = children.get(node.parent);
    if (list) list.push(node.ref);
    else children.set(node.parent, [node.ref]);
  }
  const roots = tree.filter((node) => !totals.has(node.parent) || node.ref === node.parent).map((node) => node.ref);
  for (const root of roots) {
    const order: number[] = [];
    const stack = [root];
    while (stack.length > 0) {
      const ref = stack.pop()!;
      order.push(ref);
      for (const child of children.get(ref) ?? []) stack.push(child);
    }
    for (let i = order.length - 1; i >= 0; i -= 1) {
      const node = totals.get(order[i])!;
      for (const child of children.get(order[i]) ?? []) {
        const sub = totals.get(child)!;
        node.files += sub.files;
        node.dirs += sub.dirs;
        node.bytes += sub.bytes;
        node.worldFiles += sub.worldFiles;
      }
    }
  }
  return [...totals.values()];
}

/** Stores subtree totals (the direct totals stay as the walk wrote them, so this can run again). */
export async function saveSubtreeTotals(client: PoolClient, tenantId: string, scanId: number, rows: DirStatsRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 20_000) {
    await client.query(
      `INSERT INTO index_dir_stats (tenant_id, scan_id, dir_ref, files, dirs, bytes, world_files)
       SELECT $1, $2, r."dirRef", r.files, r.dirs, r.bytes, r."worldFiles"
         FROM jsonb_to_recordset($3::jsonb) AS r("dirRef" bigint, files bigint, dirs bigint, bytes bigint, "worldFiles" bigint)
       ON CONFLICT (tenant_id, scan_id, dir_ref) DO UPDATE SET files = EXCLUDED.files, dirs = EXCLUDED.dirs, bytes = EXCLUDED.bytes,
         world_files = EXCLUDED.world_files`,
      [tenantId, scanId, JSON.stringify(rows.slice(i, i + 20_000))]);
  }
}

export async function dirTotals(client: PoolClient, scanId: number, dirRef: number): Promise<DirTotals | undefined> {
  const result = await client.query(
    `SELECT files, dirs, bytes, world_files AS "worldFiles" FROM index_dir_stats WHERE scan_id = $1 AND dir_ref = $2`, [scanId, dirRef]);
  return result.rows[0];
}

/** Directory refs from dirRef up to the volume root, following parent_ref of directory rows. */
export async function ancestorRefs(client: PoolClient, scanId: number, dirRef: number): Promise<number[]> {
  const result = await client.query(
    `WITH RECURSIVE up(ref, depth) AS (
       SELECT $2::bigint, 0
       UNION
       SELECT f.parent_ref, up.depth + 1 FROM up JOIN file f ON f.scan_id = $1 AND f.file_ref = up.ref AND f.flags & ${DIR} <> 0
        WHERE up.depth < 4096 AND f.parent_ref <> f.file_ref)
     SELECT DISTINCT ref FROM up`, [scanId, dirRef]);
  return result.rows.map((row) => Number(row.ref));
}

/** Adds a signed delta to the totals of every listed directory. */
export async function addToDirStats(client: PoolClient, tenantId: string, scanId: number, refs: number[], delta: DirTotals): Promise<void> {
  if (refs.length === 0 || (delta.files === 0 && delta.dirs === 0 && delta.bytes === 0 && delta.worldFiles === 0)) return;
  await client.query(
    `INSERT INTO index_dir_stats (tenant_id, scan_id, dir_ref, files, dirs, bytes, world_files)
     SELECT $1, $2, ref, $4, $5, $6, $7 FROM unnest($3::bigint[]) AS ref
     ON CONFLICT (tenant_id, scan_id, dir_ref) DO UPDATE SET files = index_dir_stats.files + EXCLUDED.files,
       dirs = index_dir_stats.dirs + EXCLUDED.dirs, bytes = index_dir_stats.bytes + EXCLUDED.bytes,
       world_files = index_dir_stats.world_files + EXCLUDED.world_files`,
    [tenantId, scanId, refs, delta.files, delta.dirs, delta.bytes, delta.worldFiles]);
}
