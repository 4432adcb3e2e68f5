// Work items of a remediation by item-number range: what each host phase (snapshot,
// apply with its read-back verification, rollback, drift) still has to do, and the
// recording of their results. Recording looks items up by `item_no = ANY(...)`: a join
// with the slice alone hashed every item of the run for each slice of 1,000.
import type { PoolClient } from 'pg';
import type { FileState, OpResult, SnapshotItem, SnapshotResult } from '../../activities/remediation-fs';

export type WorkPhase = 'apply' | 'rollback' | 'drift';

export interface ItemRange { runId: string; from: number; to: number }

/** Items of the range not yet snapshotted: slices are saved in item order, so a retry starts after the last saved one. */
export async function snapshotWork(client: PoolClient, range: ItemRange): Promise<SnapshotItem[]> {
  const done = await client.query(
    'SELECT coalesce(max(item_no), $2 - 1) AS last FROM remediation_snapshot WHERE run_id = $1 AND item_no BETWEEN $2 AND $3',
    [range.runId, range.from, range.to]);
  const result = await client.query(
    `SELECT i.item_no AS "itemNo", i.path, i.file_ref::text AS "fileRef", i.is_dir AS "isDir", sd.owner_uid AS "sourceUid",
            sd.owner_gid AS "sourceGid", sd.acl AS "sourceAcl", sd.default_acl AS "sourceDefault"
       FROM remediation_item i JOIN security_descriptor sd ON sd.id = i.source_sd_id
      WHERE i.run_id = $1 AND i.item_no BETWEEN $2 AND $3
      ORDER BY i.item_no`, [range.runId, Number(done.rows[0].last) + 1, range.to]);
  return result.rows.map((row) => ({ ...row, sourceUid: Number(row.sourceUid), sourceGid: Number(row.sourceGid) }));
}

/**
 * Stores snapshots (first write wins) and marks items that changed or vanished since
 * planning as skipped, in one statement over arrays (COPY cannot target RLS tables).
 */
export async function saveSnapshots(client: PoolClient, tenantId: string, runId: string, items: SnapshotItem[], results: SnapshotResult[]): Promise<void> {
  if (results.length === 0) return;
  const refOf = new Map(items.map((item) => [item.itemNo, item.fileRef]));
  const column = <T>(pick: (r: SnapshotResult) => T) => results.map(pick);
  await client.query(
    `WITH s AS (
       SELECT * FROM unnest($3::integer[], $4::text[], $5::bigint[], $6::integer[], $7::bytea[], $8::bytea[], $9::bytea[], $10::integer[],
                            $11::bigint[], $12::bigint[], $13::text[])
         AS s(item_no, state, file_ref, handle_type, handle, access_acl, default_acl, mode, uid, gid, detail)),
     saved AS (
       INSERT INTO remediation_snapshot (tenant_id, run_id, item_no, state, file_ref, handle_type, handle, access_acl, default_acl, mode, uid, gid, detail)
       SELECT $1, $2, s.* FROM s ON CONFLICT DO NOTHING)
     UPDATE remediation_item i SET outcome = CASE WHEN s.state = 'changed' THEN 'skipped_changed' ELSE 'skipped_missing' END, outcome_detail = s.detail
       FROM s WHERE i.run_id = $2 AND i.item_no = ANY($3::integer[]) AND i.item_no = s.item_no AND s.state <> 'ok' AND i.outcome IS NULL`,
    [tenantId, runId, column((r) => r.itemNo), column((r) => r.state), column((r) => refOf.get(r.itemNo)), column((r) => r.handleType),
      column((r) => r.handle), column((r) => r.file?.access ?? null), column((r) => r.file?.defaults ?? null), column((r) => r.file?.mode ?? null),
      column((r) => r.file?.uid ?? null), column((r) => r.file?.gid ?? null), column((r) => r.detail)]);
}

const PENDING: Record<WorkPhase, string> = {
  apply: 'i.outcome IS NULL',
  rollback: "(i.outcome IS NULL OR i.outcome IN ('applied', 'already', 'failed')) AND i.rollback_outcome IS NULL",
  drift: "i.outcome IN ('applied', 'already') AND i.verified AND i.rollback_outcome IS NULL",
};

export interface WorkRow {
  itemNo: number; path: string; fileRef: string; isDir: boolean; handleType: number | null; handle: Buffer | null; snapshot: FileState;
  targetAcl: Buffer; targetDefault: Buffer | null; targetModeBits: number; targetSdId: string; outcome: string | null;
}

