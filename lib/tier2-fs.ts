// Filesystem Tier-2 target (a local disk or a mounted SMB/NFS share): objects are
// files below the root named by their encoded key, written under that name and
// verified there (a failed one is removed); flush() makes them durable. Nothing
// relies on an object before its flush: a crash may leave a partial one, only ever for
// an object still PLANNED, whose next attempt replaces it. The byte work runs on the
// host's threads.
import { constants } from 'node:fs';
import { access, opendir, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEMP_SUFFIX, decodeKey, normalizeRootUri } from './target-uri';
import type {
  Durability, SourceFingerprint, Tier2Entry, Tier2Expected, Tier2GetItem, Tier2GetResult, Tier2PutItem, Tier2PutResult,
  Tier2Target, Tier2VerifyResult,
} from './tier2-target';

/** label: tag the copy with its source path (only where the key itself does not say it, as each tag costs an xattr block). */
export interface StageRequest { sourcePath: string; fingerprint: SourceFingerprint; path: string; label: string | null; fsync: boolean }
export interface FetchRequest { fromPath: string; toPath: string; expected: Tier2Expected; fsync: boolean }
export interface BarrierRequest { mode: Durability; anchors: string[]; files: string[]; dirs: string[] }

/** Synchronous filesystem work the target hands to the host's worker threads. */
export interface FsTier2Ops {
  stage(items: StageRequest[]): Promise<Tier2PutResult[]>;
  barrier(request: BarrierRequest): Promise<void>;
  hash(paths: string[]): Promise<({ size: number; sha256: string } | null)[]>;
  fetch(items: FetchRequest[]): Promise<Tier2GetResult[]>;
}

export class FsTier2Target implements Tier2Target {
  readonly rootUri: string;
  private readonly root: string;
  private readonly unflushedDirs = new Set<string>();
  private barrierInProgress: Promise<void> = Promise.resolve();

  constructor(uri: string, private readonly ops: FsTier2Ops, private readonly durability: Durability) {
    this.rootUri = normalizeRootUri(uri);
    this.root = fileURLToPath(this.rootUri);
  }

  pathOf(key: string): string {
    if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new Error(`invalid object key ${key}`);
    return join(this.root, key);
  }

  async probe(): Promise<{ writable: boolean; freeBytes: number | null; detail?: string }> {
    try {
      await access(this.root, constants.W_OK);
      const info = await statfs(this.root);
      return { writable: true, freeBytes: info.bavail * info.bsize };
    } catch (error) {
      return { writable: false, freeBytes: null, detail: (error as Error).message };
    }
  }

  async put(items: readonly Tier2PutItem[]): Promise<Tier2PutResult[]> {
    const finals = items.map((item) => this.pathOf(item.key));
    const results = await this.ops.stage(items.map((item, i) => ({
      sourcePath: item.sourcePath, fingerprint: item.fingerprint, path: finals[i], fsync: this.durability === 'fsync',
      label: decodeKey(item.key) === null ? item.label : null,
    })));
    results.forEach((result, i) => { if (result.ok) this.noteUnflushed(finals[i]); });
    return results;
  }

  /**
   * Makes every object put so far durable. Waves flush concurrently: a flush that finds
   * nothing left to do may owe that to a barrier another flush started and has not
   * finished, so it waits for that one too.
   */
  async flush(alsoDurable: readonly string[] = []): Promise<void> {
    const started = this.barrierInProgress;
    if (this.unflushedDirs.size === 0 && alsoDurable.length === 0) { await started; return; }
    const dirs = [...this.unflushedDirs];
    this.unflushedDirs.clear();
    const barrier = this.ops.barrier({ mode: this.durability, anchors: [this.root, ...alsoDurable], files: [], dirs });
    this.barrierInProgress = barrier.catch(() => undefined);
    // A failed barrier leaves its directories unflushed for the next flush to retry.
    await barrier.catch((error: Error) => { for (const dir of dirs) this.unflushedDirs.add(dir); throw error; });
    await started;
  }

  async verify(items: readonly { key: string; expected: Tier2Expected }[]): Promise<Tier2VerifyResult[]> {
    const found = await this.ops.hash(items.map((item) => this.pathOf(item.key)));
    return found.map((actual, i) => {
      if (!actual) return 'missing';
      if (actual.size !== items[i].expected.size) return 'size-mismatch';
      return actual.sha256 === items[i].expected.sha256 ? 'ok' : 'hash-mismatch';
    });
  }

  async get(items: readonly Tier2GetItem[]): Promise<Tier2GetResult[]> {
    return this.ops.fetch(items.map((item) => ({
      fromPath: this.pathOf(item.key), toPath: item.destinationPath, expected: item.expected, fsync: this.durability === 'fsync',
    })));
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const path = this.pathOf(key);
      await rm(path, { force: true });
      await rm(path + TEMP_SUFFIX, { force: true });
    }
  }

  async *list(prefix = ''): AsyncIterable<Tier2Entry> {
    const start = prefix ? this.pathOf(prefix.replace(/\/+$/, '')) : this.root;
    yield* this.walk(start);
  }

  private async *walk(dir: string): AsyncIterable<Tier2Entry> {
    let handle;
    try {
      handle = await opendir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for await (const entry of handle) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) yield* this.walk(path);
      else if (entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX)) {
        const info = await stat(path);
        yield { key: path.slice(this.root.length + 1), size: info.size, mtimeMs: info.mtimeMs };
      }
    }
  }

  /** In fsync mode every directory from the file's parent up to the root gets fsynced at flush. */
  private noteUnflushed(finalPath: string): void {
    if (this.durability !== 'fsync') { this.unflushedDirs.add(this.root); return; }
    for (let dir = dirname(finalPath); dir.length >= this.root.length; dir = dirname(dir)) {
      if (this.unflushedDirs.has(dir)) break;
      this.unflushedDirs.add(dir);
      if (dir === this.root) break;
    }
  }
}
