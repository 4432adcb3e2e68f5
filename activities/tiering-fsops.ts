// Synchronous file work of tiering, run on the host's worker threads: inspecting
// sources, fresh files and target directories, durability barriers. Every step can
// be repeated: a file left by an interrupted attempt is recreated.
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { syncfs } from './ffi-xattr';
import { readStub, type StubRecord } from './stub-format';
import type { BarrierRequest } from '../lib/tier2-fs';
import type { SourceFingerprint } from '../lib/tier2-target';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

export interface InspectRequest { path: string; root: string; expectSize: number; expectMtime: number }
export type SkipReason = 'missing' | 'not-regular' | 'hardlinked' | 'outside-root' | 'changed';
export interface FileMeta { mode: number; uid: number; gid: number; atimeNs: string; mtimeNs: string }
export type Inspection =
  | { kind: 'file'; fingerprint: SourceFingerprint; meta: FileMeta }
  | { kind: 'stub'; stub: StubRecord }
  | { kind: 'skip'; reason: SkipReason; detail?: string }
  | { kind: 'error'; message: string };

export function fingerprintOf(st: fs.BigIntStats): SourceFingerprint {
  return { dev: String(st.dev), ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function sameFingerprint(a: SourceFingerprint, b: SourceFingerprint): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

export function metaOf(st: fs.BigIntStats): FileMeta {
  return { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), atimeNs: String(st.atimeNs), mtimeNs: String(st.mtimeNs) };
}

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** lstat that answers null for a path that is not there. */
export function lstatOrNull(path: string): fs.BigIntStats | null {
  try {
    return fs.lstatSync(path, { bigint: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return null;
    throw error;
  }
}

/** Whether path's directory, with links resolved, is the root or below it. */
export function insideRoot(path: string, root: string, realDirs: Map<string, string>): boolean {
  const realRoot = realDirectory(root, realDirs);
  const dir = realDirectory(dirname(path), realDirs);
  return dir === realRoot || dir.startsWith(realRoot === '/' ? '/' : `${realRoot}/`);
}

/**
 * A directory's path with every symbolic link resolved, built from its parent's: a
 * component that is not a link resolves to itself under its resolved parent, so a new
 * directory costs one lstat instead of realpath's readlink of every component.
 */
export function realDirectory(dir: string, realDirs: Map<string, string>): string {
  let resolved = realDirs.get(dir);
  if (resolved !== undefined) return resolved;
  const parent = dirname(dir);
  const name = basename(dir);
  if (parent === dir || name === '.' || name === '..' || fs.lstatSync(dir).isSymbolicLink()) resolved = fs.realpathSync.native(dir);
  else resolved = join(realDirectory(parent, realDirs), name);
  realDirs.set(dir, resolved);
  return resolved;
}

function floorSeconds(ns: bigint): number {
  const s = ns / 1_000_000_000n;
  return Number(ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s);
}

export function inspectSources(items: InspectRequest[]): Inspection[] {
  const realDirs = new Map<string, string>();
  return items.map((item) => {
    try {
      return inspectSource(item, realDirs);
    } catch (error) {
      return { kind: 'error', message: (error as Error).message };
    }
  });
}

function inspectSource(item: InspectRequest, realDirs: Map<string, string>): Inspection {
  const st = lstatOrNull(item.path);
  if (!st) return { kind: 'skip', reason: 'missing' };
  if (!st.isFile()) return { kind: 'skip', reason: 'not-regular' };
  if (!insideRoot(item.path, item.root, realDirs)) return { kind: 'skip', reason: 'outside-root' };
  const stub = readStub(item.path, { likelyPlain: true });
  if (stub) return { kind: 'stub', stub };
  if (st.nlink > 1n) return { kind: 'skip', reason: 'hardlinked' };
  const mtime = floorSeconds(st.mtimeNs);
  if (Number(st.size) !== item.expectSize || mtime !== item.expectMtime) {
    return { kind: 'skip', reason: 'changed', detail: `scan: ${item.expectSize} bytes, mtime ${item.expectMtime}; now: ${st.size} bytes, mtime ${mtime}` };
  }
  return { kind: 'file', fingerprint: fingerprintOf(st), meta: metaOf(st) };
}

/** unlink that ignores a path that is not there (one syscall, unlike fs.rmSync). */
export function removeIfPresent(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

/**
 * Creates path afresh (a leftover from a crashed attempt is removed first). On the
 * target (makeDirs), a directory removed since this thread saw it is made again.
 */
export function createFresh(path: string, options: { makeDirs?: boolean } = {}): number {
  const create = () => fs.openSync(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    return create();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && options.makeDirs) {
      knownDirs.delete(dirname(path));
      ensureDir(dirname(path));
      return create();
    }
    if (errnoCode(error) !== 'EEXIST') throw error;
    removeIfPresent(path);
    return create();
  }
}

/** Target directories this thread created or found; a miss (one removed since) is recreated on ENOENT. */
const knownDirs = new Set<string>();
const MAX_KNOWN_DIRS = 50_000;

export function ensureDir(dir: string): void {
  if (knownDirs.has(dir)) return;
  if (knownDirs.size >= MAX_KNOWN_DIRS) knownDirs.clear();
  fs.mkdirSync(dir, { recursive: true });
  knownDirs.add(dir);
}

/** syncfs once per filesystem of the anchors, or fsync of each file and directory listed. */
export function barrier(request: BarrierRequest): void {
  const flush = (path: string, whole: boolean) => {
    const fd = fs.openSync(path, O_RDONLY);
    try {
      if (whole) syncfs(fd); else fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  if (request.mode === 'syncfs') {
    const devices = new Set<bigint>();
    for (const anchor of request.anchors) {
      const dev = fs.statSync(anchor, { bigint: true }).dev;
      if (!devices.has(dev)) { devices.add(dev); flush(anchor, true); }
    }
    return;
  }
  for (const path of [...request.files, ...request.dirs]) flush(path, false);
}
