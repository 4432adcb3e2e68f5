// Sanitize runs: start, review (JSON and the hashed CSV report), and approve or
// reject through the workflow's validated `approve` Update.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { SHARE_NAME, TENANT_CODE } from '../../temporal-config/search-attributes';
import { sanitizeWorkflowId, statusQuery, type SanitizeInput } from '../../workflows/sanitize.messages';
import { approveUpdate } from '../../workflows/approvalGate.messages';
import { withTenant } from '../../db/tenant-tx';
import { appendAudit } from '../../db/queries/audit';
import { getShareConfig } from '../../db/queries/tiering-config';
import { activeRunOf, unfinishedRunProblem } from '../../db/queries/sanitize';
import { workflowRunning } from '../../lib/workflow-running';
import { callerFor } from '../auth';
import { conflict, HttpProblem, notFound } from '../problem';
import type { ApiContext } from '../context';
import { findRun, listRuns, reportStream, runItems } from './store';
import { approvalSchema, getSchema, listSchema, startSchema } from './schema';

export function sanitizeRoutes(context: ApiContext): FastifyPluginAsyncZod {
  const runOf = async (tenantId: string, id: string) => {
    const run = await findRun(context.pool, tenantId, id);
    if (!run) throw notFound(`sanitize run ${id} not found`);
    return run;
  };

  return async (app) => {
    app.post('/sanitize', { schema: startSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['operator', 'admin']);
      const body = request.body;
      const share = await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_api' }, (client) => getShareConfig(client, body.share));
      if (!share) throw notFound(`share ${body.share} has no tiering configuration: PUT /api/v1/tiering/shares/${body.share} first`);
      await refuseWhileAnotherRunIsActive(context, caller.tenantId, body.share);
      const input: SanitizeInput = {
        tenantId: caller.tenantId, tenantCode: caller.tenantCode, shareName: body.share, runId: randomUUID(), requestedBy: caller.userName,
        dryRun: body.dryRun, orphanAction: body.orphanAction, maxDeletes: body.maxDeletes, idleDays: body.idleDays,
        approvalDeadlineMs: Math.round(body.approvalDeadlineHours * 3_600_000), requiredApprovals: body.requiredApprovals,
        hostWaitSeconds: body.hostWaitSeconds, heartbeatTimeoutSeconds: body.heartbeatTimeoutSeconds,
      };
      const workflowId = sanitizeWorkflowId(caller.tenantCode, body.share, input.runId);
      await context.temporal.workflow.start('sanitize', {
        taskQueue: CORE_TASK_QUEUE, workflowId, args: [input],
        typedSearchAttributes: [{ key: TENANT_CODE, value: caller.tenantCode }, { key: SHARE_NAME, value: body.share }],
      });
      return reply.status(202).send({ id: input.runId, workflowId, status: 'INVENTORY' });
    });

    app.get('/sanitize', { schema: listSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['viewer', 'operator', 'approver', 'admin']);
      return { runs: await listRuns(context.pool, caller.tenantId, request.query.status, request.query.limit) };
    });

    app.get('/sanitize/:id', { schema: getSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['viewer', 'operator', 'approver', 'admin']);
      const run = await runOf(caller.tenantId, request.params.id);
      const items = await runItems(context.pool, caller.tenantId, run.id, request.query.offset, request.query.limit);
      const live = run.finishedAt ? undefined : await context.temporal.workflow.getHandle(run.workflowId).query(statusQuery).catch(() => undefined);
      return { ...run, items, live };
    });

    app.get('/sanitize/:id/report.csv', { schema: { params: getSchema.params } }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['viewer', 'operator', 'approver', 'admin']);
      const run = await runOf(caller.tenantId, request.params.id);
      if (!run.reportHash) throw new HttpProblem(409, 'Conflict', 'the report of this run is not ready yet');
      reply.header('X-Report-Hash', run.reportHash).header('Content-Disposition', `attachment; filename="sanitize-${run.id}.csv"`);
      return reply.type('text/csv; charset=utf-8').send(await reportStream(context.pool, caller.tenantId, run.id));
    });

    app.post('/sanitize/:id/approvals', { schema: approvalSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['approver', 'admin']);
      const run = await runOf(caller.tenantId, request.params.id);
      const approval = { approver: caller.userName, role: caller.role, reportHash: request.body.reportHash, decision: request.body.decision, reason: request.body.reason };
      try {
        return await context.temporal.workflow.getHandle(run.workflowId).executeUpdate(approveUpdate, { args: [approval] });
      } catch (error) {
        if (!(error instanceof WorkflowUpdateFailedError)) throw error;
        const reason = error.cause?.message ?? error.message;
        await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_api' }, (client) => appendAudit(client, caller.tenantId, {
          actor: caller.userName, action: 'approval.refused', target: `sanitize/${run.id}`, details: { reason, reportHash: request.body.reportHash, via: 'api' },
        }));
        throw new HttpProblem(422, 'Unprocessable Content', `approval refused: ${reason}`);
      }
    });
  };
}

/** One unfinished run per share (sanitize_run_one_active); a run whose workflow has ended is closed by the next run's start. */
async function refuseWhileAnotherRunIsActive(context: ApiContext, tenantId: string, shareName: string): Promise<void> {
  const active = await withTenant(context.pool, { tenantId, role: 'strata_report' }, (client) => activeRunOf(client, shareName));
  if (!active) return;
  if (await workflowRunning(context.temporal.workflow, active.workflowId)) throw conflict(unfinishedRunProblem(shareName, active));
}
