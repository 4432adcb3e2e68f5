// Codec server for the Temporal UI and `temporal` CLI: POST /codec/encode and
// /codec/decode run payloads through the same Vault-backed codec as the workers.
// Install admins only (payloads of every tenant pass here); CORS for the UI origins.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { VaultUnavailableError } from '../../activities/errors';
import { PayloadDecodeError } from '../../lib/payload-codec';
import { payloadFromJson, payloadToJson } from '../../lib/payload-json';
import { requireInstallAdmin } from '../auth';
import type { ApiContext } from '../context';
import { badRequest, unavailable } from '../problem';
import { codecSchema, loginSchema, preflightSchema } from './schema';
import { CLEARED_COOKIE, cookieToken, loginPage, sessionCookie, useBearer } from './session';

export const DEFAULT_CODEC_CORS_ORIGINS = ['http://localhost:8233'];

export function codecCorsOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = env.STRATA_CODEC_CORS_ORIGINS?.split(',').map((origin) => origin.trim().replace(/\/$/, '')).filter(Boolean);
  return listed && listed.length > 0 ? listed : DEFAULT_CODEC_CORS_ORIGINS;
}

export function codecRoutes(context: ApiContext, corsOrigins: string[]): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      reply.header('Vary', 'Origin');
      if (origin && corsOrigins.includes(origin)) reply.headers({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
    });

    app.options('/codec/:operation', { schema: preflightSchema }, async (_request, reply) => reply.status(204).headers({
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
      'Access-Control-Max-Age': '600',
    }).send());

    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    app.get('/codec/login', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(loginPage()));

    app.post('/codec/login', { schema: loginSchema }, async (request, reply) => {
      request.raw.headers.authorization = `Bearer ${request.body.token.trim()}`;
      const admin = await requireInstallAdmin(context.pool, request);
      return reply.header('Set-Cookie', sessionCookie(request.body.token.trim(), request.protocol === 'https')).type('text/html; charset=utf-8')
        .send(loginPage(`Signed in as ${escapeHtml(admin.userName)} for 8 hours. The Temporal UI can now decode payloads (with cross-origin credentials on).`));
    });

    app.post('/codec/logout', { schema: { hide: true } }, async (_request, reply) =>
      reply.header('Set-Cookie', CLEARED_COOKIE).type('text/html; charset=utf-8').send(loginPage('Signed out.')));

    app.post('/codec/:operation', { schema: codecSchema, bodyLimit: 16 * 1024 * 1024 }, async (request) => {
      useBearer(request, cookieToken(request));
      const admin = await requireInstallAdmin(context.pool, request);
      const codec = context.payloadCodec;
      if (!codec) throw unavailable('payload encryption is switched off on this api (STRATA_PAYLOAD_ENCRYPTION=off)', 60);
      const namespace = request.headers['x-namespace'];
      const served = context.temporal.options.namespace;
      if (namespace !== undefined && namespace !== served) throw badRequest(`this codec serves Temporal namespace ${served}, not ${namespace}`);
      const payloads = request.body.payloads.map(payloadFromJson);
      try {
        const converted = request.params.operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
        request.log.info({ admin: admin.userName, operation: request.params.operation, payloads: payloads.length }, 'codec request');
        return { payloads: converted.map(payloadToJson) };
      } catch (error) {
        if (error instanceof PayloadDecodeError) throw badRequest(error.message);
        if (error instanceof VaultUnavailableError) throw unavailable(`Vault is unavailable, payloads cannot be ${request.params.operation}d now`);
        throw error;
      }
    });
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
