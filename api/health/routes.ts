// Liveness, readiness (Postgres, Temporal, Vault) and Prometheus metrics.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context';
import { registry } from '../metrics';
import { healthSchema, readySchema } from './schema';

async function check(work: () => Promise<unknown>): Promise<string> {
  try {
    await Promise.race([work(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 3000))]);
    return 'ok';
  } catch (error) {
    return `failing: ${(error as Error).message}`;
  }
}

export function healthRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok' as const }));

    app.get('/readyz', { schema: readySchema }, async (_request, reply) => {
      const checks = {
        postgres: await check(() => context.pool.query('SELECT 1')),
        temporal: await check(() => context.temporalConnection.healthService.check({})),
        vault: await check(async () => { if ((await context.vault.health()).sealed) throw new Error('sealed'); }),
      };
      const ready = Object.values(checks).every((value) => value === 'ok');
      return reply.status(ready ? 200 : 503).send({ ready, checks });
    });

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
}
