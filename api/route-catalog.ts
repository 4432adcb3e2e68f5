// Remembers every route the app registers, so tests can go through all of them
// (new routes included) without a hand-kept list.
import type { FastifyInstance } from 'fastify';

export interface RouteEntry { method: string; url: string; hidden: boolean }

const catalogs = new WeakMap<FastifyInstance, RouteEntry[]>();

export function trackRoutes(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  catalogs.set(app, routes);
  app.addHook('onRoute', (route) => {
    const hidden = Boolean((route.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, hidden });
  });
}

export function routesOf(app: FastifyInstance): RouteEntry[] {
  return [...(catalogs.get(app) ?? [])];
}
