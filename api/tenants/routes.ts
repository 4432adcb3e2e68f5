// Tenants and tokens: onboarding runs the onboardTenant workflow; tokens are
// issued here, shown once and stored hashed.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { onboardTenantWorkflowId, type OnboardTenantInput } from '../../workflows/onboardTenant.messages';
import { rotateTenantKeyWorkflowId, type RotateTenantKeyInput } from '../../workflows/rotateTenantKey.messages';
import { TENANT_CODE } from '../../temporal-config/search-attributes';
import { issueToken } from '../../lib/tokens';
import { callerFor, requireInstallAdmin } from '../auth';
import { conflict, notFound } from '../problem';
import type { ApiContext } from '../context';
import { issueTokenRecord, revokeTokenRecord, tenantExists } from './store';
import { issueTokenSchema, onboardSchema, revokeTokenSchema, rotateKeySchema } from './schema';

export function tenantRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/tenants', { schema: onboardSchema }, async (request, reply) => {
      const admin = await requireInstallAdmin(context.pool, request);
      if (await tenantExists(context.pool, request.body.code)) throw conflict(`tenant ${request.body.code} already exists`);
      const token = issueToken();
      const userName = request.body.admin?.name ?? 'admin';
      const input: OnboardTenantInput = {
        code: request.body.code, name: request.body.name, requestedBy: `install-admin:${admin.userName}`,
        firstUsers: [{ name: userName, role: 'admin', tokenId: token.id, tokenHashHex: token.hash.toString('hex'), label: 'onboarding' }],
      };
      const result = await context.temporal.workflow.execute('onboardTenant', {
        taskQueue: CORE_TASK_QUEUE, workflowId: onboardTenantWorkflowId(input.code), args: [input],
        typedSearchAttributes: [{ key: TENANT_CODE, value: input.code }],
      });
      if (!result.created) throw conflict(`tenant ${input.code} already exists`);
      return reply.status(201).send({ tenantId: result.tenantId, code: result.code, kmsRef: result.kmsRef, adminToken: { id: token.id, userName, token: token.token } });
    });

    app.post('/tenants/:code/tokens', { schema: issueTokenSchema }, async (request, reply) => {
      const caller = await callerFor(context.pool, request, ['admin'], request.params.code);
      const issued = await issueTokenRecord(context.pool, caller, request.body);
      return reply.status(201).send(issued);
    });

    app.delete('/tokens/:id', { schema: revokeTokenSchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['admin']);
      if (!(await revokeTokenRecord(context.pool, caller, request.params.id))) throw notFound(`token ${request.params.id} not found`);
      return { id: request.params.id, revoked: true as const };
    });

    app.post('/tenants/:code/rotate-key', { schema: rotateKeySchema }, async (request) => {
      const caller = await callerFor(context.pool, request, ['admin'], request.params.code);
      const input: RotateTenantKeyInput = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, requestedBy: caller.userName };
      return context.temporal.workflow.execute('rotateTenantKey', {
        taskQueue: CORE_TASK_QUEUE, workflowId: rotateTenantKeyWorkflowId(caller.tenantCode, randomUUID()), args: [input],
        typedSearchAttributes: [{ key: TENANT_CODE, value: caller.tenantCode }],
      });
    });
  };
}
