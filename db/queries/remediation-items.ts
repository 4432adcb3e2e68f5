// Work items of a remediation by item-number range: what each host phase (snapshot,
// apply, verify, rollback, drift) still has to do, and the recording of its results.
// Snapshots go in with COPY through a temp table (COPY cannot target RLS tables).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FileState, OpResult, SnapshotItem, SnapshotResult } from '../../activities/remediation-fs';

export type WorkPhase = 'apply' | 'verify' | 'rollback' | 'drift';

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

const hex = (bytes: Uint8Array | null) => (bytes === null ? '\\N' : `\\\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
const num = (value: number | null | undefined) => (value === null || value === undefined ? '\\N' : String(value));
const text = (value: string | null) => (value === null ? '\\N' : value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')));

const SNAPSHOT_COLUMNS = 'item_no, state, file_ref, handle_type, handle, access_acl, default_acl, mode, uid, gid, detail';

/** Stores snapshots (first write wins) and marks items that changed or vanished since planning as skipped. */
export async function saveSnapshots(client: PoolClient, tenantId: string, runId: string, items: SnapshotItem[], results: SnapshotResult[]): Promise<void> {
  if (results.length === 0) return;
  const refOf = new Map(items.map((item) => [item.itemNo, item.fileRef]));
  const lines = results.map((r) => [r.itemNo, r.state, refOf.get(r.itemNo), num(r.handleType), hex(r.handle), hex(r.file?.access ?? null),
    hex(r.file?.defaults ?? null), num(r.file?.mode), num(r.file?.uid), num(r.file?.gid), text(r.detail)].join('\t')).join('\n');
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS rem_snapshot (item_no integer, state text, file_ref bigint, handle_type integer,
    handle bytea, access_acl bytea, default_acl bytea, mode integer, uid bigint, gid bigint, detail text) ON COMMIT DELETE ROWS`);
  await pipeline(Readable.from([Buffer.from(`${lines}\n`)]), client.query(copyFrom(`COPY rem_snapshot (${SNAPSHOT_COLUMNS}) FROM STDIN`)));
  await client.query(
    `INSERT INTO remediation_snapshot (tenant_id, run_id, ${SNAPSHOT_COLUMNS})
     SELECT $1, $2, ${SNAPSHOT_COLUMNS} FROM rem_snapshot ON CONFLICT DO NOTHING`, [tenantId, runId]);
  await client.query(
    `UPDATE remediation_item i SET outcome = CASE WHEN s.state = 'changed' THEN 'skipped_changed' ELSE 'skipped_missing' END,
            outcome_detail = s.detail
       FROM rem_snapshot s WHERE i.run_id = $1 AND i.item_no = s.item_no AND s.state <> 'ok' AND i.outcome IS NULL`, [runId]);
}

const PENDING: Record<WorkPhase, string> = {
  apply: 'i.outcome IS NULL',
  verify: "i.outcome IN ('applied', 'already') AND i.verified IS NULL",
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
      WHERE i.run_id = $1 AND i.item_no BETWEEN $2 AND $3 AND ${PENDING[phase]}
      ORDER BY i.item_no`, [range.runId, range.from, range.to]);
  return result.rows.map((row) => ({
    itemNo: row.itemNo, path: row.path, fileRef: row.fileRef, isDir: row.isDir, handleType: row.handleType, handle: row.handle,
    snapshot: { access: row.access, defaults: row.defaults, mode: row.mode, uid: Number(row.uid), gid: Number(row.gid) },
    targetAcl: row.targetAcl, targetDefault: row.targetDefault, targetModeBits: row.targetModeBits, targetSdId: row.targetSdId, outcome: row.outcome,
  }));
}

const SAVE: Record<Exclude<WorkPhase, 'drift'>, string> = {
  apply: `outcome = u.result, outcome_detail = u.detail, applied_at = CASE WHEN u.result = 'applied' THEN now() ELSE applied_at END`,
  verify: `verified = (u.result = 'ok'), outcome_detail = CASE WHEN u.result = 'ok' THEN outcome_detail ELSE 'verify: ' || u.result || ': ' || coalesce(u.detail, '') END`,
  rollback: 'rollback_outcome = u.result, rollback_detail = u.detail',
};

export async function saveResults(client: PoolClient, phase: Exclude<WorkPhase, 'drift'>, runId: string, results: OpResult[]): Promise<void> {
  if (results.length === 0) return;
  await client.query(
    `UPDATE remediation_item i SET ${SAVE[phase]}
       FROM unnest($2::integer[], $3::text[], $4::text[]) AS u(item_no, result, detail)
      WHERE i.run_id = $1 AND i.item_no = u.item_no`,
    [runId, results.map((r) => r.itemNo), results.map((r) => r.result), results.map((r) => r.detail)]);
}

export type OutcomeCounts = Record<string, number>;

/** Fresh statistics for the work tables after a bulk phase (needs MAINTAIN; skipped quietly without it). */
export async function analyzeWorkTables(client: PoolClient): Promise<void> {
  await client.query('SAVEPOINT analyze_work');
  try {
    await client.query('ANALYZE remediation_item, remediation_snapshot, remediation_transform');
    await client.query('RELEASE SAVEPOINT analyze_work');
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT analyze_work');
  }
}

/** Authoritative counts of a run's items by outcome, verification and rollback outcome. */
export async function outcomeCounts(client: PoolClient, runId: string): Promise<OutcomeCounts> {
  const result = await client.query(
    `SELECT count(*)::int AS items,
            count(*) FILTER (WHERE outcome = 'applied')::int AS applied, count(*) FILTER (WHERE outcome = 'already')::int AS already,
            count(*) FILTER (WHERE outcome = 'skipped_changed')::int AS "skippedChanged",
            count(*) FILTER (WHERE outcome = 'skipped_missing')::int AS "skippedMissing",
            count(*) FILTER (WHERE outcome = 'failed')::int AS failed, count(*) FILTER (WHERE outcome IS NULL)::int AS pending,
            count(*) FILTER (WHERE verified)::int AS verified, count(*) FILTER (WHERE verified = false)::int AS "verifyMismatches",
            count(*) FILTER (WHERE rollback_outcome = 'restored')::int AS restored,
            count(*) FILTER (WHERE rollback_outcome = 'unchanged')::int AS "rollbackUnchanged",
            count(*) FILTER (WHERE rollback_outcome = 'conflict')::int AS "rollbackConflicts",
            count(*) FILTER (WHERE rollback_outcome IN ('failed', 'missing'))::int AS "rollbackFailed",
            (SELECT count(*) FROM remediation_snapshot s WHERE s.run_id = $1)::int AS snapshots
       FROM remediation_item WHERE run_id = $1`, [runId]);
  return result.rows[0];
}
