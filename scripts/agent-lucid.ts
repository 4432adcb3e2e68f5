// `agent lucid-tail`: follows LucidLink-style audit logs (`.lucid_audit/**/*.active`
// under a volume root, one JSON event per line), posts file access events to
// /audit-updates in batches, and keeps a cursor file (byte offset per audit file)
// so each line is sent once; corrupt lines are skipped with a warning.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { postAccessBatch, type AccessEventBody, type ApiTarget, type RetryPolicy } from './agent-client';

export interface LucidTailOptions {
  volumeRoot: string; volumeId: string; target: ApiTarget; cursorFile?: string; batchSize?: number;
  /** Prepended to volume-relative audit paths instead of the volume root (e.g. the drive the scan saw). */
  pathPrefix?: string; retry?: RetryPolicy; warn?: (message: string) => void;
}
export interface LucidPass { auditFiles: number; events: number; batches: number; corrupt: number }

interface Cursor { files: Record<string, { offset: number; ino: number }> }

export function defaultCursorFile(volumeId: string): string {
  return join(homedir(), '.strata-agent', `lucid-${volumeId.replace(/[^A-Za-z0-9._-]/g, '_')}.cursor.json`);
}

function findActiveFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findActiveFiles(path);
    return entry.isFile() && entry.name.endsWith('.active') ? [path] : [];
  });
}

const TIME_KEYS = ['new_last_accessed', 'timestamp', 'time', 'ts', 'accessTime', 'atime'];
const PATH_KEYS = ['file_path', 'path', 'filePath', 'file', 'target'];
const ID_KEYS = ['audit_event_id', 'event_id', 'eventId', 'id'];

function toSeconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value > 1e11 ? value / 1000 : value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
  }
  return undefined;
}

/** One audit line as an access event, or undefined when it cannot be understood. */
export function parseAuditLine(line: string, fallbackId: string, auditFile: string, toHostPath: (p: string) => string): AccessEventBody | undefined {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    record = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const path = PATH_KEYS.map((k) => record[k]).find((v): v is string => typeof v === 'string' && v.length > 0 && !v.includes('\0'));
  const time = TIME_KEYS.map((k) => toSeconds(record[k])).find((v) => v !== undefined);
  if (!path || time === undefined) return undefined;
  const id = ID_KEYS.map((k) => record[k]).find((v) => (typeof v === 'string' && v.length > 0) || typeof v === 'number');
  return { file_path: toHostPath(path), new_last_accessed: time, audit_file: auditFile, audit_event_id: id !== undefined ? String(id) : fallbackId };
}

function readFrom(path: string, offset: number, size: number): Buffer {
  const buffer = Buffer.alloc(size - offset);
  const fd = openSync(path, 'r');
  try {
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function saveCursor(file: string, cursor: Cursor): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(cursor));
  renameSync(`${file}.tmp`, file);
}

/** One pass over every audit file: sends what is new since the cursor, then advances it. */
export async function lucidTailPass(options: LucidTailOptions): Promise<LucidPass> {
  const root = resolve(options.volumeRoot);
  const cursorFile = options.cursorFile ?? defaultCursorFile(options.volumeId);
  const cursor: Cursor = existsSync(cursorFile) ? JSON.parse(readFileSync(cursorFile, 'utf8')) : { files: {} };
  const warn = options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const toHostPath = (p: string) => (p.startsWith('/') ? (options.pathPrefix ?? root) + p : p);
  const pass: LucidPass = { auditFiles: 0, events: 0, batches: 0, corrupt: 0 };
  for (const path of findActiveFiles(join(root, '.lucid_audit'))) {
    const rel = relative(root, path);
    const stat = statSync(path);
    const known = cursor.files[rel];
    // Rotated (another file now) or truncated: read it again from the start.
    const offset = known && known.ino === stat.ino && stat.size >= known.offset ? known.offset : 0;
    pass.auditFiles++;
    if (stat.size === offset) continue;
    const data = readFrom(path, offset, stat.size);
    const end = data.lastIndexOf(0x0a) + 1; // an unfinished last line waits for the next pass
    let batch: AccessEventBody[] = [];
    let at = 0;
    const send = async (upTo: number) => {
      if (batch.length > 0) {
        await postAccessBatch(options.target, options.volumeId, batch, options.retry);
        pass.batches++;
        pass.events += batch.length;
        batch = [];
      }
      cursor.files[rel] = { offset: offset + upTo, ino: stat.ino };
      saveCursor(cursorFile, cursor);
    };
    while (at < end) {
      const next = data.indexOf(0x0a, at);
      const line = data.subarray(at, next).toString('utf8').trim();
      if (line) {
        const event = parseAuditLine(line, `${rel}:${offset + at}`, rel, toHostPath);
        if (event) batch.push(event);
        else { pass.corrupt++; warn(`${rel} byte ${offset + at}: unreadable audit line skipped: ${line.slice(0, 120)}`); }
      }
      at = next + 1;
      if (batch.length >= (options.batchSize ?? 10_000)) await send(at);
    }
    await send(end);
  }
  return pass;
}

/** Polls forever (until the signal aborts), one pass every interval. */
export async function runLucidTail(options: LucidTailOptions & { intervalSeconds: number; signal?: AbortSignal }): Promise<void> {
  while (!options.signal?.aborted) {
    const pass = await lucidTailPass(options);
    process.stderr.write(`${new Date().toISOString()} ${pass.auditFiles} audit files, ${pass.events} events sent in ${pass.batches} batches, ${pass.corrupt} corrupt lines skipped\n`);
    await new Promise((r) => setTimeout(r, options.intervalSeconds * 1000));
  }
}
