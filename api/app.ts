// Builds the Fastify app: zod validation and OpenAPI, one error handler, metrics,
// and one plugin per resource under /api/v1.
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiContext } from './context';
import { handleError } from './error-handler';
import { installMetrics } from './metrics';
import { healthRoutes } from './health/routes';
import { tenantRoutes } from './tenants/routes';
import { auditRoutes } from './audit/routes';
import { scanRoutes } from './scans/routes';
import { auditUpdateRoutes } from './audit-updates/routes';
import { indexRoutes } from './index/routes';
import { shareRoutes } from './shares/routes';
import { browseRoutes } from './browse/routes';
import { indexAuditRoutes } from './index-audit/routes';
import { notFound } from './problem';
import { sanitizeRoutes } from './sanitize/routes';
import { approvalsPageRoutes } from './approvals/routes';
import { tieringRoutes } from './tiering/routes';
import { remediationRoutes } from './remediation/routes';
import { driftRoutes } from './drift/routes';
import { installBodyWatchdog } from './body-watchdog';
import { handleClientError } from './client-errors';
import { trackRoutes } from './route-catalog';
import { installJsonParser } from './json-body';
import { apiReplicasFromEnv } from '../lib/tenant-limits';
import { TenantLimiter } from './limits/enforcer';
import { LimitStore } from './limits/store';
import { limitRoutes } from './limits/routes';
import { codecCorsOrigins, codecRoutes } from './codec/routes';

export interface AppOptions { logger?: boolean | object; bodyLimit?: number; codecCorsOrigins?: string[] }

export async function buildApp(context: ApiContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false, bodyLimit: options.bodyLimit ?? 1_048_576, clientErrorHandler: handleClientError, frameworkErrors: handleError,
  }).withTypeProvider<ZodTypeProvider>();
  trackRoutes(app);
  installJsonParser(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => handleError(notFound(`no route ${request.method} ${request.url.split('?')[0]}`), request, reply));
  await app.register(swagger, {
    openapi: {
      info: { title: 'strata API', version: '1.0.0', description: 'File estates of many tenants, orchestrated on Temporal' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  installMetrics(app);
  installBodyWatchdog(app);
  const limiter = new TenantLimiter(context.pool, new LimitStore(context.pool), apiReplicasFromEnv());
  limiter.install(app);
  await app.register(healthRoutes(context));
  await app.register(tenantRoutes(context), { prefix: '/api/v1' });
  await app.register(limitRoutes(context, limiter), { prefix: '/api/v1' });
  await app.register(auditRoutes(context), { prefix: '/api/v1' });
  await app.register(scanRoutes(context), { prefix: '/api/v1' });
  await app.register(auditUpdateRoutes(context), { prefix: '/api/v1' });
  await app.register(indexRoutes(context), { prefix: '/api/v1' });
  await app.register(shareRoutes(context), { prefix: '/api/v1' });
  await app.register(browseRoutes(context), { prefix: '/api/v1' });
  await app.register(indexAuditRoutes(context), { prefix: '/api/v1' });
  await app.register(sanitizeRoutes(context), { prefix: '/api/v1' });
  await app.register(tieringRoutes(context), { prefix: '/api/v1' });
  await app.register(remediationRoutes(context), { prefix: '/api/v1' });
  await app.register(driftRoutes(context), { prefix: '/api/v1' });
  await app.register(approvalsPageRoutes());
  await app.register(codecRoutes(context, options.codecCorsOrigins ?? codecCorsOrigins()));
  return app;
}
