// Turns abuse-corpus cases into requests: body generators (gzip bombs, deep JSON,
// huge fields, random bytes), placeholders, and a raw-socket client for what
// app.inject cannot send (trickling and stalled bodies, lying lengths, bad syntax).
import { createHash, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { csvRows } from './ingest-helpers';

export type BodySpec = string | { base64: string } | { gen: string; [key: string]: unknown } | null;

export interface AbuseCase {
  name: string; method: string; url: string; expect: number | number[]; detail?: string;
  token?: string; headers?: Record<string, string | null>; body?: BodySpec; json?: unknown;
  raw?: string; socket?: boolean; trickle?: { bytes: number; everyMs: number }; stall?: boolean;
}

export interface Answer { status: number; contentType: string; body: string }

export function bodyOf(spec: BodySpec | undefined): Buffer | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (typeof spec === 'string') return Buffer.from(spec, 'utf8');
  if ('base64' in spec) return Buffer.from(String(spec.base64), 'base64');
  const gen = spec as { gen: string; [key: string]: unknown };
  const n = (key: string) => Number(gen[key]);
  switch (gen.gen) {
    case 'repeat': return Buffer.from(String(gen.text).repeat(n('times')));
    case 'csv': return Buffer.from(csvRows(0, n('rows')) + String(gen.tail ?? ''));
    case 'zeros': return Buffer.alloc(n('bytes'));
    case 'random': return seededBytes(n('bytes'), n('seed'));
    case 'gzip': return gzipSync(bodyOf(gen.of as BodySpec) ?? Buffer.alloc(0), { level: 9 });
    case 'truncate': { const whole = bodyOf(gen.of as BodySpec)!; return whole.subarray(0, whole.length - n('drop')); }
    case 'deepJson': return Buffer.from(gen.kind === 'array' ? '['.repeat(n('depth')) + ']'.repeat(n('depth'))
      : '{"a":'.repeat(n('depth')) + '1' + '}'.repeat(n('depth')));
    case 'bigJson': return Buffer.from(JSON.stringify({ totalChunks: 1, padding: 'p'.repeat(n('bytes')) }));
    case 'manyEvents': return Buffer.from(JSON.stringify({
      events: Array.from({ length: n('count') }, (_v, i) => ({ file_path: `/v/${i}`, new_last_accessed: 1_700_000_000, audit_file: 'a.log', audit_event_id: `e${i}` })),
    }));
    default: throw new Error(`unknown body generator ${gen.gen}`);
  }
}

function seededBytes(length: number, seed: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * 32 < length; i++) parts.push(createHash('sha256').update(`${seed}/${i}`).digest());
  return Buffer.concat(parts).subarray(0, length);
}

export function fillPlaceholders(text: string, values: Record<string, string>, tokens: Record<string, string>): string {
  return text
    .replace(/\{guid\}|\{uuid\}/g, () => randomUUID())
    .replace(/\{token:([a-zA-Z]+)\}/g, (_m, kind: string) => tokens[kind])
    .replace(/\{(tenantA|tenantB|otherTokenId)\}/g, (_m, key: string) => values[key]);
}

/** Sends raw bytes, then optionally trickles or stalls, and reads one HTTP response. */
export function rawRequest(port: number, head: string | Buffer, options: { trickle?: { bytes: number; everyMs: number }; timeoutMs: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let drip: NodeJS.Timeout | undefined;
    const finish = (answer: Answer | Error) => {
      clearInterval(drip);
      clearTimeout(timer);
      socket.destroy();
      if (answer instanceof Error) reject(answer); else resolve(answer);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${options.timeoutMs} ms (the server hangs)`)), options.timeoutMs);
    socket.on('connect', () => {
      socket.write(typeof head === 'string' ? Buffer.from(head, 'latin1') : head);
      if (options.trickle) {
        const { bytes, everyMs } = options.trickle;
        drip = setInterval(() => { if (socket.writable) socket.write('x'.repeat(bytes)); }, everyMs);
      }
    });
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const parsed = parseResponse(received);
      if (parsed) finish(parsed);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(parseResponse(received, true) ?? new Error(`connection closed without an answer: ${JSON.stringify(received.toString('latin1').slice(0, 200))}`)));
  });
}

function parseResponse(data: Buffer, closed = false): Answer | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = new Map(lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const length = Number(headers.get('content-length') ?? NaN);
  const body = data.subarray(end + 4);
  if (Number.isFinite(length) ? body.length < length : !closed) return undefined;
  return { status, contentType: headers.get('content-type') ?? '', body: body.subarray(0, Number.isFinite(length) ? length : undefined).toString('utf8') };
}

/** The same request as app.inject would send, as raw bytes, so the server sees the path exactly as written. */
export function asRawRequest(method: string, url: string, headers: Record<string, string>, body?: Buffer): Buffer {
  const lines = [`${method} ${url} HTTP/1.1`, 'Host: localhost', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  if (body) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}
