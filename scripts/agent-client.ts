// The agent's HTTP side: chunk upload (streamed from disk), seal, scan status and
// access batches, each retried with exponential backoff and jitter on network
// errors, 5xx, 408 and 429 (honouring Retry-After). Other 4xx are final.
import { createReadStream, statSync } from 'node:fs';
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

export interface ApiTarget { api: string; token: string; tenantCode?: string }
export interface ScanHeaders { scanGuid: string; share: string; srcType: string; startedAt: string }
export interface ApiAnswer { status: number; body: unknown }

export interface RetryPolicy { attempts: number; baseMs: number; maxMs: number }
export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseMs: 500, maxMs: 60_000 };

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`HTTP ${status}: ${typeof body === 'object' && body && 'detail' in body ? String((body as { detail: unknown }).detail) : JSON.stringify(body)}`);
    this.name = 'ApiError';
  }
}

const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 16 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }) };

interface Call { method: string; path: string; headers?: Record<string, string>; body?: () => NodeJS.ReadableStream | Buffer }

function send(target: ApiTarget, call: Call): Promise<ApiAnswer & { retryAfter?: number }> {
  const url = new URL(`/api/v1${call.path}`, target.api);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string> = { authorization: `Bearer ${target.token}`, ...call.headers };
  if (target.tenantCode) headers['x-tenant-code'] = target.tenantCode;
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, { method: call.method, headers, agent: secure ? agents.https : agents.http }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown = text;
        try { body = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
        const retryAfter = Number(res.headers['retry-after']);
        resolve({ status: res.statusCode ?? 0, body, retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = call.body?.();
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else { body.on('error', (error) => req.destroy(error)); body.pipe(req); }
  });
}

function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Full-jitter exponential backoff: a random wait up to base * 2^attempt, capped. */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.round(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));
}

export async function callWithRetry(target: ApiTarget, call: Call, policy = DEFAULT_RETRY, onRetry?: (why: string, waitMs: number) => void): Promise<ApiAnswer> {
  for (let attempt = 0; ; attempt++) {
    let why: string;
    let waitMs = backoffMs(attempt, policy);
    try {
      const answer = await send(target, call);
      if (!retryable(answer.status)) {
        if (answer.status >= 400) throw new ApiError(answer.status, answer.body);
        return answer;
      }
      why = `HTTP ${answer.status}`;
      if (answer.retryAfter !== undefined) waitMs = Math.max(waitMs, answer.retryAfter * 1000);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      why = (error as Error).message;
    }
    if (attempt + 1 >= policy.attempts) throw new Error(`${call.method} ${call.path} failed after ${policy.attempts} attempts: ${why}`);
    onRetry?.(why, waitMs);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

function scanHeaderValues(scan: ScanHeaders): Record<string, string> {
  return { 'x-share-name': scan.share, 'x-source-type': scan.srcType, 'x-scan-started': scan.startedAt };
}

/** PUTs one chunk file (gzip when it ends in .gz); 202 accepted, 200 already had it. */
export function uploadChunk(target: ApiTarget, scan: ScanHeaders, seq: number, file: string, policy?: RetryPolicy, onRetry?: (why: string, waitMs: number) => void): Promise<ApiAnswer> {
  const gzip = file.endsWith('.gz');
  return callWithRetry(target, {
    method: 'PUT', path: `/scans/${scan.scanGuid}/chunks/${seq}`,
    headers: {
      ...scanHeaderValues(scan), 'content-type': 'text/csv', 'content-length': String(statSync(file).size),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: () => createReadStream(file, { highWaterMark: 1 << 20 }),
  }, policy, onRetry);
}

export function sealScan(target: ApiTarget, scan: ScanHeaders, totalChunks: number, policy?: RetryPolicy): Promise<ApiAnswer> {
  const body = Buffer.from(JSON.stringify({ totalChunks }));
  return callWithRetry(target, {
    method: 'POST', path: `/scans/${scan.scanGuid}/seal`,
    headers: { ...scanHeaderValues(scan), 'content-type': 'application/json', 'content-length': String(body.length) }, body: () => body,
  }, policy);
}

export async function scanStatus(target: ApiTarget, scanGuid: string, policy?: RetryPolicy): Promise<Record<string, unknown>> {
  return (await callWithRetry(target, { method: 'GET', path: `/scans/${scanGuid}` }, policy)).body as Record<string, unknown>;
}

export interface AccessEventBody { file_path: string; new_last_accessed: number; audit_file: string; audit_event_id: string }

export function postAccessBatch(target: ApiTarget, volumeId: string, events: AccessEventBody[], policy?: RetryPolicy): Promise<ApiAnswer> {
  const body = Buffer.from(JSON.stringify({ events }));
  return callWithRetry(target, {
    method: 'POST', path: '/audit-updates',
    headers: { 'x-volume-id': volumeId, 'x-source-type': 'lucidlink_audit', 'content-type': 'application/json', 'content-length': String(body.length) },
    body: () => body,
  }, policy);
}

export function closeConnections(): void {
  agents.http.destroy();
  agents.https.destroy();
}
