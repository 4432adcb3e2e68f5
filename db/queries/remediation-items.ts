// Work items of a remediation by item-number range: what each host phase (snapshot,
// apply with its read-back verification, rollback, drift) still has to do, and the
// recording of their results. Recording looks items up by `item_no = ANY(...)`: a join
// with the slice alone hashed every item of the run for each slice of 1,000. Snapshots
// are saved packed per slice (remediation_snapshot_slice); runs snapshotted before that
// have a row per file in remediation_snapshot, and readers take both.
import type { PoolClient } from 'pg';
import type { FileState, OpResult, SnapshotItem, SnapshotResult } from '../../activities/remediation-fs';
import { packSnapshots, unpackSnapshots, type SnapshotRecord } from '../../activities/remediation-snapshot-records';

export type WorkPhase = 'apply' | 'rollback' | 'drift';

export interface ItemRange { runId: string; from: number; to: number }

/** Items of the range not yet snapshotted: slices are saved in item order, so a retry starts after the last saved one. */
export async function snapshotWork(client: PoolClient, range: ItemRange): Promise<SnapshotItem[]> {
  const done = await client.query(
    `SELECT greatest((SELECT max(item_no) FROM remediation_snapshot WHERE run_id = $1 AND item_no BETWEEN $2 AND $3),
                     (SELECT max(last_item) FROM remediation_snapshot_slice WHERE run_id = $1 AND first_item BETWEEN $2 AND $3),
                     $2 - 1) AS last`,
    [range.runId, range.from, range.to]);
  const items = await client.query(
    `SELECT item_no AS "itemNo", path, file_ref::text AS "fileRef", is_dir AS "isDir", source_sd_id::text AS "sourceSdId"
       FROM remediation_item WHERE run_id = $1 AND item_no BETWEEN $2 AND $3 ORDER BY item_no`, [range.runId, Number(done.rows[0].last) + 1, range.to]);
  if (items.rowCount === 0) return [];
  // Each planned descriptor is read once: its items share its bytes (and a thread gets them once per slice).
  const descriptors = await client.query(
    `SELECT id::text, owner_uid AS "ownerUid", owner_gid AS "ownerGid", acl, default_acl AS "defaultAcl" FROM security_descriptor WHERE id = ANY($1::bigint[])`,
    [[...new Set(items.rows.map((row) => row.sourceSdId))]]);
  const descriptorOf = new Map(descriptors.rows.map((sd) => [sd.id as string, sd]));
  return items.rows.flatMap((row) => {
    const sd = descriptorOf.get(row.sourceSdId);
    if (!sd) return [];
    return [{ itemNo: row.itemNo, path: row.path, fileRef: row.fileRef, isDir: row.isDir, sourceUid: Number(sd.ownerUid), sourceGid: Number(sd.ownerGid),
      sourceAcl: sd.acl, sourceDefault: sd.defaultAcl }];
  });
}

/**
 * Stores a slice's snapshots as one packed row (first write wins: a slice overlapping one
 * already saved is not saved again) and marks items that changed or vanished since
 * planning as skipped. Slices of a run are saved one at a time (an advisory lock), so
 * the overlap check holds between concurrent batches and retried attempts.
 */
export async function saveSnapshots(client: PoolClient, tenantId: string, runId: string, results: SnapshotResult[]): Promise<void> {
  if (results.length === 0) return;
  const first = results[0].itemNo;
  const last = results[results.length - 1].itemNo;
  const notOk = results.filter((r) => r.state !== 'ok');
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`remediation-snapshot/${runId}`]);
  const saved = await client.query(
    `INSERT INTO remediation_snapshot_slice (tenant_id, run_id, first_item, last_item, items, not_ok, records)
     SELECT $1, $2, $3, $4, $5, $6, $7
      WHERE NOT EXISTS (SELECT 1 FROM remediation_snapshot_slice WHERE run_id = $2 AND first_item <= $4 AND last_item >= $3)
        AND NOT EXISTS (SELECT 1 FROM remediation_snapshot WHERE run_id = $2 AND item_no BETWEEN $3 AND $4)`,
    [tenantId, runId, first, last, results.length, notOk.length, packSnapshots(results)]);
  if (saved.rowCount === 0 || notOk.length === 0) return;
  await client.query(
    `UPDATE remediation_item i SET outcome = CASE WHEN u.state = 'changed' THEN 'skipped_changed' ELSE 'skipped_missing' END, outcome_detail = u.detail
       FROM unnest($2::integer[], $3::text[], $4::text[]) AS u(item_no, state, detail)
      WHERE i.run_id = $1 AND i.item_no = ANY($2::integer[]) AND i.item_no = u.item_no AND i.outcome IS NULL`,
    [runId, notOk.map((r) => r.itemNo), notOk.map((r) => r.state), notOk.map((r) => r.detail)]);
}

