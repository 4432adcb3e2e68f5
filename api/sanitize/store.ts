// Database reads of sanitize runs for the api (report role, tenant pinned).
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Readable } from 'node:stream';
import { withTenant } from '../../db/tenant-tx';
import { reportCsvQuery } from '../../db/queries/sanitize';

const RUN_COLUMNS = `id, share_name AS share, status, requested_by AS "requestedBy", report_hash AS "reportHash", totals, summary,
  inventoried, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
  to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "finishedAt", workflow_id AS "workflowId"`;

export async function listRuns(pool: Pool, tenantId: string, status: string | undefined, limit: number) {
  return withTenant(pool, { tenantId, role: 'strata_report' }, async (client) =>
    (await client.query(`SELECT ${RUN_COLUMNS} FROM sanitize_run WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC LIMIT $2`,
      [status ?? null, limit])).rows);
}

export async function findRun(pool: Pool, tenantId: string, runId: string) {
  return withTenant(pool, { tenantId, role: 'strata_report' }, async (client) =>
    (await client.query(`SELECT ${RUN_COLUMNS} FROM sanitize_run WHERE id = $1`, [runId])).rows[0]);
}

export async function runItems(pool: Pool, tenantId: string, runId: string, offset: number, limit: number) {
  return withTenant(pool, { tenantId, role: 'strata_report' }, async (client) => (await client.query(
    `SELECT item_no AS "itemNo", category, proposed_action AS "proposedAction", destructive, full_path AS "fullPath",
            target_uri AS "targetUri", size_bytes AS "sizeBytes", outcome, outcome_reason AS "outcomeReason"
       FROM sanitize_item WHERE run_id = $1 ORDER BY item_no OFFSET $2 LIMIT $3`, [runId, offset, limit])).rows);
}

// Streams the stored report; the connection is released when the stream ends.
export async function reportStream(pool: Pool, tenantId: string, runId: string): Promise<Readable> {
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query('SET LOCAL ROLE strata_report');
  await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
  const stream = client.query(copyTo(reportCsvQuery(runId)));
  const release = (error?: unknown) => { void client.query('COMMIT').finally(() => client.release(error instanceof Error)); };
  stream.once('end', () => release());
  stream.once('error', (error) => release(error));
  return stream;
}
