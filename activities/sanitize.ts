// Central sanitize activities: the run record, the SQL reconciliation and its
// hashed CSV report, database-only fixes, and the action log of the execution.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { sqlState, UNIQUE_VIOLATION } from '../db/sqlstate';
import { workflowRunning } from '../lib/workflow-running';
import { appendAudit } from '../db/queries/audit';
import * as sanitize from '../db/queries/sanitize';
import { applyDatabaseFix, DATABASE_ACTIONS, outcomeSummary, pendingRehydrates, settleRehydrates } from '../db/queries/sanitize-items';
import type { ActivityDeps } from './deps';
import { ConflictError, NotFoundError } from './errors';

export interface SanitizeRunRef { tenantId: string; runId: string }

export async function hashReport(client: PoolClient, runId: string): Promise<string> {
  const hash = createHash('sha256');
  const stream = client.query(copyTo(sanitize.reportCsvQuery(runId)));
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Inserts the run and its audit entry; returns the share's other unfinished run instead, if there is one. */
async function insertUnlessBlocked(client: PoolClient, input: SanitizeRunRef & { shareName: string; requestedBy: string; workflowId: string; options: sanitize.SanitizeOptions }) {
  const other = await sanitize.activeRunOf(client, input.shareName, input.runId);
  if (other) return other;
  await sanitize.insertRun(client, { id: input.runId, tenantId: input.tenantId, shareName: input.shareName, requestedBy: input.requestedBy, workflowId: input.workflowId, options: input.options });
  await appendAudit(client, input.tenantId, { actor: input.requestedBy, action: 'sanitize.requested', target: input.shareName,
    details: { runId: input.runId, options: input.options }, eventKey: `sanitize.requested/${input.runId}` });
  return undefined;
}

function lostActiveRunRace(error: unknown): boolean {
  return sqlState(error) === UNIQUE_VIOLATION && (error as { constraint?: string }).constraint === sanitize.ACTIVE_RUN_INDEX;
}

export function createSanitizeActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const asSanitizer = <T>(tenantId: string, work: (client: PoolClient) => Promise<T>) =>
    withTenant(pool, { tenantId, role: 'strata_sanitizer' }, work);

  return {
    /** Records the run, unless another run of the share is unfinished (one whose workflow has ended is closed as FAILED first). */
    async createSanitizeRun(input: SanitizeRunRef & { shareName: string; requestedBy: string; workflowId: string; options: sanitize.SanitizeOptions }): Promise<void> {
      for (let attempt = 1; ; attempt += 1) {
        let blocking: Awaited<ReturnType<typeof insertUnlessBlocked>>;
        try {
          blocking = await asSanitizer(input.tenantId, (client) => insertUnlessBlocked(client, input));
        } catch (error) {
          // Two runs started at once and the other one's row won the index: the next pass finds it.
          if (lostActiveRunRace(error) && attempt < 3) continue;
          throw error;
        }
        if (!blocking) return;
        if (await workflowRunning(Context.current().client.workflow, blocking.workflowId)) {
          throw new ConflictError(sanitize.unfinishedRunProblem(input.shareName, blocking));
        }
        await asSanitizer(input.tenantId, (client) => sanitize.setRunStatus(client, blocking.id, 'FAILED', { failure: 'its workflow ended without finishing the run' }));
      }
    },

    async hostOfShare(input: { tenantId: string; shareName: string }): Promise<string> {
      const target = await asSanitizer(input.tenantId, (client) => sanitize.targetRootOf(client, input.shareName));
      if (!target) throw new NotFoundError(`share ${input.shareName} has no Tier-2 target`);
      if (!target.hostId) throw new NotFoundError(`share ${input.shareName} has no source root on a host`);
      return target.hostId;
    },

    async setSanitizeStatus(input: SanitizeRunRef & { status: string; summary?: Record<string, unknown> }): Promise<void> {
      await asSanitizer(input.tenantId, (client) => sanitize.setRunStatus(client, input.runId, input.status, input.summary));
    },

    async reconcileSanitizeRun(input: SanitizeRunRef & { shareName: string; options: sanitize.SanitizeOptions; nowUnix: number }) {
      return asSanitizer(input.tenantId, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sanitize/${input.runId}`]);
        await sanitize.reconcile(client, input.runId, input.shareName, input.options, input.nowUnix);
        const { totals, destructive, items } = await sanitize.reportTotals(client, input.runId);
        const reportHash = await hashReport(client, input.runId);
        await sanitize.storeReport(client, input.runId, reportHash, totals, await sanitize.latestOkScan(client, input.shareName));
        return { reportHash, totals, destructive, items };
      });
    },

    async applySanitizeDatabaseFixes(input: SanitizeRunRef & { actor: string }): Promise<{ done: number; skipped: number }> {
      let done = 0;
      let skipped = 0;
      for (const action of DATABASE_ACTIONS) {
        for (;;) {
          const outcomes = await asSanitizer(input.tenantId, async (client) => {
            const rows = await applyDatabaseFix(client, input.runId, action, 500);
            for (const row of rows) {
              await appendAudit(client, input.tenantId, { actor: input.actor, action: `sanitize.${row.action}`, target: row.fullPath ?? row.targetUri ?? '',
                details: { runId: input.runId, itemNo: row.itemNo, outcome: row.outcome, reason: row.reason }, eventKey: `sanitize/${input.runId}/${row.itemNo}` });
            }
            return rows;
          });
          done += outcomes.filter((o) => o.outcome === 'done').length;
          skipped += outcomes.filter((o) => o.outcome === 'skipped').length;
          if (outcomes.length < 500) break;
        }
      }
      return { done, skipped };
    },

    async pendingSanitizeRehydrates(input: SanitizeRunRef & { limit: number }) {
      return asSanitizer(input.tenantId, (client) => pendingRehydrates(client, input.runId, input.limit));
    },

    async settleSanitizeRehydrates(input: SanitizeRunRef & { itemNos: number[]; actor: string }): Promise<{ done: number; skipped: number }> {
      return asSanitizer(input.tenantId, async (client) => {
        const rows = await settleRehydrates(client, input.runId, input.itemNos);
        for (const row of rows) {
          await appendAudit(client, input.tenantId, { actor: input.actor, action: 'sanitize.rehydrate_stale', target: row.fullPath ?? '',
            details: { runId: input.runId, itemNo: row.itemNo, outcome: row.outcome, reason: row.reason }, eventKey: `sanitize/${input.runId}/${row.itemNo}` });
        }
        return { done: rows.filter((r) => r.outcome === 'done').length, skipped: rows.filter((r) => r.outcome === 'skipped').length };
      });
    },

    async sanitizeOutcome(input: SanitizeRunRef) {
      return asSanitizer(input.tenantId, (client) => outcomeSummary(client, input.runId));
    },

    async recordSanitizeAction(input: SanitizeRunRef & { actionId: string; shareName: string; requestedBy: string; workflowId: string; status: string; details?: Record<string, unknown> }): Promise<void> {
      await asSanitizer(input.tenantId, async (client) => {
        await client.query(
          `INSERT INTO action (id, tenant_id, kind, subject, share_name, requested_by, status, workflow_id)
           VALUES ($1, $2, 'sanitize', $3, $4, $5, 'queued', $6) ON CONFLICT (id) DO NOTHING`,
          [input.actionId, input.tenantId, input.runId, input.shareName, input.requestedBy, input.workflowId]);
        await client.query('UPDATE sanitize_run SET action_id = $2 WHERE id = $1', [input.runId, input.actionId]);
        const previous = await client.query('SELECT status FROM action WHERE id = $1 FOR UPDATE', [input.actionId]);
        await client.query('UPDATE action SET status = $2, summary = summary || $3::jsonb WHERE id = $1',
          [input.actionId, input.status, JSON.stringify(input.details ?? {})]);
        await client.query(
          `INSERT INTO action_event (tenant_id, action_id, event, from_status, to_status, details, event_key)
           VALUES ($1, $2, 'status', $3, $4, $5, $6) ON CONFLICT (tenant_id, action_id, event_key) DO NOTHING`,
          [input.tenantId, input.actionId, previous.rows[0].status, input.status, JSON.stringify(input.details ?? {}), `status/${input.status}`]);
      });
    },
  };
}
