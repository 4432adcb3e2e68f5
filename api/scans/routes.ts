// Scan ingestion routes: agents upload CSV chunks and seal scans; operators watch
// progress. CSV bodies reach the handler as a raw stream, never buffered whole.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { callerFor } from '../auth';
import { HttpProblem } from '../problem';
import type { ApiContext } from '../context';
import { orUnavailable } from './availability';
import { scanProgress, sealScan } from './progress';
import { getScanSchema, putChunkSchema, sealSchema } from './schema';
import { receiveChunk } from './upload';

const UPLOADERS = ['agent', 'operator', 'admin'] as const;
const READERS = ['agent', 'operator', 'admin', 'approver', 'viewer'] as const;

export function scanRoutes(context: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.addContentTypeParser(['text/csv', 'application/csv', 'application/octet-stream'], (_request, payload, done) => done(null, payload));

    app.put('/scans/:scanGuid/chunks/:seq', { schema: putChunkSchema }, async (request, reply) => {
      const caller = await orUnavailable('Postgres', () => callerFor(context.pool, request, [...UPLOADERS]));
      if (!(request.body instanceof Readable)) throw new HttpProblem(415, 'Unsupported Media Type', 'a chunk is sent as text/csv (or application/octet-stream)');
      const h = request.headers;
      const answer = await receiveChunk(context, caller, {
        ...request.params, contentEncoding: h['content-encoding'], contentLength: h['content-length'],
        headers: { shareName: h['x-share-name'], srcType: h['x-source-type'], startedAt: h['x-scan-started'] },
      }, request.body);
      return reply.status(answer.status).send(answer.body);
    });

    app.post('/scans/:scanGuid/seal', { schema: sealSchema }, async (request, reply) => {
      const caller = await orUnavailable('Postgres', () => callerFor(context.pool, request, [...UPLOADERS]));
      const h = request.headers;
      const headers = { shareName: h['x-share-name'], srcType: h['x-source-type'], startedAt: h['x-scan-started'] };
      const answer = await sealScan(context, caller, request.params.scanGuid, request.body.totalChunks, headers);
      return reply.status(answer.status).send(answer.body);
    });

    app.get('/scans/:scanGuid', { schema: getScanSchema }, async (request) => {
      const caller = await orUnavailable('Postgres', () => callerFor(context.pool, request, [...READERS]));
      return scanProgress(context, caller, request.params.scanGuid);
    });
  };
}
