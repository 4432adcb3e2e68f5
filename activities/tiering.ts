// Central (Postgres) side of tiering runs: the generic action record every
// world-changing workflow keeps, what a run needs to know before it routes work to
// a host, and the selection of stubbed files for rehydration.
import type { PoolClient } from 'pg';
import { withTenant, type FunctionRole } from '../db/tenant-tx';
import { appendAudit, type AuditEntry } from '../db/queries/audit';
import * as actions from '../db/queries/actions';
import { claimForRehydrate, flagRewarmed, type RehydrateSelector } from '../db/queries/tiering';
import { getPlan } from '../db/queries/tiering-plan';
import { CHECK_VIOLATION, sqlState } from '../db/sqlstate';
import { ConflictError, NotFoundError } from './errors';
import type { ActivityDeps } from './deps';

export type ActionRole = Extract<FunctionRole, 'strata_actor' | 'strata_sanitizer' | 'strata_remediator'>;

export interface TransitionInput {
  tenantId: string; actionId: string; to: actions.ActionStatus; details?: Record<string, unknown>;
  summaryPatch?: Record<string, unknown>; eventKey?: string; role?: ActionRole; audit?: AuditEntry;
  /** Return the summary after the move (spares a read of it). */
  returnSummary?: boolean;
}

export interface TieringRun { shareName: string; hostId: string; planStatus: string; remainingFiles: number; remainingBytes: number }
export interface RehydrateShare { shareName: string; hostId: string; files: number; bytes: number }

export function createTieringActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const as = <T>(tenantId: string, role: FunctionRole, work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId, role }, work);

  return {
    async openAction(input: { tenantId: string; action: actions.NewAction; role?: ActionRole }): Promise<{ created: boolean }> {
      return { created: await as(input.tenantId, input.role ?? 'strata_actor', (client) => actions.insertAction(client, input.tenantId, input.action)) };
    },

    /** Moves an action to a status (and audits it, once); a transition the table forbids is a ConflictError. */
    async transitionAction(input: TransitionInput): Promise<actions.TransitionResult> {
      try {
        return await as(input.tenantId, input.role ?? 'strata_actor', async (client) => {
          const result = await actions.transitionAction(client, input.tenantId, input.actionId, input.to,
            { details: input.details, summaryPatch: input.summaryPatch, eventKey: input.eventKey, returnSummary: input.returnSummary });
          if (input.audit) await appendAudit(client, input.tenantId, input.audit);
          return result;
        });
      } catch (error) {
        if (sqlState(error) === CHECK_VIOLATION) throw new ConflictError((error as Error).message);
        throw error;
      }
    },

    async recordActionEvent(input: { tenantId: string; actionId: string; event: actions.ActionEventInput; role?: ActionRole }): Promise<void> {
      await as(input.tenantId, input.role ?? 'strata_actor', (client) => actions.addActionEvent(client, input.tenantId, input.actionId, input.event));
    },

    async readAction(input: { tenantId: string; actionId: string }): Promise<{ status: actions.ActionStatus; summary: Record<string, unknown> }> {
      const row = await as(input.tenantId, 'strata_actor', (client) => actions.getAction(client, input.actionId));
      if (!row) throw new NotFoundError(`action ${input.actionId} not found`);
      return { status: row.status, summary: row.summary };
    },

    /** The plan's share and host, and what is still PLANNED. */
    async describeTieringRun(input: { tenantId: string; planId: string }): Promise<TieringRun> {
      return as(input.tenantId, 'strata_actor', async (client) => {
        const plan = await getPlan(client, input.planId);
        if (!plan) throw new NotFoundError(`tiering plan ${input.planId} not found`);
        const host = await client.query('SELECT host_id FROM tier_share_root WHERE share_name = $1', [plan.shareName]);
        if (host.rowCount === 0) throw new NotFoundError(`share ${plan.shareName} has no tiering source root`);
        const remaining = await client.query(
          `SELECT count(*)::bigint AS files, coalesce(sum(size_bytes), 0)::bigint AS bytes FROM tier_object WHERE plan_id = $1 AND state = 'PLANNED'`,
          [input.planId]);
        return {
          shareName: plan.shareName, hostId: host.rows[0].host_id, planStatus: plan.status,
          remainingFiles: Number(remaining.rows[0].files), remainingBytes: Number(remaining.rows[0].bytes),
        };
      });
    },

    /** Claims the stubbed files a rehydrate selects (flagging re-warmed ones first); per share with its host. */
    async selectForRehydrate(input: { tenantId: string; actionId: string; selector: RehydrateSelector }): Promise<{ shares: RehydrateShare[]; unmatchedPaths: number }> {
      return as(input.tenantId, 'strata_actor', async (client) => {
        if (input.selector.rewarmed) await flagRewarmed(client, input.selector.shareName ?? null);
        const claimed = await claimForRehydrate(client, input.actionId, input.selector);
        const hosts = await client.query('SELECT share_name, host_id FROM tier_share_root WHERE share_name = ANY($1)', [claimed.map((c) => c.shareName)]);
        const hostOf = new Map(hosts.rows.map((row) => [row.share_name as string, row.host_id as string]));
        const shares = claimed.map((c) => ({ shareName: c.shareName, hostId: hostOf.get(c.shareName) ?? '', files: Number(c.files), bytes: Number(c.bytes) }));
        const files = shares.reduce((n, s) => n + s.files, 0);
        return { shares, unmatchedPaths: input.selector.paths ? Math.max(0, new Set(input.selector.paths).size - files) : 0 };
      });
    },
  };
}
