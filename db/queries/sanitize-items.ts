// Executing a sanitize report: each item is re-checked against the current state
// at execution time and marked done or skipped once, so a retry never repeats it.
import type { PoolClient } from 'pg';

export interface ItemOutcome { itemNo: number; outcome: 'done' | 'skipped'; reason: string | null; fullPath: string | null; targetUri: string | null; action: string }

const DATABASE_FIXES: Record<string, string> = {
  requeue_missing: `UPDATE tier_object t SET pending_action_id = NULL, last_outcome = 'REQUEUED', last_outcome_at = now(), updated_at = now()
      FROM pending p WHERE t.id = p.tier_object_id AND t.state = 'PLANNED'
       AND NOT EXISTS (SELECT 1 FROM tier2_inventory i WHERE i.target_uri = t.target_uri AND i.last_seen_run = $1)
    RETURNING p.item_no`,
  flag_missing: `UPDATE tier_object t SET last_outcome = 'MISSING_ON_TIER2', last_outcome_at = now(), updated_at = now()
      FROM pending p WHERE t.id = p.tier_object_id AND t.state = 'STUBBED'
    RETURNING p.item_no`,
  unplan_stale: `DELETE FROM tier_object t USING pending p WHERE t.id = p.tier_object_id AND t.state = 'PLANNED' RETURNING p.item_no`,
  close_broken_ref: `UPDATE tier_object t SET state = 'DELETED', last_outcome = 'SOURCE_GONE', last_outcome_at = now(), updated_at = now()
      FROM pending p WHERE t.id = p.tier_object_id AND t.state IN ('PLANNED', 'STUBBED')
    RETURNING p.item_no`,
};

export const DATABASE_ACTIONS = Object.keys(DATABASE_FIXES);

export async function applyDatabaseFix(client: PoolClient, runId: string, action: string, limit: number): Promise<ItemOutcome[]> {
  const fix = DATABASE_FIXES[action];
  if (!fix) throw new Error(`unknown database fix ${action}`);
  const result = await client.query(
    `WITH pending AS (
       SELECT item_no, tier_object_id FROM sanitize_item
        WHERE run_id = $1 AND proposed_action = $2 AND outcome IS NULL ORDER BY item_no LIMIT $3
     ), changed AS (${fix})
     UPDATE sanitize_item s
        SET outcome = CASE WHEN s.item_no IN (SELECT item_no FROM changed) THEN 'done' ELSE 'skipped' END,
            outcome_reason = CASE WHEN s.item_no IN (SELECT item_no FROM changed) THEN NULL
                                  ELSE 'the tier object changed since the report' END,
            executed_at = now()
       FROM pending p WHERE s.run_id = $1 AND s.item_no = p.item_no
     RETURNING s.item_no AS "itemNo", s.outcome, s.outcome_reason AS reason, s.full_path AS "fullPath",
               s.target_uri AS "targetUri", s.proposed_action AS action`,
    [runId, action, limit]);
  return result.rows;
}

/** `started`: an execution of this item began (its marker committed) and never finished. */
export interface PendingFileItem { itemNo: number; action: string; targetUri: string; sizeBytes: number; fullPath: string | null; started: boolean }

export async function pendingFileItems(client: PoolClient, runId: string, actions: string[], limit: number): Promise<PendingFileItem[]> {
  const result = await client.query(
    `SELECT item_no AS "itemNo", proposed_action AS action, target_uri AS "targetUri", size_bytes AS "sizeBytes", full_path AS "fullPath",
            executed_at IS NOT NULL AS started
       FROM sanitize_item WHERE run_id = $1 AND proposed_action = ANY($2) AND outcome IS NULL ORDER BY item_no LIMIT $3`,
    [runId, actions, limit]);
  return result.rows;
}

/** Marks an item's execution as begun (executed_at with no outcome yet), committed before an irreversible step. */
export async function markStarted(client: PoolClient, runId: string, itemNo: number): Promise<void> {
  await client.query('UPDATE sanitize_item SET executed_at = now() WHERE run_id = $1 AND item_no = $2 AND outcome IS NULL', [runId, itemNo]);
}

export async function isReferenced(client: PoolClient, targetUri: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM tier_object WHERE target_uri = $1 LIMIT 1', [targetUri]);
  return (result.rowCount ?? 0) > 0;
}

export async function markItem(client: PoolClient, runId: string, itemNo: number, outcome: 'done' | 'skipped', reason: string | null): Promise<boolean> {
  const result = await client.query(
    `UPDATE sanitize_item SET outcome = $3, outcome_reason = $4, executed_at = now()
      WHERE run_id = $1 AND item_no = $2 AND outcome IS NULL`, [runId, itemNo, outcome, reason]);
  return result.rowCount === 1;
}

export async function countDone(client: PoolClient, runId: string, action: string): Promise<number> {
  const result = await client.query(
    `SELECT count(*)::int AS n FROM sanitize_item WHERE run_id = $1 AND proposed_action = $2 AND outcome = 'done'`, [runId, action]);
  return result.rows[0].n;
}

export async function outcomeSummary(client: PoolClient, runId: string): Promise<Record<string, { done: number; skipped: number; pending: number }>> {
  const result = await client.query(
    `SELECT proposed_action AS action, count(*) FILTER (WHERE outcome = 'done')::int AS done,
            count(*) FILTER (WHERE outcome = 'skipped')::int AS skipped, count(*) FILTER (WHERE outcome IS NULL)::int AS pending
       FROM sanitize_item WHERE run_id = $1 GROUP BY proposed_action ORDER BY proposed_action`, [runId]);
  return Object.fromEntries(result.rows.map((r) => [r.action, { done: r.done, skipped: r.skipped, pending: r.pending }]));
}

export async function pendingRehydrates(client: PoolClient, runId: string, limit: number): Promise<{ itemNos: number[]; paths: string[] }> {
  const result = await client.query(
    `SELECT item_no, full_path FROM sanitize_item
      WHERE run_id = $1 AND proposed_action = 'rehydrate_stale' AND outcome IS NULL ORDER BY item_no LIMIT $2`, [runId, limit]);
  return { itemNos: result.rows.map((r) => r.item_no), paths: result.rows.map((r) => r.full_path) };
}

export async function settleRehydrates(client: PoolClient, runId: string, itemNos: number[]): Promise<ItemOutcome[]> {
  const result = await client.query(
    `UPDATE sanitize_item s
        SET outcome = CASE WHEN t.state = 'REHYDRATED' THEN 'done' ELSE 'skipped' END,
            outcome_reason = CASE WHEN t.state = 'REHYDRATED' THEN NULL ELSE 'not rehydrated: tier object is ' || coalesce(t.state, 'gone') END,
            executed_at = now()
       FROM sanitize_item i LEFT JOIN tier_object t ON t.id = i.tier_object_id
      WHERE s.run_id = $1 AND s.item_no = ANY($2) AND s.outcome IS NULL AND i.run_id = s.run_id AND i.item_no = s.item_no
     RETURNING s.item_no AS "itemNo", s.outcome, s.outcome_reason AS reason, s.full_path AS "fullPath", s.target_uri AS "targetUri", s.proposed_action AS action`,
    [runId, itemNos]);
  return result.rows;
}
