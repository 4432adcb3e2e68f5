// Sanitize runs: the reconciliation of tier_object against the Tier-2 inventory
// and the latest OK scan (seed 000 §8.2), stored as numbered report items.
import type { PoolClient } from 'pg';

export interface SanitizeOptions { orphanAction: 'quarantine' | 'delete'; idleDays: number; dryRun: boolean; maxDeletes: number }

export async function insertRun(client: PoolClient, run: { id: string; tenantId: string; shareName: string; requestedBy: string; workflowId: string; options: SanitizeOptions }): Promise<void> {
  await client.query(
    `INSERT INTO sanitize_run (id, tenant_id, share_name, requested_by, workflow_id, options) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO NOTHING`,
    [run.id, run.tenantId, run.shareName, run.requestedBy, run.workflowId, JSON.stringify(run.options)]);
}

export const ACTIVE_RUN_INDEX = 'sanitize_run_one_active';

/** The share's unfinished run (at most one: sanitize_run_one_active), other than exceptId. */
export async function activeRunOf(client: PoolClient, shareName: string, exceptId: string | null = null): Promise<{ id: string; status: string; workflowId: string } | undefined> {
  return (await client.query(
    `SELECT id, status, workflow_id AS "workflowId" FROM sanitize_run
      WHERE share_name = $1 AND status IN ('INVENTORY', 'RECONCILING', 'AWAITING_APPROVAL', 'EXECUTING') AND id IS DISTINCT FROM $2`,
    [shareName, exceptId])).rows[0];
}

/** What refusing a start because of the share's unfinished run says. */
export function unfinishedRunProblem(shareName: string, run: { id: string; status: string }): string {
  return `share ${shareName} has an unfinished sanitize run ${run.id} (${run.status}): reject it or let it finish first`;
}

export async function setRunStatus(client: PoolClient, runId: string, status: string, summary?: Record<string, unknown>): Promise<void> {
  await client.query(
    `UPDATE sanitize_run SET status = $2, summary = summary || coalesce($3::jsonb, '{}'::jsonb), updated_at = now(),
            finished_at = CASE WHEN $2 IN ('DRY_RUN', 'REJECTED', 'EXPIRED', 'COMPLETED', 'FAILED') THEN now() ELSE finished_at END
      WHERE id = $1`,
    [runId, status, summary ? JSON.stringify(summary) : null]);
}

export async function targetRootOf(client: PoolClient, shareName: string): Promise<{ uri: string; hostId: string | null } | undefined> {
  const result = await client.query(
    `SELECT t.uri, r.host_id AS "hostId" FROM tier2_target t
       LEFT JOIN tier_share_root r ON r.tenant_id = t.tenant_id AND r.share_name = t.share_name
      WHERE t.share_name = $1`, [shareName]);
  return result.rows[0];
}

