// Drift of remediated files from their run's target descriptor: scheduled checks,
// the files found drifted (kept open until a later check finds them back on target),
// and the reads behind GET /audit/drift and a run's drift summary.
import type { PoolClient } from 'pg';
import type { OpResult } from '../../activities/remediation-fs';
import type { WorkRow } from './remediation-items';

export async function startDriftCheck(client: PoolClient, tenantId: string, checkId: string, workflowId: string): Promise<void> {
  await client.query(
    `INSERT INTO remediation_drift_check (id, tenant_id, workflow_id) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [checkId, tenantId, workflowId]);
}

export async function finishDriftCheck(client: PoolClient, checkId: string, totals: { runs: number; checked: number; drifted: number; problems: string[] }): Promise<void> {
  await client.query(
    `UPDATE remediation_drift_check SET finished_at = now(), runs = $2, checked = $3, drifted = $4, problems = $5 WHERE id = $1`,
    [checkId, totals.runs, totals.checked, totals.drifted, JSON.stringify(totals.problems.slice(0, 100))]);
}

/** Completed runs (not rolled back) with verified items: what a drift check compares. */
export async function driftTargets(client: PoolClient): Promise<{ runId: string; hostId: string; items: number }[]> {
  const result = await client.query(
    `SELECT r.id AS "runId", r.host_id AS "hostId", coalesce(max(i.item_no), 0)::int AS items
       FROM remediation_run r JOIN remediation_item i ON i.run_id = r.id
      WHERE r.status = 'COMPLETED' AND r.host_id IS NOT NULL GROUP BY r.id, r.host_id ORDER BY r.id`);
  return result.rows;
}

export async function recordDrift(client: PoolClient, tenantId: string, runId: string, checkId: string, results: OpResult[], rows: WorkRow[]): Promise<void> {
  const byNo = new Map(rows.map((row) => [row.itemNo, row]));
  const drifted = results.filter((r) => r.result !== 'ok');
  const fine = results.filter((r) => r.result === 'ok').map((r) => r.itemNo);
  if (fine.length > 0) {
    await client.query(
      `UPDATE remediation_drift SET resolved_at = now(), last_check_id = $3 WHERE run_id = $1 AND item_no = ANY($2::integer[]) AND resolved_at IS NULL`,
      [runId, fine, checkId]);
  }
  if (drifted.length === 0) return;
  await client.query(
    `INSERT INTO remediation_drift (tenant_id, run_id, item_no, path, state, expected_sd_id, found, last_check_id)
     SELECT $1, $2, u.item_no, u.path, u.state, u.expected, u.found, $3
       FROM unnest($4::integer[], $5::text[], $6::text[], $7::bigint[], $8::text[]) AS u(item_no, path, state, expected, found)
     ON CONFLICT (tenant_id, run_id, item_no) DO UPDATE SET state = EXCLUDED.state, found = EXCLUDED.found, last_seen_at = now(),
       last_check_id = EXCLUDED.last_check_id,
       first_seen_at = CASE WHEN remediation_drift.resolved_at IS NULL THEN remediation_drift.first_seen_at ELSE now() END, resolved_at = NULL`,
    [tenantId, runId, checkId, drifted.map((r) => r.itemNo), drifted.map((r) => byNo.get(r.itemNo)!.path),
      drifted.map((r) => (r.result === 'missing' ? 'missing' : 'drifted')), drifted.map((r) => byNo.get(r.itemNo)!.targetSdId),
      drifted.map((r) => r.detail)]);
}

export async function openDriftCount(client: PoolClient, runId: string): Promise<number> {
  const result = await client.query('SELECT count(*)::int AS n FROM remediation_drift WHERE run_id = $1 AND resolved_at IS NULL', [runId]);
  return result.rows[0].n;
}

export interface DriftEntry { runId: string; itemNo: number; path: string; state: 'drifted' | 'missing'; expected: string | null; found: string | null; firstSeenAt: Date; lastSeenAt: Date }

export async function listOpenDrift(client: PoolClient, query: { runId?: string; afterRun?: string; afterItem?: number; limit: number }): Promise<DriftEntry[]> {
  const result = await client.query(
    `SELECT d.run_id AS "runId", d.item_no AS "itemNo", d.path, d.state, sd.summary AS expected, d.found,
            d.first_seen_at AS "firstSeenAt", d.last_seen_at AS "lastSeenAt"
       FROM remediation_drift d LEFT JOIN security_descriptor sd ON sd.id = d.expected_sd_id
      WHERE d.resolved_at IS NULL AND ($1::uuid IS NULL OR d.run_id = $1)
        AND ($2::uuid IS NULL OR (d.run_id, d.item_no) > ($2::uuid, $3::integer))
      ORDER BY d.run_id, d.item_no LIMIT $4`,
    [query.runId ?? null, query.afterRun ?? null, query.afterItem ?? 0, query.limit]);
  return result.rows;
}

export async function lastDriftCheck(client: PoolClient): Promise<Record<string, unknown> | null> {
  const result = await client.query(
    `SELECT id, started_at AS "startedAt", finished_at AS "finishedAt", runs, checked, drifted, problems
       FROM remediation_drift_check WHERE finished_at IS NOT NULL ORDER BY started_at DESC LIMIT 1`);
  return result.rows[0] ?? null;
}
