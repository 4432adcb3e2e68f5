// Tiering: configure a share's source root and Tier-2 target, plan (dry run, with
// a CSV report), act on a plan, rehydrate, and pause/resume/cancel runs.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { SHARE_NAME, TENANT_CODE } from '../../temporal-config/search-attributes';
import { normalizePolicy } from '../../lib/tier2-policy';
import { tieringPlanWorkflowId, type TieringPlanInput } from '../../workflows/tieringPlan.messages';
import { tieringActWorkflowId, type TieringActInput } from '../../workflows/tieringAct.messages';
import { rehydrateWorkflowId, type RehydrateInput } from '../../workflows/rehydrate.messages';
import { callerFor, type Caller } from '../auth';
import { conflict, notFound } from '../problem';
import type { ApiContext } from '../context';
import { actionView, liveStatus, planFields, planView } from './views';
import * as store from './store';
import {
  actSchema, controlSchema, createPlanSchema, getActionSchema, getPlanSchema, getShareSchema, listPlansSchema, putShareSchema, rehydrateSchema,
  reportSchema,
} from './schema';

const OPERATORS = ['operator', 'admin'] as const;
const READERS = ['operator', 'admin', 'approver', 'viewer'] as const;

export function tieringRoutes(context: ApiContext): FastifyPluginAsyncZod {
  const start = (caller: Caller, workflow: string, workflowId: string, args: unknown[], shareName?: string) =>
    context.temporal.workflow.start(workflow, {
      taskQueue: CORE_TASK_QUEUE, workflowId, args,
      typedSearchAttributes: [{ key: TENANT_CODE, value: caller.tenantCode }, ...(shareName ? [{ key: SHARE_NAME, value: shareName }] : [])],
    });

  /** A run that could not start leaves its queued action failed, then the error goes to the client. */
  const failQueued = (caller: Caller, actionId: string) => async (error: Error): Promise<never> => {
    await store.failQueuedAction(context.pool, caller, actionId, error.message);
    throw error;
  };

  return async (app) => {
    app.put('/tiering/shares/:shareName', { schema: putShareSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['admin']);
      return store.saveShareConfig(context.pool, context.vault, caller, request.params.shareName, request.body);
    });

    app.get('/tiering/shares/:shareName', { schema: getShareSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      const share = await store.loadShareConfig(context.pool, caller, request.params.shareName);
      if (!share) throw notFound(`share ${request.params.shareName} has no tiering configuration`);
      return share;
    });

    app.post('/tiering/plans', { schema: createPlanSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, [...OPERATORS]);
      const planId = randomUUID();
      const workflowId = tieringPlanWorkflowId(caller.tenantCode, planId);
      const policy = normalizePolicy(request.body.policy);
      await store.recordPlan(context.pool, caller, { id: planId, shareName: request.body.shareName, policy, workflowId });
      const input: TieringPlanInput = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, planId, shareName: request.body.shareName, requestedBy: caller.userName, policy };
      await start(caller, 'tieringPlan', workflowId, [input], request.body.shareName).catch(async (error: Error) => {
        await store.failPlanRecord(context.pool, caller, planId, `could not start: ${error.message}`);
        throw error;
      });
      return reply.status(202).send({ planId, workflowId, status: 'PLANNING' as const });
    });

    app.get('/tiering/plans', { schema: listPlansSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      const plans = await store.listPlans(context.pool, caller, request.query.limit);
      return { plans: plans.map(planFields) };
    });

    app.get('/tiering/plans/:planId', { schema: getPlanSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      return planView(await store.loadPlan(context.pool, caller, request.params.planId));
    });

    app.get('/tiering/plans/:planId/report.csv', { schema: reportSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      await store.loadPlan(context.pool, caller, request.params.planId);
      reply.header('Content-Disposition', `attachment; filename="tiering-plan-${request.params.planId}.csv"`);
      return reply.type('text/csv; charset=utf-8').send(store.planReportStream(context.pool, caller, request.params.planId));
    });

    app.post('/tiering/plans/:planId/act', { schema: actSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, [...OPERATORS]);
      const { plan } = await store.loadPlan(context.pool, caller, request.params.planId);
      if (plan.status !== 'PLANNED') throw conflict(`plan ${plan.id} is ${plan.status}; only a PLANNED plan can be acted on`);
      const actionId = randomUUID();
      const workflowId = tieringActWorkflowId(caller.tenantCode, plan.id);
      const input: TieringActInput = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, planId: plan.id, actionId, requestedBy: caller.userName, options: request.body.options };
      await store.queueAction(context.pool, caller, { id: actionId, kind: 'tiering.act', subject: plan.id, shareName: plan.shareName, workflowId });
      await start(caller, 'tieringAct', workflowId, [input], plan.shareName).catch(failQueued(caller, actionId));
      return reply.status(202).send({ actionId, workflowId });
    });

    app.post('/tiering/rehydrate', { schema: rehydrateSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, [...OPERATORS]);
      const { options, ...selection } = request.body;
      const actionId = randomUUID();
      const workflowId = rehydrateWorkflowId(caller.tenantCode, actionId);
      const input: RehydrateInput = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, actionId, requestedBy: caller.userName, selection, options };
      const subject = selection.planId ?? (selection.rewarmed ? 'rewarmed' : 'paths');
      await store.queueAction(context.pool, caller, { id: actionId, kind: 'tiering.rehydrate', subject, shareName: selection.shareName ?? null, workflowId });
      await start(caller, 'rehydrate', workflowId, [input], selection.shareName).catch(failQueued(caller, actionId));
      return reply.status(202).send({ actionId, workflowId });
    });

    app.get('/tiering/actions/:actionId', { schema: getActionSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, [...READERS]);
      const found = await store.loadAction(context.pool, caller, request.params.actionId);
      return actionView(found, await liveStatus(context, found.action));
    });

    app.post('/tiering/actions/:actionId/:signal', { schema: controlSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, [...OPERATORS]);
      const { action } = await store.loadAction(context.pool, caller, request.params.actionId);
      if (!action.workflowId || ['completed', 'failed', 'rolled_back'].includes(action.status)) {
        throw conflict(`action ${action.id} is ${action.status}; it can no longer be paused, resumed or cancelled`);
      }
      await context.temporal.workflow.getHandle(action.workflowId).signal(request.params.signal, { by: caller.userName, reason: request.body.reason });
      return reply.status(202).send({ actionId: action.id, signal: request.params.signal });
    });
  };
}
