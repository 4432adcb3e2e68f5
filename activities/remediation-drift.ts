// Central side of drift checks: the per-tenant Temporal Schedule that runs them, the
// check record, and which completed remediations (on which hosts) to compare.
import { Context } from '@temporalio/activity';
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import * as drift from '../db/queries/remediation-drift';
import { CORE_TASK_QUEUE } from '../temporal-config/task-queues';
import { driftCheckWorkflowId, driftScheduleId, type DriftCheckInput } from '../workflows/driftCheck.messages';
import type { ActivityDeps } from './deps';

export function createRemediationDriftActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const asRemediator = <T>(tenantId: string, work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId, role: 'strata_remediator' }, work);

  return {
    /** Creates the tenant's drift schedule once; later calls keep it and only adjust the interval. */
    async ensureDriftSchedule(input: DriftCheckInput & { intervalMinutes: number }): Promise<{ scheduleId: string; created: boolean }> {
      const client = Context.current().client;
      const scheduleId = driftScheduleId(input.tenantCode);
      const spec = { intervals: [{ every: `${Math.max(1, input.intervalMinutes)} minutes` }] };
      const args: DriftCheckInput = { tenantId: input.tenantId, tenantCode: input.tenantCode };
      try {
        await client.schedule.create({
          scheduleId, spec, policies: { overlap: 'SKIP' as const },
          action: { type: 'startWorkflow', workflowType: 'driftCheck', taskQueue: CORE_TASK_QUEUE, workflowId: driftCheckWorkflowId(input.tenantCode), args: [args] },
        });
        return { scheduleId, created: true };
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec })).catch((e) => {
          if (!(e instanceof ScheduleNotFoundError)) throw e;
        });
        return { scheduleId, created: false };
      }
    },

    async startDriftCheck(input: { tenantId: string; checkId: string; workflowId: string }): Promise<{ runs: { runId: string; hostId: string; items: number }[] }> {
      return asRemediator(input.tenantId, async (client) => {
        await drift.startDriftCheck(client, input.tenantId, input.checkId, input.workflowId);
        return { runs: await drift.driftTargets(client) };
      });
    },

    async finishDriftCheck(input: { tenantId: string; checkId: string; runs: number; checked: number; drifted: number; problems: string[] }): Promise<{ openDrift: number }> {
      return asRemediator(input.tenantId, async (client) => {
        await drift.finishDriftCheck(client, input.checkId, input);
        const open = await client.query('SELECT count(*)::int AS n FROM remediation_drift WHERE resolved_at IS NULL');
        return { openDrift: open.rows[0].n };
      });
    },
  };
}
