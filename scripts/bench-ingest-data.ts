// Deterministic scan data for the ingest benchmark: deep Windows paths with about
// 50 files per directory, written once as one plain CSV (for the psql pipeline)
// and as gzip chunk files (for the agent path), and reused while unchanged.
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';

export interface BenchData { dir: string; csvPath: string; chunkFiles: string[]; rows: number; dirs: number; csvBytes: number }

const WORDS = ['Projects', 'Finance', 'Design', 'Archive', 'Clients', 'Assets', 'Renders', 'Reports', 'Quarterly', 'Legal',
  'Contracts', 'Photos', 'Raw', 'Exports', 'Backups', 'Engineering', 'Drawings', 'Revisions', 'Marketing', 'Campaigns'];
const EXTENSIONS = ['docx', 'xlsx', 'pdf', 'psd', 'dwg', 'mov', 'jpg', 'txt', 'zip', 'msg'];

/** mulberry32: small, fast and the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function write(stream: WriteStream | Gzip, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream | Gzip, file?: WriteStream): Promise<void> {
  stream.end();
  await once(file ?? stream, 'finish');
}

export async function generateBenchData(root: string, rows: number, chunkRows: number): Promise<BenchData> {
  const dir = join(root, `data-${rows}-${chunkRows}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')) as BenchData;
  mkdirSync(dir, { recursive: true });
  const rnd = random(20240501);
  const csvPath = join(dir, 'all.csv');
  const csv = createWriteStream(csvPath, { highWaterMark: 1 << 20 });
  const chunkFiles: string[] = [];
  let chunk: { gzip: Gzip; file: WriteStream } | undefined;
  let written = 0, dirs = 0, csvBytes = 0;
  const now = 1_735_689_600; // 2025-01-01
  while (written < rows) {
    const depth = 5 + Math.floor(rnd() * 6);
    const parts = ['D:', 'Shares'];
    for (let i = 0; i < depth; i++) parts.push(`${WORDS[Math.floor(rnd() * WORDS.length)]}-${String(Math.floor(rnd() * 1000)).padStart(3, '0')}`);
    parts.push(`Folder ${dirs++}`);
    const dirPath = parts.join('\\');
    const files = 40 + Math.floor(rnd() * 21);
    let lines = '';
    for (let f = 0; f < files && written < rows; f++, written++) {
      const mtime = now - Math.floor(rnd() * 4 * 365 * 86_400);
      const atime = Math.min(now, mtime + Math.floor(rnd() * 200 * 86_400));
      const name = `file ${String(f).padStart(3, '0')} ${Math.floor(rnd() * 1e6)}.${EXTENSIONS[f % EXTENSIONS.length]}`;
      lines += `${dirPath},${name},${Math.floor(rnd() * 5e8)},${atime},${mtime},${mtime - Math.floor(rnd() * 86_400)}\n`;
      if ((written + 1) % chunkRows === 0 || written + 1 === rows) {
        chunk = await flushLines(lines, csv, chunk, dir, chunkFiles);
        csvBytes += Buffer.byteLength(lines);
        lines = '';
        await close(chunk.gzip, chunk.file);
        chunk = undefined;
      }
    }
    if (lines) {
      chunk = await flushLines(lines, csv, chunk, dir, chunkFiles);
      csvBytes += Buffer.byteLength(lines);
    }
  }
  await close(csv);
  const data: BenchData = { dir, csvPath, chunkFiles, rows, dirs, csvBytes };
  writeFileSync(manifest, JSON.stringify(data));
  return data;
}

async function flushLines(lines: string, csv: WriteStream, chunk: { gzip: Gzip; file: WriteStream } | undefined, dir: string, chunkFiles: string[]) {
  if (!chunk) {
    const path = join(dir, `chunk-${String(chunkFiles.length).padStart(5, '0')}.csv.gz`);
    chunkFiles.push(path);
    const file = createWriteStream(path);
    const gzip = createGzip({ level: 1 });
    gzip.pipe(file);
    chunk = { gzip, file };
  }
  await write(csv, lines);
  await write(chunk.gzip, lines);
  return chunk;
}
