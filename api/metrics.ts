// Prometheus metrics: process defaults plus request counts and latencies by route.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const requests = new Counter({
  name: 'strata_http_requests_total', help: 'HTTP requests by route and status',
  labelNames: ['method', 'route', 'status'], registers: [registry],
});
const latency = new Histogram({
  name: 'strata_http_request_seconds', help: 'HTTP request latency by route',
  labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry],
});

export function installMetrics(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
