// Tiering plans: the plan row with its resumable progress, the latest OK scan of a
// share, idle-file candidates page by page, and the per-folder summary.
import type { PoolClient } from 'pg';
import type { IdleBasis, TieringPolicy } from '../../lib/tier2-policy';

export interface PlanRow {
  id: string; shareName: string; scanId: number | null; policy: TieringPolicy; status: 'PLANNING' | 'PLANNED' | 'FAILED';
  statusReason: string | null; asOf: Date; requestedBy: string; workflowId: string; progress: PlanProgress;
  summary: Record<string, unknown>; plannedFiles: number; plannedBytes: number; createdAt: Date; finishedAt: Date | null;
}

export interface PlanProgress {
  afterFileId?: number; candidates?: number; planned?: number; plannedBytes?: number; alreadyPlanned?: number;
  filtered?: number; outsideRoot?: number; unsafePath?: number; capped?: boolean; done?: boolean;
}

const PLAN_COLUMNS = `id, share_name AS "shareName", scan_id AS "scanId", policy, status, status_reason AS "statusReason",
  as_of AS "asOf", requested_by AS "requestedBy", workflow_id AS "workflowId", progress, summary,
  planned_files AS "plannedFiles", planned_bytes AS "plannedBytes", created_at AS "createdAt", finished_at AS "finishedAt"`;

export async function insertPlan(client: PoolClient, tenantId: string, plan: { id: string; shareName: string; policy: TieringPolicy; requestedBy: string; workflowId: string }): Promise<void> {
  await client.query(
    `INSERT INTO tiering_plan (id, tenant_id, share_name, policy, requested_by, workflow_id) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO NOTHING`,
    [plan.id, tenantId, plan.shareName, JSON.stringify(plan.policy), plan.requestedBy, plan.workflowId]);
}

export async function getPlan(client: PoolClient, planId: string): Promise<PlanRow | undefined> {
  return (await client.query(`SELECT ${PLAN_COLUMNS} FROM tiering_plan WHERE id = $1`, [planId])).rows[0];
}

export async function latestOkScan(client: PoolClient, shareName: string): Promise<{ id: number; srcType: string } | undefined> {
  const result = await client.query(
    `SELECT id, src_type AS "srcType" FROM scan WHERE share_name = $1 AND status = 'OK' ORDER BY started_at DESC, id DESC LIMIT 1`,
    [shareName]);
  return result.rows[0];
}

export async function setPlanScan(client: PoolClient, planId: string, scanId: number): Promise<void> {
  await client.query(`UPDATE tiering_plan SET scan_id = $2 WHERE id = $1 AND scan_id IS NULL`, [planId, scanId]);
}

export async function savePlanProgress(client: PoolClient, planId: string, progress: PlanProgress): Promise<void> {
  await client.query(`UPDATE tiering_plan SET progress = $2 WHERE id = $1`, [planId, JSON.stringify(progress)]);
}

export interface Candidate { fileId: number; dirId: number; dirPath: string; name: string; size: number; atime: number; mtime: number }

/** The scan's idle files after a file id, in id order, with their directory paths. */
export function candidatesQuery(basis: IdleBasis): string {
  const idleColumn = basis === 'mtime' ? 'f.mtime_unix' : 'f.atime_unix';
  return `SELECT f.id AS "fileId", f.dir_id AS "dirId", d.dir_path AS "dirPath", f.name, f.size_bytes AS size,
                 f.atime_unix AS atime, f.mtime_unix AS mtime
            FROM file f JOIN dir d ON d.id = f.dir_id
           WHERE f.scan_id = $1 AND f.id > $2 AND ${idleColumn} <= $3 AND f.size_bytes >= $4
           ORDER BY f.id`;
}

/**
 * Opens a cursor over candidatesQuery: one query for the whole plan (one plan, one
 * sort), fetched page by page. Lives as long as the caller's transaction, which it
 * plans for reading every row.
 */
export async function openCandidates(client: PoolClient, query: { scanId: number; afterFileId: number; cutoff: number; basis: IdleBasis; minSize: number }): Promise<void> {
  // The whole cursor is read: planned for a fast start, Postgres walks file_pkey over every scan's files in id order.
  await client.query('SET LOCAL cursor_tuple_fraction = 1');
  await client.query(`DECLARE tiering_candidates NO SCROLL CURSOR FOR ${candidatesQuery(query.basis)}`,
    [query.scanId, query.afterFileId, query.cutoff, query.minSize]);
}

export async function fetchCandidates(client: PoolClient, limit: number): Promise<Candidate[]> {
  return (await client.query(`FETCH ${Math.max(1, Math.floor(limit))} FROM tiering_candidates`)).rows;
}

export interface FolderSummary { folder: string; files: number; bytes: number }

export async function summarisePlan(client: PoolClient, planId: string, maxFolders: number): Promise<{ files: number; bytes: number; folders: FolderSummary[]; folderCount: number }> {
  const folders = await client.query(
    `SELECT CASE WHEN position('/' IN rel_path) > 0 THEN split_part(rel_path, '/', 1) ELSE '' END AS folder,
            count(*)::bigint AS files, coalesce(sum(size_bytes), 0)::bigint AS bytes
       FROM tier_object WHERE plan_id = $1 GROUP BY 1 ORDER BY bytes DESC, folder`, [planId]);
  const rows = folders.rows as FolderSummary[];
  return {
    files: rows.reduce((n, row) => n + Number(row.files), 0), bytes: rows.reduce((n, row) => n + Number(row.bytes), 0),
    folders: rows.slice(0, maxFolders), folderCount: rows.length,
  };
}

export async function finishPlan(client: PoolClient, planId: string, summary: Record<string, unknown>, files: number, bytes: number): Promise<void> {
  await client.query(
    `UPDATE tiering_plan SET status = 'PLANNED', summary = $2, planned_files = $3, planned_bytes = $4, finished_at = coalesce(finished_at, now())
      WHERE id = $1 AND status = 'PLANNING'`, [planId, JSON.stringify(summary), files, bytes]);
}

export async function failPlan(client: PoolClient, planId: string, reason: string): Promise<void> {
  await client.query(
    `UPDATE tiering_plan SET status = 'FAILED', status_reason = $2, finished_at = now() WHERE id = $1 AND status = 'PLANNING'`,
    [planId, reason.slice(0, 2000)]);
}

export async function listPlans(client: PoolClient, limit: number): Promise<PlanRow[]> {
  return (await client.query(`SELECT ${PLAN_COLUMNS} FROM tiering_plan ORDER BY created_at DESC LIMIT $1`, [limit])).rows;
}
