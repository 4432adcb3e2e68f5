// The durable chunk spool: <dataDir>/spool/<tenant>/<scanGuid>/<seq>.csv. A chunk
// is written to a temp file and fsynced, then claimed with link(), which fails if
// the name exists, so exactly one upload of a (scan, seq) wins even concurrently.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface SpoolMeta { seq: number; rows: number; bytes: number; sha256: string; spoolRef: string }

const REF_PATTERN = /^spool\/[a-z][a-z0-9-]{1,62}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/\d{1,9}\.csv$/;

export function scanSpoolDir(dataDir: string, tenantCode: string, scanGuid: string): string {
  return join(dataDir, 'spool', tenantCode, scanGuid.toLowerCase());
}

export function chunkSpoolRef(tenantCode: string, scanGuid: string, seq: number): string {
  return `spool/${tenantCode}/${scanGuid.toLowerCase()}/${seq}.csv`;
}

/** The absolute path of a spool reference; refuses anything but the spool's own shape. */
export function resolveSpoolRef(dataDir: string, spoolRef: string): string {
  if (!REF_PATTERN.test(spoolRef)) throw new Error(`not a spool reference: ${spoolRef}`);
  return join(dataDir, spoolRef);
}

function metaPath(csvPath: string): string {
  return csvPath.replace(/\.csv$/, '.meta.json');
}

/** Makes a directory entry (a created, renamed or removed name) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try { await handle.sync(); } finally { await handle.close(); }
}

async function ensureDurableDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  for (let current = dir; current.length >= created.length; current = dirname(current)) await fsyncDir(dirname(current));
}

export class SpoolWriter {
  private constructor(readonly finalPath: string, readonly tempPath: string, readonly spoolRef: string, readonly stream: WriteStream) {}

  static async create(dataDir: string, tenantCode: string, scanGuid: string, seq: number): Promise<SpoolWriter> {
    const spoolRef = chunkSpoolRef(tenantCode, scanGuid, seq);
    const finalPath = resolveSpoolRef(dataDir, spoolRef);
    await ensureDurableDir(dirname(finalPath));
    const tempPath = join(dirname(finalPath), `.${seq}.${randomUUID()}.tmp`);
    // flush: the file is fsynced before the stream reports it closed.
    const stream = createWriteStream(tempPath, { flags: 'wx', flush: true, highWaterMark: 1 << 20 });
    return new SpoolWriter(finalPath, tempPath, spoolRef, stream);
  }

  /** Claims the chunk's name; 'duplicate' when another upload of the same chunk got there first. */
  async commit(meta: Omit<SpoolMeta, 'spoolRef'>): Promise<'spooled' | 'duplicate'> {
    const dir = dirname(this.finalPath);
    // With flush: true the data is fsynced before 'close'.
    if (!this.stream.closed) await once(this.stream, 'close');
    const metaTemp = `${this.tempPath}.meta`;
    await writeDurable(metaTemp, JSON.stringify({ ...meta, spoolRef: this.spoolRef }));
    try {
      await link(this.tempPath, this.finalPath);
    } catch (error) {
      await this.abort(metaTemp);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'duplicate';
      throw error;
    }
    await rename(metaTemp, metaPath(this.finalPath));
    await unlink(this.tempPath);
    await fsyncDir(dir);
    return 'spooled';
  }

  async abort(...extra: string[]): Promise<void> {
    if (!this.stream.closed) await new Promise<void>((resolve) => { this.stream.once('close', () => resolve()); this.stream.destroy(); });
    for (const path of [this.tempPath, ...extra]) await unlink(path).catch(() => undefined);
  }
}

async function writeDurable(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What was recorded for a spooled chunk, or undefined when it is not (or no longer) spooled. */
export async function readSpoolMeta(dataDir: string, spoolRef: string): Promise<SpoolMeta | undefined> {
  const csv = resolveSpoolRef(dataDir, spoolRef);
  try {
    return JSON.parse(await readFile(metaPath(csv), 'utf8')) as SpoolMeta;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function spoolExists(dataDir: string, spoolRef: string): Promise<boolean> {
  try {
    await (await open(resolveSpoolRef(dataDir, spoolRef), 'r')).close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Sequence numbers of the chunks currently spooled for a scan (claimed, not yet ingested). */
export async function listSpooledSeqs(dataDir: string, tenantCode: string, scanGuid: string): Promise<number[]> {
  try {
    const names = await readdir(scanSpoolDir(dataDir, tenantCode, scanGuid));
    return names.filter((name) => /^\d+\.csv$/.test(name)).map((name) => Number(name.slice(0, -4))).sort((a, b) => a - b);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Removes an ingested chunk's file and its record; harmless when already gone. */
export async function removeSpooledChunk(dataDir: string, spoolRef: string): Promise<void> {
  const csv = resolveSpoolRef(dataDir, spoolRef);
  await unlink(csv).catch(ignoreMissing);
  await unlink(metaPath(csv)).catch(ignoreMissing);
}

export async function removeScanSpool(dataDir: string, tenantCode: string, scanGuid: string): Promise<void> {
  await rm(scanSpoolDir(dataDir, tenantCode, scanGuid), { recursive: true, force: true });
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
