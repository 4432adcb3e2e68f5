// The body pace watchdog: stalled and trickling bodies end with 408, time the server
// is not reading is not blamed on the client, and a body that times out before its
// handler reads it neither crashes the process nor hangs the handler.
import { connect } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import Fastify from 'fastify';
import { installBodyWatchdog, PacedBody } from '../../api/body-watchdog';
import { handleError } from '../../api/error-handler';
import { HttpProblem } from '../../api/problem';

describe('body pace watchdog', () => {
  const collect = (paced: PacedBody) => new Promise<unknown>((resolve) => {
    paced.on('data', () => undefined);
    paced.on('end', () => resolve('ended'));
    paced.on('error', (error) => resolve(error));
  });

  it('ends a stalled body with 408 and says so', async () => {
    const paced = new PacedBody({ idleMs: 100, graceMs: 10_000, minBytesPerSecond: 1 });
    const outcome = collect(paced);
    paced.write(Buffer.from('partial'));
    const error = await outcome;
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).status).toBe(408);
    expect((error as HttpProblem).message).toMatch(/stalled: no data .* after 7 bytes/);
  });

  it('ends a trickling body that stays under the minimum rate after the grace period', async () => {
    const paced = new PacedBody({ idleMs: 1000, graceMs: 200, minBytesPerSecond: 1000 });
    const outcome = collect(paced);
    const drip = setInterval(() => paced.write(Buffer.from('x')), 20);
    const error = await outcome;
    clearInterval(drip);
    expect((error as HttpProblem).status).toBe(408);
    expect((error as HttpProblem).message).toMatch(/too slowly/);
  });

  it('does not blame the client while the server is not reading', async () => {
    const paced = new PacedBody({ idleMs: 50, graceMs: 50, minBytesPerSecond: 1e9 });
    paced.write(Buffer.alloc(64 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(paced.destroyed).toBe(false);
    const sink = new PassThrough();
    const done = new Promise((resolve) => sink.on('finish', resolve));
    paced.pipe(sink);
    sink.resume();
    paced.end();
    await done;
  });
});

describe('body pace watchdog in the app', () => {
  it('answers 408 when the body times out before the handler reads it, without an uncaught error', async () => {
    Object.assign(process.env, { STRATA_BODY_IDLE_MS: '300', STRATA_BODY_GRACE_MS: '200', STRATA_BODY_MIN_BYTES_PER_SECOND: '100' });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const app = Fastify();
    app.setErrorHandler(handleError);
    installBodyWatchdog(app);
    app.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));
    app.put('/slow', async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 800));
      const chunks: Buffer[] = [];
      for await (const chunk of request.body as Readable) chunks.push(chunk as Buffer);
      return `read ${chunks.length} pieces`;
    });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\nabc'));
        let text = '';
        socket.on('data', (data) => { text += data.toString(); });
        socket.on('close', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1.1 408/);
      expect(answer).toMatch(/arrives too slowly|stalled/);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const name of ['STRATA_BODY_IDLE_MS', 'STRATA_BODY_GRACE_MS', 'STRATA_BODY_MIN_BYTES_PER_SECOND']) delete process.env[name];
      await app.close();
    }
  });
});