/** The snapshot of every item in the range that has one, by item number (first write wins). */
export async function snapshotsOf(client: PoolClient, range: ItemRange): Promise<Map<number, SnapshotRecord>> {
  const byItem = new Map<number, SnapshotRecord>();
  const rows = await client.query(
    `SELECT item_no AS "itemNo", state, handle_type AS "handleType", handle, access_acl AS access, default_acl AS defaults, mode, uid, gid, detail
       FROM remediation_snapshot WHERE run_id = $1 AND item_no BETWEEN $2 AND $3`, [range.runId, range.from, range.to]);
  for (const row of rows.rows) {
    const file = row.mode === null ? null : { access: row.access, defaults: row.defaults, mode: row.mode, uid: Number(row.uid), gid: Number(row.gid) };
    byItem.set(row.itemNo, { itemNo: row.itemNo, state: row.state, handleType: row.handleType, handle: row.handle, file, detail: row.detail });
  }
  const slices = await client.query(
    `SELECT records FROM remediation_snapshot_slice WHERE run_id = $1 AND first_item <= $3 AND last_item >= $2 ORDER BY first_item, taken_at`,
    [range.runId, range.from, range.to]);
  for (const slice of slices.rows) {
    for (const record of unpackSnapshots(slice.records)) {
      if (record.itemNo >= range.from && record.itemNo <= range.to && !byItem.has(record.itemNo)) byItem.set(record.itemNo, record);
    }
  }
  return byItem;
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

/**
 * Items of the range the phase still has to do whose file was snapshotted as planned, with
 * that snapshot and their target, in item (inode) order. Targets are read once per source
 * descriptor (an item's target is its transformation's, as the plan copied it).
 */
export async function phaseWork(client: PoolClient, phase: WorkPhase, range: ItemRange): Promise<WorkRow[]> {
  const result = await client.query(
    `SELECT i.item_no AS "itemNo", i.path, i.file_ref::text AS "fileRef", i.is_dir AS "isDir", i.source_sd_id::text AS "sourceSdId",
            i.target_sd_id::text AS "targetSdId", i.outcome
       FROM remediation_item i
      WHERE i.run_id = $1 AND i.item_no BETWEEN $2 AND $3 AND ${PENDING[phase]}
      ORDER BY i.item_no`, [range.runId, range.from, range.to]);
  if (result.rowCount === 0) return [];
  const transforms = await client.query(
    `SELECT source_sd_id::text AS "sourceSdId", target_acl AS "targetAcl", target_default AS "targetDefault", target_mode_bits AS "targetModeBits"
       FROM remediation_transform WHERE run_id = $1 AND source_sd_id = ANY($2::bigint[])`,
    [range.runId, [...new Set(result.rows.map((row) => row.sourceSdId))]]);
  const targetOf = new Map(transforms.rows.map((t) => [t.sourceSdId as string, t]));
  const snapshots = await snapshotsOf(client, range);
  const rows: WorkRow[] = [];
  for (const row of result.rows) {
    const snapshot = snapshots.get(row.itemNo);
    const target = targetOf.get(row.sourceSdId);
    if (snapshot?.state !== 'ok' || !snapshot.file || !target) continue;
    rows.push({
      itemNo: row.itemNo, path: row.path, fileRef: row.fileRef, isDir: row.isDir, handleType: snapshot.handleType, handle: snapshot.handle,
      snapshot: snapshot.file, targetAcl: target.targetAcl, targetDefault: row.isDir ? target.targetDefault : null,
      targetModeBits: target.targetModeBits, targetSdId: row.targetSdId, outcome: row.outcome,
    });
  }
  return rows;
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

/**
 * Records a slice of rollback results; index rows of files back on their snapshot get
 * their old descriptor and their snapshot's mode (`modeOf`) in the same statement.
 */
export async function saveRollbackResults(client: PoolClient, runId: string, results: OpResult[], modeOf: (itemNo: number) => number): Promise<void> {
  if (results.length === 0) return;
  await client.query(
    `WITH saved AS (
       UPDATE remediation_item i SET rollback_outcome = u.result, rollback_detail = u.detail
         FROM unnest($2::integer[], $3::text[], $4::text[], $5::integer[]) AS u(item_no, result, detail, mode)
        WHERE i.run_id = $1 AND i.item_no = ANY($2::integer[]) AND i.item_no = u.item_no
        RETURNING i.file_id, i.source_sd_id, i.rollback_outcome, u.mode)
     UPDATE file f SET security_id = saved.source_sd_id, mode = saved.mode
       FROM saved
      WHERE saved.rollback_outcome IN ('restored', 'unchanged') AND f.id = saved.file_id
        AND f.security_id IS DISTINCT FROM saved.source_sd_id`,
    [runId, results.map((r) => r.itemNo), results.map((r) => r.result), results.map((r) => r.detail), results.map((r) => modeOf(r.itemNo))]);
}

/**
 * After a rollback, points index rows of files back on their snapshot at their old
 * descriptor and mode, for items whose slices did not do it (older workers, retries).
 */
export async function restoreIndexRows(client: PoolClient, range: ItemRange): Promise<number> {
  const stale = await client.query(
    `SELECT i.item_no AS "itemNo", i.file_id AS "fileId", i.source_sd_id AS "sourceSdId" FROM remediation_item i JOIN file f ON f.id = i.file_id
      WHERE i.run_id = $1 AND i.item_no BETWEEN $2 AND $3 AND i.rollback_outcome IN ('restored', 'unchanged')
        AND f.security_id IS DISTINCT FROM i.source_sd_id`, [range.runId, range.from, range.to]);
  if (stale.rowCount === 0) return 0;
  const snapshots = await snapshotsOf(client, range);
  const rows = stale.rows.filter((row) => snapshots.get(row.itemNo)?.file);
  const updated = await client.query(
    `UPDATE file f SET security_id = u.source_sd_id, mode = u.mode
       FROM unnest($1::bigint[], $2::bigint[], $3::integer[]) AS u(file_id, source_sd_id, mode) WHERE f.id = u.file_id`,
    [rows.map((row) => row.fileId), rows.map((row) => row.sourceSdId), rows.map((row) => snapshots.get(row.itemNo)!.file!.mode)]);
  return updated.rowCount ?? 0;
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
            ((SELECT count(*) FROM remediation_snapshot s WHERE s.run_id = $1)
              + (SELECT coalesce(sum(items), 0) FROM remediation_snapshot_slice s WHERE s.run_id = $1))::int AS snapshots
       FROM remediation_item WHERE run_id = $1`, [runId]);
  return result.rows[0];
}