/** Items of the range the phase still has to do, with their snapshot, in item (inode) order. */
export async function phaseWork(client: PoolClient, phase: WorkPhase, range: ItemRange): Promise<WorkRow[]> {
  const result = await client.query(
    `SELECT i.item_no AS "itemNo", i.path, i.file_ref::text AS "fileRef", i.is_dir AS "isDir", s.handle_type AS "handleType", s.handle,
            s.access_acl AS access, s.default_acl AS defaults, s.mode, s.uid, s.gid, i.target_acl AS "targetAcl",
            i.target_default AS "targetDefault", t.target_mode_bits AS "targetModeBits", i.target_sd_id::text AS "targetSdId", i.outcome
       FROM remediation_item i
       JOIN remediation_snapshot s ON s.tenant_id = i.tenant_id AND s.run_id = i.run_id AND s.item_no = i.item_no AND s.state = 'ok'
       JOIN remediation_transform t ON t.tenant_id = i.tenant_id AND t.run_id = i.run_id AND t.source_sd_id = i.source_sd_id
      WHERE i.run_id = $1 AND i.item_no BETWEEN $2 AND $3 AND s.run_id = $1 AND s.item_no BETWEEN $2 AND $3 AND ${PENDING[phase]}
      ORDER BY i.item_no`, [range.runId, range.from, range.to]);
  return result.rows.map((row) => ({
    itemNo: row.itemNo, path: row.path, fileRef: row.fileRef, isDir: row.isDir, handleType: row.handleType, handle: row.handle,
    snapshot: { access: row.access, defaults: row.defaults, mode: row.mode, uid: Number(row.uid), gid: Number(row.gid) },
    targetAcl: row.targetAcl, targetDefault: row.targetDefault, targetModeBits: row.targetModeBits, targetSdId: row.targetSdId, outcome: row.outcome,
  }));
}

/**
 * Records a slice of apply results (with each file's read-back verification) and, in the
 * same statement, points the index rows of its verified files at their target descriptor:
 * the index follows the files slice by slice, while the host works on the next slice.
 */
export async function saveApplyResults(client: PoolClient, runId: string, results: OpResult[]): Promise<void> {
  if (results.length === 0) return;
  await client.query(
    `WITH saved AS (
       UPDATE remediation_item i SET outcome = u.result, outcome_detail = u.detail, verified = u.verified,
              applied_at = CASE WHEN u.result = 'applied' THEN now() ELSE i.applied_at END
         FROM unnest($2::integer[], $3::text[], $4::text[], $5::boolean[]) AS u(item_no, result, detail, verified)
        WHERE i.run_id = $1 AND i.item_no = ANY($2::integer[]) AND i.item_no = u.item_no
        RETURNING i.tenant_id, i.file_id, i.source_sd_id, i.target_sd_id, i.verified)
     UPDATE file f SET security_id = saved.target_sd_id, mode = (f.mode & ~511) | t.target_mode_bits
       FROM saved JOIN remediation_transform t ON t.tenant_id = saved.tenant_id AND t.run_id = $1 AND t.source_sd_id = saved.source_sd_id
      WHERE saved.verified AND f.id = saved.file_id AND f.security_id IS DISTINCT FROM saved.target_sd_id`,
    [runId, results.map((r) => r.itemNo), results.map((r) => r.result), results.map((r) => r.detail), results.map((r) => r.verified ?? null)]);
}

/** Records a slice of rollback results; index rows of files back on their snapshot get their old descriptor and mode in the same statement. */
export async function saveRollbackResults(client: PoolClient, runId: string, results: OpResult[]): Promise<void> {
  if (results.length === 0) return;
  await client.query(
    `WITH saved AS (
       UPDATE remediation_item i SET rollback_outcome = u.result, rollback_detail = u.detail
         FROM unnest($2::integer[], $3::text[], $4::text[]) AS u(item_no, result, detail)
        WHERE i.run_id = $1 AND i.item_no = ANY($2::integer[]) AND i.item_no = u.item_no
        RETURNING i.tenant_id, i.item_no, i.file_id, i.source_sd_id, i.rollback_outcome)
     UPDATE file f SET security_id = saved.source_sd_id, mode = s.mode
       FROM saved JOIN remediation_snapshot s ON s.tenant_id = saved.tenant_id AND s.run_id = $1 AND s.item_no = saved.item_no
      WHERE saved.rollback_outcome IN ('restored', 'unchanged') AND f.id = saved.file_id
        AND f.security_id IS DISTINCT FROM saved.source_sd_id`,
    [runId, results.map((r) => r.itemNo), results.map((r) => r.result), results.map((r) => r.detail)]);
}

export type OutcomeCounts = Record<string, number>;

/** Authoritative counts of a run's items by outcome, verification and rollback outcome. */
export async function outcomeCounts(client: PoolClient, runId: string): Promise<OutcomeCounts> {
  const result = await client.query(
    `SELECT count(*)::int AS items,
            count(*) FILTER (WHERE outcome = 'applied')::int AS applied, count(*) FILTER (WHERE outcome = 'already')::int AS already,
            count(*) FILTER (WHERE outcome = 'skipped_changed')::int AS "skippedChanged",
            count(*) FILTER (WHERE outcome = 'skipped_missing')::int AS "skippedMissing",
            count(*) FILTER (WHERE outcome = 'failed')::int AS failed, count(*) FILTER (WHERE outcome IS NULL)::int AS pending,
            count(*) FILTER (WHERE verified)::int AS verified, count(*) FILTER (WHERE verified = false)::int AS "verifyMismatches",
            count(*) FILTER (WHERE outcome IN ('applied', 'already') AND verified IS NULL)::int AS unverified,
            count(*) FILTER (WHERE rollback_outcome = 'restored')::int AS restored,
            count(*) FILTER (WHERE rollback_outcome = 'unchanged')::int AS "rollbackUnchanged",
            count(*) FILTER (WHERE rollback_outcome = 'conflict')::int AS "rollbackConflicts",
            count(*) FILTER (WHERE rollback_outcome IN ('failed', 'missing'))::int AS "rollbackFailed",
            (SELECT count(*) FROM remediation_snapshot s WHERE s.run_id = $1)::int AS snapshots
       FROM remediation_item WHERE run_id = $1`, [runId]);
  return result.rows[0];
}
