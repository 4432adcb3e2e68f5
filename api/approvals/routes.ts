// Serves the approvals page; it talks to the api with the approver's own token.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { APPROVALS_PAGE } from './page';

export function approvalsPageRoutes(): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/approvals', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('Content-Security-Policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'").send(APPROVALS_PAGE));
  };
}
