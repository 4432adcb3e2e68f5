// Database reads of remediation runs for the api (report role, tenant pinned): the
// tenant's recent runs, a run with its action log, a page of items with before/after
// permissions, drift.
import type { Pool } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { getRun, type RunRow } from '../../db/queries/remediation';
import { getAction, listActionEvents } from '../../db/queries/actions';
import { lastDriftCheck, openDriftCount } from '../../db/queries/remediation-drift';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

const OUTCOME_FILTER: Record<string, string> = {
  pending: 'i.outcome IS NULL', conflict: "i.rollback_outcome = 'conflict'",
};

export async function readRun(pool: Pool, tenantId: string, runId: string, page: { outcome?: string; offset: number; limit: number }) {
  return withTenant(pool, { tenantId, role: 'strata_report' }, async (client) => {
    const run = await getRun(client, runId);
    if (!run) return undefined;
    const action = await getAction(client, run.actionId);
    const events = await listActionEvents(client, run.actionId, 500);
    const filter = page.outcome === undefined ? 'true' : OUTCOME_FILTER[page.outcome] ?? 'i.outcome = $4';
    const params: unknown[] = [runId, page.offset, page.limit];
    if (filter.includes('$4')) params.push(page.outcome);
    const items = await client.query(
      `SELECT i.item_no AS "itemNo", i.path, CASE WHEN i.is_dir THEN 'dir' ELSE 'file' END AS type, i.outcome,
              coalesce(i.rollback_detail, i.outcome_detail) AS detail, i.verified, i.rollback_outcome AS "rollbackOutcome",
              t.source_summary AS before, t.target_summary AS after
         FROM remediation_item i LEFT JOIN remediation_transform t ON t.run_id = i.run_id AND t.source_sd_id = i.source_sd_id
        WHERE i.run_id = $1 AND ${filter} ORDER BY i.item_no OFFSET $2 LIMIT $3`, params);
    const drift = { open: await openDriftCount(client, runId), lastCheck: await lastDriftCheck(client) };
    return { ...present(run), action: { status: action?.status ?? 'unknown', events: events.map((e) => ({ ...e, at: e.at.toISOString() })) }, items: items.rows, drift };
  });
}

function present(run: RunRow) {
  return {
    id: run.id, status: run.status, statusReason: run.statusReason, requestedBy: run.requestedBy, workflowId: run.workflowId,
    scope: run.scope, policy: run.policy, options: run.options, hostId: run.hostId, volume: run.volume, report: run.report,
    reportHash: run.reportHash, fsSnapshot: run.fsSnapshot, counters: run.counters, rollbackUntil: iso(run.rollbackUntil),
    createdAt: run.createdAt.toISOString(), finishedAt: iso(run.finishedAt),
  };
}

export async function runWorkflowId(pool: Pool, tenantId: string, runId: string): Promise<{ workflowId: string; status: string } | undefined> {
  return withTenant(pool, { tenantId, role: 'strata_report' }, async (client) =>
    (await client.query('SELECT workflow_id AS "workflowId", status FROM remediation_run WHERE id = $1', [runId])).rows[0]);
}

/** The tenant's most recent runs, newest first, optionally of one status (the approvals page lists AWAITING_APPROVAL). */
export async function listRuns(pool: Pool, tenantId: string, filter: { status?: string; limit: number }) {
  return withTenant(pool, { tenantId, role: 'strata_report' }, async (client) => {
    const rows = await client.query(
      `SELECT id, status, requested_by AS "requestedBy", host_id AS "hostId", volume, path_prefix AS "pathPrefix", report_hash AS "reportHash",
              (report->>'toChange')::bigint AS "toChange", (report->>'transformations')::int AS "transformations",
              coalesce((options->>'approvalsRequired')::int, 1) AS "approvalsRequired", created_at AS "createdAt", finished_at AS "finishedAt"
         FROM remediation_run WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC LIMIT $2`, [filter.status ?? null, filter.limit]);
    return rows.rows.map((row) => ({
      ...row, toChange: row.toChange === null ? null : Number(row.toChange), createdAt: row.createdAt.toISOString(), finishedAt: iso(row.finishedAt),
    }));
  });
}
