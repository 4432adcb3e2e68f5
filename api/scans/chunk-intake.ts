// Streams one uploaded chunk through gunzip (when the body says gzip) and the CSV
// validator into a temp spool file, never holding the body in memory; only a
// completely valid chunk is claimed in the spool. Bad input leaves nothing behind.
import { createHash } from 'node:crypto';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ChunkRejectedError, CsvChunkValidator } from '../../lib/csv-chunk';
import type { CsvLimits } from '../../lib/csv-rules';
import { SpoolWriter, type SpoolMeta } from '../../lib/spool';
import { badRequest, HttpProblem, unavailable } from '../problem';

export interface ChunkTarget { dataDir: string; tenantCode: string; scanGuid: string; seq: number }
export interface SpoolOutcome { outcome: 'spooled' | 'duplicate'; meta: SpoolMeta }

/** After a bad chunk the rest of the body is read and dropped (up to this much) so the client sees the answer. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export async function spoolChunk(target: ChunkTarget, body: Readable, gzip: boolean, limits: CsvLimits): Promise<SpoolOutcome> {
  const writer = await SpoolWriter.create(target.dataDir, target.tenantCode, target.scanGuid, target.seq).catch((error: unknown) => { throw asProblem(error); });
  const validator = new CsvChunkValidator(limits);
  const hash = createHash('sha256');
  let summary: { rows: number; bytes: number } | undefined;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        for (const piece of validator.push(chunk)) { hash.update(piece); this.push(piece); }
        done();
      } catch (error) { done(error as Error); }
    },
    flush(done) {
      try {
        const end = validator.finish();
        for (const piece of end.tail) { hash.update(piece); this.push(piece); }
        summary = end.summary;
        done();
      } catch (error) { done(error as Error); }
    },
  });
  const entry: Writable = gzip ? createGunzip({ chunkSize: 256 * 1024 }) : check;
  const stages = gzip ? pipeline(entry as Transform, check, writer.stream) : pipeline(check, writer.stream);
  const detach = feed(body, entry);
  try {
    await stages;
  } catch (error) {
    detach();
    await writer.abort();
    const problem = asProblem(error);
    if (!(problem instanceof HttpProblem) || problem.status !== 413) await drain(body);
    throw problem;
  }
  if (!summary) throw new Error('validator finished without a summary');
  const meta = { seq: target.seq, rows: summary.rows, bytes: summary.bytes, sha256: hash.digest('hex') };
  const outcome = await writer.commit(meta);
  return { outcome, meta: { ...meta, spoolRef: writer.spoolRef } };
}

/** Pipes the request into the first stage without letting a failure downstream destroy the request itself. */
function feed(body: Readable, entry: Writable): () => void {
  const fail = (error: Error) => entry.destroy(error);
  const closedEarly = () => { if (!body.readableEnded) entry.destroy(new UploadInterrupted()); };
  body.on('error', fail);
  body.on('close', closedEarly);
  // A body that already failed (e.g. timed out while the request was being checked) emits nothing more.
  if (body.destroyed) process.nextTick(() => entry.destroy(body.errored ?? new UploadInterrupted()));
  body.pipe(entry);
  return () => {
    body.unpipe(entry);
    body.off('error', fail);
    body.off('close', closedEarly);
  };
}

async function drain(body: Readable): Promise<void> {
  if (body.readableEnded || body.destroyed) return;
  await new Promise<void>((resolve) => {
    let seen = 0;
    const stop = () => { body.off('data', count); resolve(); };
    const count = (chunk: Buffer) => { seen += chunk.length; if (seen > DRAIN_LIMIT) { body.pause(); stop(); } };
    body.on('data', count);
    body.once('end', stop);
    body.once('close', stop);
    body.once('error', stop);
    body.resume();
  });
}

class UploadInterrupted extends Error {
  constructor() { super('the upload ended before the body was complete'); this.name = 'UploadInterrupted'; }
}

function asProblem(error: unknown): unknown {
  if (error instanceof ChunkRejectedError) {
    const detail = `chunk rejected: ${error.message}`;
    return error.tooLarge ? new HttpProblem(413, 'Content Too Large', detail, error.problems) : badRequest(detail, error.problems);
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return badRequest(`the body is declared Content-Encoding: gzip but is not valid gzip (${(error as Error).message})`,
      [{ field: 'body', reason: 'invalid gzip data' }]);
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') return unavailable('the spool has no space left for this chunk; nothing was kept', 60);
  if (error instanceof UploadInterrupted || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return badRequest('the upload ended before the body was complete; nothing was kept');
  }
  return error;
}
