// Helpers for the scan ingestion and access update tests: deterministic CSV
// chunks, chunk uploads through the api, and waiting for a scan to end.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Pool } from 'pg';

export const SCAN_HEADERS = { 'x-share-name': 'projects', 'x-source-type': 'NTFS', 'x-scan-started': '2025-03-01T08:00:00Z' };

/** CSV rows `from` up to `to` (exclusive) of a scan: 10 files per directory, deterministic. */
export function csvRows(from: number, to: number, options: { header?: boolean; eol?: string } = {}): string {
  const eol = options.eol ?? '\n';
  const lines: string[] = options.header ? ['dir_path,name,size_bytes,atime_unix,mtime_unix,ctime_unix'] : [];
  for (let i = from; i < to; i++) {
    const dir = `C:\\Shares\\Projects\\P${Math.floor(i / 100)}\\Sub ${Math.floor(i / 10)}`;
    lines.push(`${dir},file-${i}.dat,${i * 10},${1_600_000_000 + i},${1_500_000_000 + i},${1_500_000_000 + i}`);
  }
  return lines.length === 0 ? '' : lines.join(eol) + eol;
}

export function newScanGuid(): string {
  return randomUUID();
}

export interface ChunkUpload { guid: string; seq: number; body: string | Buffer; token: string; headers?: Record<string, string>; gzip?: boolean }

export function putChunk(app: FastifyInstance, upload: ChunkUpload): Promise<LightMyRequestResponse> {
  const payload = upload.gzip ? gzipSync(Buffer.from(upload.body)) : upload.body;
  return app.inject({
    method: 'PUT', url: `/api/v1/scans/${upload.guid}/chunks/${upload.seq}`, payload,
    headers: {
      authorization: `Bearer ${upload.token}`, 'content-type': 'text/csv', ...SCAN_HEADERS,
      ...(upload.gzip ? { 'content-encoding': 'gzip' } : {}), ...upload.headers,
    },
  });
}

export function seal(app: FastifyInstance, token: string, guid: string, totalChunks: number, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST', url: `/api/v1/scans/${guid}/seal`, payload: { totalChunks },
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

export async function getScan(app: FastifyInstance, token: string, guid: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: `/api/v1/scans/${guid}`, headers: { authorization: `Bearer ${token}` } });
}

/** Polls the scan's progress until it has ended; returns its final progress body. */
export async function waitForScanEnd(app: FastifyInstance, token: string, guid: string, timeoutMs = 90_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await getScan(app, token, guid);
    if (response.statusCode === 200 && response.json().status !== 'RUNNING') return response.json();
    if (Date.now() > deadline) throw new Error(`scan ${guid} did not end: ${response.statusCode} ${response.body}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function scanRow(admin: Pool, tenantId: string, guid: string): Promise<Record<string, unknown> | undefined> {
  const result = await admin.query('SELECT * FROM scan WHERE tenant_id = $1 AND scan_guid = $2', [tenantId, guid]);
  return result.rows[0];
}

export async function fileCount(admin: Pool, tenantId: string, guid: string): Promise<number> {
  const result = await admin.query(
    'SELECT count(*)::int AS n FROM file f JOIN scan s ON s.id = f.scan_id WHERE s.tenant_id = $1 AND s.scan_guid = $2', [tenantId, guid]);
  return result.rows[0].n;
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
