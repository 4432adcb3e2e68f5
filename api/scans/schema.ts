// Request and response schemas of scan chunk upload, seal and progress.
import { z } from 'zod';
import { MAX_TIME, MIN_TIME } from '../../lib/csv-rules';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const MAX_SEQ = 99_999_999;

export const scanGuid = z.string().regex(GUID, 'a GUID like 3f2504e0-4f89-11d3-9a0c-0305e82c3301').transform((s) => s.toLowerCase());

const SOURCE_TYPES = { ntfs: 'NTFS', lucidlink: 'LucidLink', smb: 'SMB', posix: 'POSIX' } as const;

export const sourceType = z.string().transform((value, ctx) => {
  const canonical = SOURCE_TYPES[value.toLowerCase() as keyof typeof SOURCE_TYPES];
  if (!canonical) ctx.addIssue({ code: 'custom', message: 'one of NTFS, LucidLink, SMB, POSIX' });
  return canonical ?? 'NTFS';
});

/** X-Scan-Started: an ISO 8601 time with offset, or Unix seconds. */
export const scanStarted = z.string().transform((value, ctx) => {
  const seconds = /^-?\d{1,12}$/.test(value) ? Number(value) : undefined;
  const millis = seconds !== undefined ? seconds * 1000
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(millis) || millis < MIN_TIME * 1000 || millis > MAX_TIME * 1000) {
    ctx.addIssue({ code: 'custom', message: 'an ISO 8601 time with offset (2024-05-01T10:00:00Z) or Unix seconds' });
    return '';
  }
  return new Date(millis).toISOString();
});

const shareName = z.string().min(1).max(255);

/** Plain decimal digits only: "1e3", "0x10" or " 1" would otherwise coerce to another chunk number. */
const seq = z.string().regex(/^\d{1,8}$/, `a chunk number, 0 to ${MAX_SEQ}, in plain digits`).transform(Number);

export const chunkParams = z.object({ scanGuid, seq });

export const scanHeaders = z.looseObject({
  'x-scan-started': scanStarted,
  'x-share-name': shareName,
  'x-source-type': sourceType,
  'x-tenant-code': z.string().optional(),
});

const optionalScanHeaders = z.looseObject({
  'x-scan-started': scanStarted.optional(),
  'x-share-name': shareName.optional(),
  'x-source-type': sourceType.optional(),
});

const chunkAnswer = z.object({
  scanGuid: z.string(), seq: z.number().int(), status: z.enum(['accepted', 'duplicate']),
  rows: z.number().int().optional(), bytes: z.number().int().optional(), sha256: z.string().optional(),
});

export const putChunkSchema = {
  summary: 'Upload one CSV chunk of a scan (text/csv, optionally Content-Encoding: gzip)',
  description: 'Columns dir_path,name,size_bytes,atime_unix,mtime_unix,ctime_unix (RFC 4180, UTF-8, optional header line). '
    + 'Validated completely while streaming, spooled durably, then handed to the scan workflow: 202. The same chunk again: 200.',
  consumes: ['text/csv', 'application/octet-stream'],
  params: chunkParams,
  headers: scanHeaders,
  // The body is streamed to the handler untouched; this only documents it.
  body: z.any().describe('CSV rows dir_path,name,size_bytes,atime_unix,mtime_unix,ctime_unix; Content-Encoding: gzip allowed'),
  response: { 200: chunkAnswer, 202: chunkAnswer },
};

export const sealSchema = {
  summary: 'Seal a scan: no chunks beyond totalChunks will come',
  params: z.object({ scanGuid }),
  headers: optionalScanHeaders,
  body: z.object({ totalChunks: z.number().int().min(0).max(MAX_SEQ + 1) }).strict(),
  response: {
    200: z.object({ scanGuid: z.string(), totalChunks: z.number().int(), status: z.string() }),
    202: z.object({ scanGuid: z.string(), totalChunks: z.number().int(), status: z.string() }),
  },
};

export const scanProgress = z.object({
  scanGuid: z.string(),
  scanId: z.number().int().nullable(),
  shareName: z.string().nullable(),
  srcType: z.string().nullable(),
  status: z.enum(['RUNNING', 'OK', 'WARN', 'ERROR']),
  phase: z.string(),
  reason: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  sealed: z.boolean(),
  totalChunks: z.number().int().nullable(),
  chunksReceived: z.number().int(),
  chunksIngested: z.number().int(),
  chunksInFlight: z.number().int(),
  chunksFailed: z.number().int(),
  rowsIngested: z.number().int(),
  bytesIngested: z.number().int(),
  rowsPerSecond: z.number(),
  errors: z.array(z.string()),
});

export type ScanProgress = z.infer<typeof scanProgress>;

export const getScanSchema = {
  summary: 'Progress and status of a scan',
  params: z.object({ scanGuid }),
  response: { 200: scanProgress },
};
