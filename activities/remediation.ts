// Central (Postgres) side of remediation runs: the run and its action, the plan, status
// moves (each an action_event, audited), authoritative counts, and moving the index
// rows of changed files to their new descriptor, or back after a rollback.
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { appendAudit, type AuditEntry } from '../db/queries/audit';
import * as actions from '../db/queries/actions';
import * as q from '../db/queries/remediation';
import { outcomeCounts, restoreIndexRows, type OutcomeCounts } from '../db/queries/remediation-items';
import { CHECK_VIOLATION, sqlState } from '../db/sqlstate';
import type { AclPolicy } from '../lib/acl-policy';
import type { ActivityDeps } from './deps';
import { ConflictError, NotFoundError } from './errors';
import { buildPlan, type PlanOptions, type PlanResult, type RemediationScope } from './remediation-plan';

/** Items whose index rows a set-based restore handles per statement. */
const RESTORE_RANGE = 10_000;

export interface OpenRemediationInput {
  tenantId: string; runId: string; workflowId: string; requestedBy: string; scope: RemediationScope; policy: AclPolicy;
  request: Record<string, unknown>; options: Record<string, unknown>;
}

export interface RemediationStatusInput {
  tenantId: string; runId: string; status: string; actionStatus?: actions.ActionStatus; reason?: string;
  counters?: Record<string, number>; fsSnapshot?: unknown; rollbackUntil?: string | null; finished?: boolean;
  event?: { event: string; details?: Record<string, unknown> }; audit?: AuditEntry;
}

/** The action (queued) and run rows of a new remediation, and its audit entry; a repeat changes nothing. */
export async function openRun(client: PoolClient, input: OpenRemediationInput): Promise<void> {
  const scope = input.request.scope ?? input.scope;
  await actions.insertAction(client, input.tenantId, {
    id: input.runId, kind: 'remediation', subject: input.runId, requestedBy: input.requestedBy, workflowId: input.workflowId, summary: { scope },
  });
  await q.insertRun(client, input.tenantId, {
    id: input.runId, actionId: input.runId, workflowId: input.workflowId, requestedBy: input.requestedBy,
    scope, policy: { requested: input.request.policy ?? null, resolved: input.policy }, options: input.options,
  });
  await appendAudit(client, input.tenantId, {
    actor: input.requestedBy, action: 'remediation.requested', target: `remediation/${input.runId}`,
    details: { scope, policy: input.request.policy ?? input.policy, options: input.options }, eventKey: `remediation.requested/${input.runId}`,
  });
}

