// Index routes: operators start and watch bootstrap runs; agents send the change
// events that keep a volume's index current (signal-with-start of indexSync).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { bootstrapIndexWorkflowId, type BootstrapIndexInput } from '../../workflows/bootstrapIndex.messages';
import { changesSignal, indexSyncWorkflowId, type IndexSyncInput } from '../../workflows/indexSync.messages';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { indexProgress } from './progress';
import { bootstrapSchema, changesSchema, getIndexSchema } from './schema';

export function indexRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/index/bootstrap', { schema: bootstrapSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['operator', 'admin']);
      const body = request.body;
      const volume = body.volume.length > 1 ? body.volume.replace(/\/+$/, '') : body.volume;
      const workflowId = bootstrapIndexWorkflowId(caller.tenantCode, body.hostId, volume);
      const input: BootstrapIndexInput = { ...body, volume, tenantId: caller.tenantId, tenantCode: caller.tenantCode, requestedBy: caller.userName };
      await context.temporal.workflow.start('bootstrapIndex', { workflowId, taskQueue: CORE_TASK_QUEUE, args: [input] });
      return reply.status(202).send({ id: workflowId, hostId: body.hostId, volume, status: 'RUNNING' });
    });

    app.get('/index/:id', { schema: getIndexSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['operator', 'admin', 'approver', 'viewer']);
      return indexProgress(context, caller, request.params.id);
    });

    app.post('/index/changes', { schema: changesSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['agent', 'operator', 'admin']);
      const { hostId, events } = request.body;
      const volume = request.body.volume.length > 1 ? request.body.volume.replace(/\/+$/, '') : request.body.volume;
      const workflowId = indexSyncWorkflowId(caller.tenantCode, hostId, volume);
      const input: IndexSyncInput = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, hostId, volume };
      await context.temporal.workflow.signalWithStart('indexSync', {
        workflowId, taskQueue: CORE_TASK_QUEUE, args: [input], signal: changesSignal, signalArgs: [{ events, source: 'api' }],
      });
      return reply.status(202).send({ workflowId, accepted: events.length });
    });
  };
}
