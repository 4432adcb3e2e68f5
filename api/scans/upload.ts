// One chunk upload from start to answer: refuse what cannot be taken before reading
// the body, recognise a chunk already spooled or ingested (200, no second ingest),
// otherwise validate and spool it durably, then signal the scan workflow (202).
import type { Readable } from 'node:stream';
import type { Caller } from '../auth';
import type { ApiContext } from '../context';
import { conflict, HttpProblem } from '../problem';
import { csvLimitsFromEnv } from '../../lib/csv-rules';
import { chunkSpoolRef, readSpoolMeta, removeSpooledChunk, spoolExists } from '../../lib/spool';
import type { ScanRow } from '../../db/queries/ingest';
import { orUnavailable } from './availability';
import { spoolChunk } from './chunk-intake';
import { announceChunk, checkTemporal, startedWith, type ScanHeaders } from './signals';
import { checkUpload } from './store';

export interface ChunkRequest { scanGuid: string; seq: number; headers: ScanHeaders; contentEncoding?: string; contentLength?: string }
export interface ChunkAnswer {
  status: 200 | 202;
  body: { scanGuid: string; seq: number; status: 'accepted' | 'duplicate'; rows?: number; bytes?: number; sha256?: string };
}

export async function receiveChunk(context: ApiContext, caller: Caller, request: ChunkRequest, body: Readable): Promise<ChunkAnswer> {
  const limits = csvLimitsFromEnv();
  const gzip = contentIsGzip(request.contentEncoding);
  if (Number(request.contentLength ?? 0) > limits.maxBytes) {
    throw new HttpProblem(413, 'Content Too Large', `a chunk may have at most ${limits.maxBytes} bytes`);
  }
  const scan = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, scanGuid: request.scanGuid };
  const duplicate: ChunkAnswer = { status: 200, body: { scanGuid: request.scanGuid, seq: request.seq, status: 'duplicate' } };
  const known = await orUnavailable('Postgres', () => checkUpload(context.pool, caller.tenantId, request.scanGuid, request.seq));
  if (known.scan) assertSameScan(known.scan, request.headers);
  else assertSameStart(await startedWith(context, scan), request.headers, request.scanGuid);
  if (known.ingested) return duplicate;
  if (known.scan && known.scan.status !== 'RUNNING') throw conflict(`scan ${request.scanGuid} is ${known.scan.status}; it takes no more chunks`);

  const spoolRef = chunkSpoolRef(caller.tenantCode, request.scanGuid, request.seq);
  const spooled = await readSpoolMeta(context.dataDir, spoolRef);
  if (spooled) {
    // Already durable; signal again in case the first upload died before it could.
    await announceChunk(context, scan, request.headers, spooled);
    return duplicate;
  }
  if (await spoolExists(context.dataDir, spoolRef)) return duplicate;
  await checkTemporal(context);

  const target = { dataDir: context.dataDir, tenantCode: caller.tenantCode, scanGuid: request.scanGuid, seq: request.seq };
  const { outcome, meta } = await spoolChunk(target, body, gzip, limits);
  if (outcome === 'duplicate') return duplicate;
  try {
    await announceChunk(context, scan, request.headers, meta);
  } catch (error) {
    // A finished scan will never ingest this file; a 503 keeps it, and the retry or the seal signals it.
    if (error instanceof HttpProblem && error.status === 409) await removeSpooledChunk(context.dataDir, spoolRef);
    throw error;
  }
  return { status: 202, body: { scanGuid: request.scanGuid, seq: request.seq, status: 'accepted', rows: meta.rows, bytes: meta.bytes, sha256: meta.sha256 } };
}

function contentIsGzip(encoding: string | undefined): boolean {
  const value = (encoding ?? 'identity').trim().toLowerCase();
  if (value === 'gzip' || value === 'x-gzip') return true;
  if (value === 'identity' || value === '') return false;
  throw new HttpProblem(415, 'Unsupported Media Type', `Content-Encoding ${JSON.stringify(encoding)} is not supported; use gzip or none`);
}

function assertSameScan(scan: ScanRow, headers: ScanHeaders): void {
  assertSameStart({ shareName: scan.shareName, srcType: scan.srcType, startedAt: scan.startedAt.toISOString() }, headers, scan.scanGuid);
}

function assertSameStart(started: ScanHeaders | undefined, headers: ScanHeaders, scanGuid: string): void {
  if (!started) return;
  const differs: string[] = [];
  if (started.shareName !== headers.shareName) differs.push(`X-Share-Name is ${started.shareName}`);
  if (started.srcType !== headers.srcType) differs.push(`X-Source-Type is ${started.srcType}`);
  if (Date.parse(started.startedAt) !== Date.parse(headers.startedAt)) differs.push(`X-Scan-Started is ${started.startedAt}`);
  if (differs.length > 0) throw conflict(`scan ${scanGuid} was started with other headers: ${differs.join(', ')}`);
}
