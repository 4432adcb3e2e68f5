// Guards every request body against clients that trickle: a body that stops for
// longer than the idle limit, or that arrives slower than the minimum rate once the
// grace period is over, ends with 408 (problem+json, connection closed) instead of
// holding a connection and its buffers forever. Time the server itself is not
// reading (backpressure) is never counted against the client. Also refuses encoded
// bodies (gzip...) where only a raw CSV stream, which decodes itself, can take them.
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem';

export interface BodyPace { idleMs: number; graceMs: number; minBytesPerSecond: number }

export const DEFAULT_BODY_PACE: BodyPace = { idleMs: 30_000, graceMs: 15_000, minBytesPerSecond: 1024 };

export function bodyPaceFromEnv(env: NodeJS.ProcessEnv = process.env): BodyPace {
  const pick = (name: string, fallback: number) => (env[name] && Number(env[name]) > 0 ? Number(env[name]) : fallback);
  return {
    idleMs: pick('STRATA_BODY_IDLE_MS', DEFAULT_BODY_PACE.idleMs),
    graceMs: pick('STRATA_BODY_GRACE_MS', DEFAULT_BODY_PACE.graceMs),
    minBytesPerSecond: pick('STRATA_BODY_MIN_BYTES_PER_SECOND', DEFAULT_BODY_PACE.minBytesPerSecond),
  };
}

function requestTimeout(detail: string): HttpProblem {
  const problem = new HttpProblem(408, 'Request Timeout', detail, [{ field: 'body', reason: detail }], { Connection: 'close' });
  (problem as HttpProblem & { statusCode: number }).statusCode = 408;
  return problem;
}

export class PacedBody extends Transform {
  receivedEncodedLength = 0;
  private lastByteAt: number;
  private waitedMs = 0;
  private readonly startedAt: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pace: BodyPace, private readonly now: () => number = Date.now) {
    super();
    this.startedAt = this.lastByteAt = now();
    this.timer = setInterval(() => this.check(), Math.max(10, Math.min(1000, pace.idleMs / 4)));
    this.timer.unref();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    this.lastByteAt = this.now();
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    clearInterval(this.timer);
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    clearInterval(this.timer);
    done(error);
  }

  private check(): void {
    const now = this.now();
    if (this.writableFinished) return;
    if (this.readableLength >= this.readableHighWaterMark) {
      // The server is not reading: the client cannot be blamed for this time.
      this.waitedMs += now - this.lastByteAt;
      this.lastByteAt = now;
      return;
    }
    const idle = now - this.lastByteAt;
    if (idle > this.pace.idleMs) {
      this.destroy(requestTimeout(`the request body stalled: no data for ${Math.round(idle / 1000)} s after ${this.receivedEncodedLength} bytes (limit ${this.pace.idleMs / 1000} s); nothing was kept`));
      return;
    }
    const sending = now - this.startedAt - this.waitedMs;
    const rate = this.receivedEncodedLength / Math.max(sending / 1000, 0.001);
    if (sending > this.pace.graceMs && rate < this.pace.minBytesPerSecond) {
      this.destroy(requestTimeout(`the request body arrives too slowly: ${Math.round(rate)} bytes/s after ${Math.round(sending / 1000)} s (minimum ${this.pace.minBytesPerSecond} bytes/s); nothing was kept`));
    }
  }
}

function expectsBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Media types whose routes stream the body themselves and decode Content-Encoding. */
const SELF_DECODING = /^(text\/csv|application\/csv|application\/octet-stream)\s*(;|$)/i;

function refuseEncoding(request: FastifyRequest): void {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return;
  if (SELF_DECODING.test(String(request.headers['content-type'] ?? ''))) return;
  throw new HttpProblem(415, 'Unsupported Media Type', `Content-Encoding ${JSON.stringify(encoding)} is not accepted on this request; `
    + 'only CSV chunk uploads may be compressed (gzip)', [{ field: 'headers.content-encoding', reason: 'send the body uncompressed' }], { Connection: 'close' });
}

export function installBodyWatchdog(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!expectsBody(request)) return payload;
    refuseEncoding(request);
    const paced = new PacedBody(bodyPaceFromEnv());
    // The timeout may fire before a handler reads the body: it then finds the stream
    // errored (stream.errored); an 'error' nobody listens to yet must not crash the process.
    paced.on('error', () => undefined);
    payload.on('error', (error) => paced.destroy(error));
    payload.on('aborted', () => paced.destroy(Object.assign(new Error('the client aborted the request body'), { code: 'ECONNRESET' })));
    // Once answered, a body nobody read any further is dropped, and its timer with it.
    reply.raw.once('close', () => { if (!paced.destroyed) paced.destroy(); });
    return payload.pipe(paced);
  });
}
