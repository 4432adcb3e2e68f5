// Access-time updates: an agent posts a batch of audit events for a volume; the api
// stages it durably and signals the volume's accessUpdates workflow, which applies it once.
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerFor } from '../auth';
import type { ApiContext } from '../context';
import { orUnavailable, TEMPORAL_CALL_MS } from '../scans/availability';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { TENANT_CODE } from '../../temporal-config/search-attributes';
import { accessWorkflowId, auditBatchSignal, type AccessUpdatesInput } from '../../workflows/accessUpdates.messages';
import type { AccessEvent } from '../../db/queries/ingest-access';
import { auditUpdatesSchema } from './schema';
import { stageAccessBatch } from './store';

export function auditUpdateRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/audit-updates', { schema: auditUpdatesSchema, bodyLimit: 48 * 1024 * 1024 }, async (request, reply) => {
      const caller = await orUnavailable('Postgres', () => callerFor(context.pool, request, ['agent', 'operator', 'admin']));
      const volumeId = request.headers['x-volume-id'];
      const events: AccessEvent[] = request.body.events.map((e) => ({ filePath: e.file_path, newLastAccessed: e.new_last_accessed, auditFile: e.audit_file, auditEventId: e.audit_event_id }));
      const batchId = createHash('sha256').update(volumeId).update('\0').update(JSON.stringify(events)).digest('hex');
      const outcome = await orUnavailable('Postgres', () => stageAccessBatch(context.pool, caller.tenantId, volumeId, batchId, events));
      if (outcome !== 'already-applied') {
        const input: AccessUpdatesInput = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, volumeId };
        await orUnavailable('Temporal', () => context.temporal.withDeadline(Date.now() + TEMPORAL_CALL_MS, () =>
          context.temporal.workflow.signalWithStart('accessUpdates', {
            taskQueue: CORE_TASK_QUEUE, workflowId: accessWorkflowId(caller.tenantCode, volumeId), args: [input],
            signal: auditBatchSignal, signalArgs: [{ batchId, events: events.length }],
            typedSearchAttributes: [{ key: TENANT_CODE, value: caller.tenantCode }],
          })));
      }
      const status = outcome === 'staged' ? 'accepted' as const : 'duplicate' as const;
      return reply.status(status === 'accepted' ? 202 : 200).send({ volumeId, batchId, events: events.length, status });
    });
  };
}
