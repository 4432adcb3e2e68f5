// The agent's scan side: walks a directory tree in a fixed order (sorted entries,
// no symlinks followed) and writes its regular files as gzip CSV chunks of the
// scan format into the queue directory, each made visible by a rename only once
// complete. A resumed walk skips the rows of chunks already written.
import { closeSync, lstatSync, openSync, readdirSync, renameSync, fsyncSync, writeSync, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CSV_COLUMNS, DEFAULT_CSV_LIMITS, MAX_TIME, MIN_TIME } from '../lib/csv-rules';

export interface WalkCounters { files: number; dirs: number; skipped: number; warnings: string[] }

export function chunkFileName(seq: number): string {
  return `chunk-${String(seq).padStart(6, '0')}.csv.gz`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const seconds = (ms: number) => Math.min(MAX_TIME, Math.max(MIN_TIME, Math.floor(ms / 1000)));

export function csvLine(dirPath: string, name: string, stat: Stats): string {
  return `${csvField(dirPath)},${csvField(name)},${stat.size},${seconds(stat.atimeMs)},${seconds(stat.mtimeMs)},${seconds(stat.ctimeMs)}\n`;
}

/** Writes one chunk atomically: temp file, fsync, rename. */
function writeChunk(queueDir: string, seq: number, lines: string[]): void {
  const final = join(queueDir, chunkFileName(seq));
  const temp = `${final}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, gzipSync(Buffer.from(`${CSV_COLUMNS.join(',')}\n${lines.join('')}`)));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, final);
}

export interface WalkOptions {
  root: string; queueDir: string; chunkRows: number;
  /** Chunks already written by an earlier, interrupted walk: their rows are skipped. */
  chunksWritten: number;
  onChunk: (seq: number) => void;
  counters: WalkCounters;
}

const yieldToUploads = () => new Promise((resolve) => setImmediate(resolve));

/** Walks the tree and writes chunks, letting uploads run in between; returns the scan's chunk count. */
export async function walkIntoChunks(options: WalkOptions): Promise<number> {
  const skipRows = options.chunksWritten * options.chunkRows;
  let rows = 0;
  let seq = options.chunksWritten;
  let lines: string[] = [];
  for (const line of walkLines(resolve(options.root), options.counters)) {
    rows++;
    if (rows % 5000 === 0) await yieldToUploads();
    if (rows <= skipRows) continue;
    lines.push(line);
    if (lines.length === options.chunkRows) {
      writeChunk(options.queueDir, seq, lines);
      options.onChunk(seq++);
      lines = [];
    }
  }
  if (lines.length > 0) {
    writeChunk(options.queueDir, seq, lines);
    options.onChunk(seq++);
  }
  return seq;
}

function note(counters: WalkCounters, message: string, skipped: boolean): void {
  if (skipped) counters.skipped++;
  if (counters.warnings.length < 20) counters.warnings.push(message);
}

function sortedEntries(dir: string, counters: WalkCounters) {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    note(counters, `cannot read ${dir}: ${(error as Error).message}`, true);
    return [];
  }
}

/** The CSV lines of every regular file below dir, files of a directory before its subdirectories. */
function* walkLines(dir: string, counters: WalkCounters): Generator<string> {
  counters.dirs++;
  const subdirs: string[] = [];
  for (const entry of sortedEntries(dir, counters)) {
    const path = dir.endsWith(sep) ? dir + entry.name : dir + sep + entry.name;
    if (entry.isDirectory()) { subdirs.push(path); continue; }
    if (!entry.isFile()) continue;
    if (Buffer.byteLength(dir) > DEFAULT_CSV_LIMITS.maxDirPathBytes || Buffer.byteLength(entry.name) > DEFAULT_CSV_LIMITS.maxNameBytes) {
      note(counters, `path too long, skipped: ${path.slice(0, 200)}...`, true);
      continue;
    }
    if (entry.name.includes('\ufffd')) note(counters, `name is not valid UTF-8, recorded with replacement characters: ${path}`, false);
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch (error) {
      note(counters, `cannot stat ${path}: ${(error as Error).message}`, true);
      continue;
    }
    counters.files++;
    yield csvLine(dir, entry.name, stat);
  }
  for (const sub of subdirs) yield* walkLines(sub, counters);
}