export function createRemediationActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const asRemediator = <T>(tenantId: string, work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId, role: 'strata_remediator' }, work);

  return {
    async openRemediation(input: OpenRemediationInput): Promise<void> {
      await asRemediator(input.tenantId, (client) => openRun(client, input));
    },

    /** Plans once: a retry after a committed plan returns the stored report. */
    async planRemediation(input: { tenantId: string; runId: string; scope: RemediationScope; policy: AclPolicy; options: PlanOptions; dryRun: boolean; actor: string }): Promise<PlanResult> {
      return asRemediator(input.tenantId, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`remediation/${input.runId}`]);
        const run = await q.getRun(client, input.runId);
        if (!run) throw new NotFoundError(`remediation ${input.runId} not found`);
        if (run.reportHash) return { report: run.report as unknown as PlanResult['report'], reportHash: run.reportHash };
        const plan = await buildPlan(client, input.tenantId, input.runId, input.scope, input.policy, input.options);
        const resolved = { hostId: plan.report.hostId, volume: plan.report.volume, scanId: plan.report.scanId, pathPrefix: plan.report.pathPrefix, shareId: input.scope.shareId ?? null };
        await q.storePlan(client, input.runId, { resolved, report: { ...plan.report }, reportHash: plan.reportHash, status: 'PLANNING' });
        await appendAudit(client, input.tenantId, {
          actor: input.actor, action: 'remediation.planned', target: `remediation/${input.runId}`,
          details: { reportHash: plan.reportHash, dryRun: input.dryRun, filesInScope: plan.report.filesInScope, toChange: plan.report.toChange, transformations: plan.report.transformations },
          eventKey: `remediation.planned/${input.runId}`,
        });
        return plan;
      });
    },

    /** Sets the run status and, when given, moves the action (one action_event per move) and audits. */
    async setRemediationStatus(input: RemediationStatusInput): Promise<void> {
      try {
        await asRemediator(input.tenantId, async (client) => {
          await q.setRunStatus(client, input.runId, input.status, input);
          const key = `${input.status}/${input.actionStatus ?? '-'}`;
          const allowed = input.actionStatus && (await client.query(
            'SELECT action_status_allowed(status, $2) AS ok FROM action WHERE id = $1', [input.runId, input.actionStatus])).rows[0]?.ok;
          if (input.actionStatus && !allowed) {
            // A run that already completed keeps that action status; the attempted move is still logged.
            await actions.addActionEvent(client, input.tenantId, input.runId, { event: 'status-kept', details: { wanted: input.actionStatus, runStatus: input.status }, eventKey: `kept:${key}` });
          } else if (input.actionStatus) {
            await actions.transitionAction(client, input.tenantId, input.runId, input.actionStatus, {
              details: { runStatus: input.status, reason: input.reason ?? null }, summaryPatch: { runStatus: input.status, ...(input.counters ?? {}) },
              eventKey: `status:${key}`,
            });
          }
          if (input.event) await actions.addActionEvent(client, input.tenantId, input.runId, { ...input.event, eventKey: `${input.event.event}:${key}` });
          if (input.audit) await appendAudit(client, input.tenantId, input.audit);
        });
      } catch (error) {
        if (sqlState(error) === CHECK_VIOLATION) throw new ConflictError((error as Error).message);
        throw error;
      }
    },

    /**
     * Counts by outcome, stored on the run in a synchronously committed write: host slices
     * commit without waiting for the WAL flush, and this commit makes every one counted
     * here durable. `analyze` is ignored: it refreshed the per-file snapshot table's
     * statistics for a join that phase work no longer makes (runs started before still pass it).
     */
    async remediationCounts(input: { tenantId: string; runId: string; analyze?: boolean }): Promise<OutcomeCounts> {
      return asRemediator(input.tenantId, async (client) => {
        const counts = await outcomeCounts(client, input.runId);
        await client.query('UPDATE remediation_run SET counters = counters || $2::jsonb, updated_at = now() WHERE id = $1', [input.runId, JSON.stringify(counts)]);
        return counts;
      });
    },

    /** Registers the run's new target descriptors (before any index row points at them). */
    async registerRemediationDescriptors(input: { tenantId: string; runId: string }): Promise<{ registered: number }> {
      return asRemediator(input.tenantId, async (client) => {
        const registered = await client.query(
          `INSERT INTO security_descriptor (tenant_id, id, sd_hash, host_id, owner_uid, owner_gid, owner_name, group_name, raw, acl,
                                            default_acl, entries, default_entries, summary, extended, grants_world_access)
           SELECT $1, r."id", decode(r."hashHex", 'hex'), r."hostId", r."ownerUid", r."ownerGid", r."ownerName", r."groupName",
                  decode(r."rawHex", 'hex'), decode(r."aclHex", 'hex'), decode(r."defaultAclHex", 'hex'), r."entries", r."defaultEntries",
                  r."summary", r."extended", r."grantsWorldAccess"
             FROM remediation_transform t, jsonb_to_record(t.target_record) AS r("id" bigint, "hashHex" text, "hostId" text, "ownerUid" bigint,
                  "ownerGid" bigint, "ownerName" text, "groupName" text, "rawHex" text, "aclHex" text, "defaultAclHex" text, "entries" jsonb,
                  "defaultEntries" jsonb, "summary" text, "extended" boolean, "grantsWorldAccess" boolean)
            WHERE t.run_id = $2 AND t.outcome = 'new' ON CONFLICT DO NOTHING`, [input.tenantId, input.runId]);
        return { registered: registered.rowCount ?? 0 };
      });
    },

    /**
     * Points verified files' index rows at their target descriptor (mode follows the ACL).
     * Apply slices move theirs as they are recorded; the workflow runs this set-based pass
     * only when its batches did not report every verified file moved (older workers, retries).
     */
    async finalizeRemediationIndex(input: { tenantId: string; runId: string }): Promise<{ updated: number }> {
      return asRemediator(input.tenantId, async (client) => {
        const updated = await client.query(
          `UPDATE file f SET security_id = i.target_sd_id, mode = (f.mode & ~511) | t.target_mode_bits
             FROM remediation_item i JOIN remediation_transform t ON t.tenant_id = i.tenant_id AND t.run_id = i.run_id AND t.source_sd_id = i.source_sd_id
            WHERE i.run_id = $1 AND i.verified AND f.id = i.file_id AND f.security_id IS DISTINCT FROM i.target_sd_id`, [input.runId]);
        return { updated: updated.rowCount ?? 0 };
      });
    },

    /** After a rollback: index rows of files back on their snapshot get their old descriptor and mode again (rollback slices do it as they are recorded; run only when they did not report all). */
    async restoreRemediationIndex(input: { tenantId: string; runId: string }): Promise<{ updated: number }> {
      return asRemediator(input.tenantId, async (client) => {
        const items = Number((await client.query('SELECT coalesce(max(item_no), 0) AS n FROM remediation_item WHERE run_id = $1', [input.runId])).rows[0].n);
        let updated = 0;
        for (let from = 1; from <= items; from += RESTORE_RANGE) {
          updated += await restoreIndexRows(client, { runId: input.runId, from, to: from + RESTORE_RANGE - 1 });
        }
        return { updated };
      });
    },
  };
}
