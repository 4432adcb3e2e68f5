// Permission remediation: plan (with or without dry run), list and review, execute
// through the workflow's validated `execute` Update, and roll back within the window
// (`rollback`).
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { SHARE_NAME, TENANT_CODE } from '../../temporal-config/search-attributes';
import { executeUpdate, remediationWorkflowId, rollbackUpdate, statusQuery, type RemediationInput } from '../../workflows/remediation.messages';
import { withTenant } from '../../db/tenant-tx';
import { appendAudit } from '../../db/queries/audit';
import { callerFor, type Caller } from '../auth';
import { HttpProblem, conflict, notFound } from '../problem';
import type { ApiContext } from '../context';
import { openRun } from '../../activities/remediation';
import { resolvePlanRequest } from './request';
import { listRuns, readRun, runWorkflowId } from './store';
import { executeSchema, getSchema, listSchema, planSchema, rollbackSchema } from './schema';

const READERS = ['viewer', 'operator', 'approver', 'admin'] as const;

export function remediationRoutes(context: ApiContext): FastifyPluginAsyncZod {
  const handleOf = async (caller: Caller, id: string): Promise<WorkflowHandle> => {
    const run = await runWorkflowId(context.pool, caller.tenantId, id);
    if (!run) throw notFound(`remediation ${id} not found`);
    return context.temporal.workflow.getHandle(run.workflowId);
  };
  /** Relays an Update; a refusal is audited and answered with its reason. */
  const relay = async <T>(caller: Caller, id: string, action: string, status: number, send: (handle: WorkflowHandle) => Promise<T>, details: Record<string, unknown>): Promise<T> => {
    const handle = await handleOf(caller, id);
    try {
      return await send(handle);
    } catch (error) {
      const closed = (error as Error).name === 'WorkflowNotFoundError' || /workflow execution already completed/i.test((error as Error).message);
      if (!(error instanceof WorkflowUpdateFailedError) && !closed) throw error;
      const reason = closed ? 'the run has ended' : error instanceof WorkflowUpdateFailedError ? error.cause?.message ?? error.message : '';
      await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_api' }, (client) => appendAudit(client, caller.tenantId, {
        actor: caller.userName, action, target: `remediation/${id}`, details: { ...details, reason, via: 'api' },
      }));
      if (closed) throw conflict(`remediation ${id} has ended; nothing to ${action.includes('rollback') ? 'roll back' : 'execute'}`);
      throw new HttpProblem(status, status === 409 ? 'Conflict' : 'Unprocessable Content', `${action.replace(/^.*\./, '').replace(/_/g, ' ')}: ${reason}`);
    }
  };

  return async (app) => {
    app.post('/remediation/plans', { schema: planSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['operator', 'admin']);
      const resolved = await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_api' }, (client) => resolvePlanRequest(client, request.body));
      const runId = randomUUID();
      const { scope, policy, options } = request.body;
      const input: RemediationInput = {
        tenantId: caller.tenantId, tenantCode: caller.tenantCode, runId, requestedBy: caller.userName, scope: resolved.scope, policy: resolved.policy,
        request: { scope, policy }, shareName: resolved.shareName, options,
      };
      const workflowId = remediationWorkflowId(caller.tenantCode, runId);
      await context.temporal.workflow.start('remediation', {
        taskQueue: CORE_TASK_QUEUE, workflowId, args: [input],
        typedSearchAttributes: [{ key: TENANT_CODE, value: caller.tenantCode }, ...(resolved.shareName ? [{ key: SHARE_NAME, value: resolved.shareName }] : [])],
      });
      // The workflow records the run too (idempotently); doing it here makes GET answer at once.
      await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_api' }, (client) => openRun(client, {
        tenantId: caller.tenantId, runId, workflowId, requestedBy: caller.userName, scope: resolved.scope, policy: resolved.policy,
        request: input.request!, options,
      }));
      return reply.status(202).send({ id: runId, workflowId, status: 'PLANNING' });
    });

    app.get('/remediation', { schema: listSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      return { runs: await listRuns(context.pool, caller.tenantId, request.query) };
    });

    app.get('/remediation/:id', { schema: getSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      const run = await readRun(context.pool, caller.tenantId, request.params.id, request.query);
      if (!run) throw notFound(`remediation ${request.params.id} not found`);
      const live = await context.temporal.workflow.getHandle(run.workflowId).query(statusQuery).catch(() => undefined);
      return { ...run, live };
    });

    app.post('/remediation/:id/execute', { schema: executeSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['operator', 'approver', 'admin']);
      const approval = { approver: caller.userName, role: caller.role, ...request.body };
      return relay(caller, request.params.id, 'approval.refused', 422, (handle) => handle.executeUpdate(executeUpdate, { args: [approval] }), { reportHash: request.body.reportHash });
    });

    app.post('/remediation/:id/rollback', { schema: rollbackSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['operator', 'approver', 'admin']);
      const input = { requestedBy: caller.userName, role: caller.role, reason: request.body.reason };
      const result = await relay(caller, request.params.id, 'remediation.rollback_refused', 409, (handle) => handle.executeUpdate(rollbackUpdate, { args: [input] }), { requestedReason: request.body.reason ?? null });
      await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_api' }, (client) => appendAudit(client, caller.tenantId, {
        actor: caller.userName, action: 'remediation.rollback_requested', target: `remediation/${request.params.id}`, details: { reason: request.body.reason ?? null },
      }));
      return reply.status(202).send(result);
    });
  };
}
