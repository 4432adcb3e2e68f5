// Synchronous byte work of tiering, run on the host's worker threads: inspecting
// sources, copying into a target temp name with verification, hashing, durability
// barriers. Every step can be repeated: temp names are fixed and recreated.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { fsetxattr } from './ffi';
import { copyFileRange, ficlone, syncfs } from './ffi-xattr';
import { readStub, type StubRecord } from './stub-format';
import type { BarrierRequest, StageRequest } from '../lib/tier2-fs';
import type { SourceFingerprint, Tier2PutResult } from '../lib/tier2-target';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NOATIME } = fs.constants;
const CHUNK = 1 << 20;
let scratch: Buffer | undefined;

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
  const real = (dir: string) => {
    let resolved = realDirs.get(dir);
    if (resolved === undefined) realDirs.set(dir, (resolved = fs.realpathSync.native(dir)));
    return resolved;
  };
  const realRoot = real(root);
  const dir = real(dirname(path));
  return dir === realRoot || dir.startsWith(realRoot === '/' ? '/' : `${realRoot}/`);
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
  const stub = readStub(item.path);
  if (stub) return { kind: 'stub', stub };
  if (st.nlink > 1n) return { kind: 'skip', reason: 'hardlinked' };
  const mtime = floorSeconds(st.mtimeNs);
  if (Number(st.size) !== item.expectSize || mtime !== item.expectMtime) {
    return { kind: 'skip', reason: 'changed', detail: `scan: ${item.expectSize} bytes, mtime ${item.expectMtime}; now: ${st.size} bytes, mtime ${mtime}` };
  }
  return { kind: 'file', fingerprint: fingerprintOf(st), meta: metaOf(st) };
}

export function openSource(path: string): number {
  try {
    return fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NOATIME);
  } catch (error) {
    // O_NOATIME needs ownership or CAP_FOWNER; without it reading may move atime.
    if (errnoCode(error) === 'EPERM') return fs.openSync(path, O_RDONLY | O_NOFOLLOW);
    throw error;
  }
}

export function hashFd(fd: number): { size: number; sha256: string } {
  const hash = createHash('sha256');
  const buffer = (scratch ??= Buffer.allocUnsafe(CHUNK));
  let position = 0;
  for (;;) {
    const n = fs.readSync(fd, buffer, 0, buffer.length, position);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    position += n;
  }
  return { size: position, sha256: hash.digest('hex') };
}

/** Below this a reflink saves nothing over copy_file_range (which itself remaps extents where it can). */
const REFLINK_MIN_BYTES = 64 * 1024;

/** Reflink where the filesystem shares extents, copy_file_range in the kernel else, a stream as the last resort. */
export function copyContent(inFd: number, outFd: number, size: number): 'reflink' | 'copy_file_range' | 'stream' {
  if (size >= REFLINK_MIN_BYTES && ficlone(outFd, inFd)) return 'reflink';
  if (copyFileRange(inFd, outFd, size)) return 'copy_file_range';
  const buffer = (scratch ??= Buffer.allocUnsafe(CHUNK));
  for (let position = 0; ;) {
    const n = fs.readSync(inFd, buffer, 0, buffer.length, position);
    if (n === 0) return 'stream';
    fs.writeSync(outFd, buffer, 0, n, position);
    position += n;
  }
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

function ensureDir(dir: string): void {
  if (knownDirs.has(dir)) return;
  if (knownDirs.size >= MAX_KNOWN_DIRS) knownDirs.clear();
  fs.mkdirSync(dir, { recursive: true });
  knownDirs.add(dir);
}

export function stageCopies(items: StageRequest[]): Tier2PutResult[] {
  return items.map((item) => {
    try {
      ensureDir(dirname(item.tempPath));
      return stageCopy(item);
    } catch (error) {
      return { ok: false, reason: errnoCode(error) === 'ENOENT' ? 'changed' : 'error', message: (error as Error).message };
    }
  });
}

function stageCopy(item: StageRequest): Tier2PutResult {
  const inFd = openSource(item.sourcePath);
  try {
    if (!sameFingerprint(fingerprintOf(fs.fstatSync(inFd, { bigint: true })), item.fingerprint)) {
      return { ok: false, reason: 'changed', message: 'source changed after it was inspected' };
    }
    const outFd = createFresh(item.tempPath, { makeDirs: true });
    try {
      copyContent(inFd, outFd, item.fingerprint.size);
      const source = hashFd(inFd);
      const copy = hashFd(outFd);
      const failure = copyFailure(inFd, item, source, copy);
      if (failure) { removeIfPresent(item.tempPath); return failure; }
      if (item.label !== null) tagCopy(outFd, item.label, copy.sha256);
      if (item.fsync) fs.fsyncSync(outFd);
      return { ok: true, size: copy.size, sha256: copy.sha256 };
    } finally {
      fs.closeSync(outFd);
    }
  } finally {
    fs.closeSync(inFd);
  }
}

function copyFailure(inFd: number, item: StageRequest, source: { size: number; sha256: string }, copy: { size: number; sha256: string }): Tier2PutResult | null {
  if (!sameFingerprint(fingerprintOf(fs.fstatSync(inFd, { bigint: true })), item.fingerprint)) {
    return { ok: false, reason: 'changed', message: 'source changed while it was copied' };
  }
  if (source.size !== item.fingerprint.size || copy.size !== source.size || copy.sha256 !== source.sha256) {
    return { ok: false, reason: 'mismatch', message: `copy does not match the source (${copy.size}/${source.size} bytes, sha256 ${copy.sha256} vs ${source.sha256})` };
  }
  return null;
}

/** Labels the Tier-2 copy with its source path and hash for inventories; targets without xattrs go without. */
function tagCopy(fd: number, label: string, sha256: string): void {
  try {
    fsetxattr(fd, 'user.strata.copy_of', Buffer.from(`${sha256} ${label}`, 'utf8'));
  } catch (error) {
    if (!['ENOTSUP', 'EOPNOTSUPP', 'E2BIG', 'ERANGE'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

export function hashPaths(paths: string[]): ({ size: number; sha256: string } | null)[] {
  return paths.map((path) => {
    let fd: number;
    try {
      fd = fs.openSync(path, O_RDONLY | O_NOFOLLOW);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    }
    try {
      return hashFd(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}

export function renameAll(pairs: { from: string; to: string }[]): (string | null)[] {
  return pairs.map(({ from, to }) => {
    try {
      fs.renameSync(from, to);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  });
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