const RECONCILE = `
WITH latest AS (
  SELECT id FROM scan WHERE share_name = $2 AND status = 'OK' ORDER BY started_at DESC, id DESC LIMIT 1
), objects AS (
  SELECT t.id, t.state, t.full_path, t.target_uri, t.size_bytes, t.rewarmed, f.atime_unix AS scan_atime, f.id IS NOT NULL AS in_scan
    FROM tier_object t
    LEFT JOIN file f ON f.scan_id = (SELECT id FROM latest) AND f.dir_id = t.dir_id AND f.name = t.name
   WHERE t.share_name = $2 AND t.state IN ('PLANNED', 'STUBBED')
), found AS (
  SELECT 'MISSING' AS category, CASE o.state WHEN 'STUBBED' THEN 'flag_missing' ELSE 'requeue_missing' END AS proposed_action,
         false AS destructive, o.full_path, o.target_uri, o.size_bytes, o.id AS tier_object_id, o.state AS tier_state
    FROM objects o
   WHERE NOT EXISTS (SELECT 1 FROM tier2_inventory i WHERE i.target_uri = o.target_uri AND i.last_seen_run = $1)
  UNION ALL
  SELECT 'ORPHAN', $3, true, i.tag_full_path, i.target_uri, i.size_bytes, NULL, NULL
    FROM tier2_inventory i
   WHERE i.share_name = $2 AND i.last_seen_run = $1
     AND NOT EXISTS (SELECT 1 FROM tier_object t WHERE t.target_uri = i.target_uri)
  UNION ALL
  SELECT 'STALE', CASE o.state WHEN 'STUBBED' THEN 'rehydrate_stale' ELSE 'unplan_stale' END, o.state = 'STUBBED',
         o.full_path, o.target_uri, o.size_bytes, o.id, o.state
    FROM objects o
   WHERE o.in_scan AND (o.rewarmed OR o.scan_atime > $4)
  UNION ALL
  SELECT 'BROKEN_REF', 'close_broken_ref', false, o.full_path, o.target_uri, o.size_bytes, o.id, o.state
    FROM objects o
   WHERE NOT o.in_scan AND EXISTS (SELECT 1 FROM latest)
)
INSERT INTO sanitize_item (tenant_id, run_id, item_no, category, proposed_action, destructive, full_path, target_uri,
                           size_bytes, tier_object_id, tier_state)
SELECT current_tenant(), $1, row_number() OVER (ORDER BY category, coalesce(full_path, ''), coalesce(target_uri, '')),
       category, proposed_action, destructive, full_path, target_uri, size_bytes, tier_object_id, tier_state
  FROM found`;

export async function reconcile(client: PoolClient, runId: string, shareName: string, options: SanitizeOptions, nowUnix: number): Promise<void> {
  await client.query('DELETE FROM sanitize_item WHERE run_id = $1', [runId]);
  const orphanAction = options.orphanAction === 'delete' ? 'delete_orphan' : 'quarantine_orphan';
  await client.query(RECONCILE, [runId, shareName, orphanAction, nowUnix - options.idleDays * 86_400]);
}

export interface ReportTotals { [category: string]: { items: number; bytes: number } }

export async function reportTotals(client: PoolClient, runId: string): Promise<{ totals: ReportTotals; destructive: number; items: number }> {
  const result = await client.query(
    `SELECT category, count(*)::int AS items, coalesce(sum(size_bytes), 0)::bigint AS bytes, count(*) FILTER (WHERE destructive)::int AS destructive
       FROM sanitize_item WHERE run_id = $1 GROUP BY category ORDER BY category`, [runId]);
  const totals: ReportTotals = {};
  let destructive = 0;
  let items = 0;
  for (const row of result.rows) {
    totals[row.category] = { items: row.items, bytes: row.bytes };
    destructive += row.destructive;
    items += row.items;
  }
  return { totals, destructive, items };
}

// The report as CSV (Postgres' own RFC 4180 writer); its SHA-256 is the report hash approvers sign.
export function reportCsvQuery(runId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(runId)) throw new Error('invalid run id');
  return `COPY (SELECT item_no, category, proposed_action, destructive, full_path, target_uri, size_bytes, tier_state
                  FROM sanitize_item WHERE run_id = '${runId}' ORDER BY item_no) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

export async function storeReport(client: PoolClient, runId: string, hash: string, totals: ReportTotals, scanId: number | null): Promise<void> {
  await client.query(
    `UPDATE sanitize_run SET report_hash = $2, totals = $3, scan_id = $4, updated_at = now() WHERE id = $1`,
    [runId, hash, JSON.stringify(totals), scanId]);
}

export async function latestOkScan(client: PoolClient, shareName: string): Promise<number | null> {
  const result = await client.query(
    `SELECT id FROM scan WHERE share_name = $1 AND status = 'OK' ORDER BY started_at DESC, id DESC LIMIT 1`, [shareName]);
  return result.rows[0]?.id ?? null;
}
