// Synchronous stub steps, run on the host's worker threads: turning a source into
// its stub only if it is exactly what was copied, finishing interrupted stubs, and
// the reverse for rehydration (fetch, restore metadata, swap back).
import * as fs from 'node:fs';
import { futimens } from './ffi-xattr';
import { copyXattrs, readStub, removeStubXattrs, writeStubXattrs, type StubRecord } from './stub-format';
import { copyContent, hashFd } from './tiering-copy';
import {
  createFresh, errnoCode, fingerprintOf, insideRoot, lstatOrNull, metaOf, removeIfPresent, sameFingerprint, type FileMeta,
} from './tiering-fsops';
import type { FetchRequest } from '../lib/tier2-fs';
import type { SourceFingerprint, Tier2GetResult } from '../lib/tier2-target';

const { O_RDONLY, O_RDWR, O_NOFOLLOW } = fs.constants;

export interface ReplaceRequest { tempPath: string; targetPath: string; fingerprint: SourceFingerprint }
export type ReplaceResult = 'replaced' | 'changed' | { error: string };

function perItem<I, O>(items: I[], work: (item: I) => O, onError: (message: string, item: I) => O): O[] {
  return items.map((item) => {
    try {
      return work(item);
    } catch (error) {
      return onError((error as Error).message, item);
    }
  });
}

/** Sets owner, mode and times on an open file we created, in the order that keeps setgid bits and ACL masks right. */
function applyMeta(fd: number, meta: Pick<FileMeta, 'mode' | 'uid' | 'gid'>, atimeNs: string, mtimeNs: string): void {
  const st = fs.fstatSync(fd);
  if (st.uid !== meta.uid || st.gid !== meta.gid) fs.fchownSync(fd, meta.uid, meta.gid);
  fs.fchmodSync(fd, meta.mode);
  futimens(fd, BigInt(atimeNs), BigInt(mtimeNs));
}

export interface StubInPlaceRequest { path: string; fingerprint: SourceFingerprint; stub: StubRecord; fsync: boolean }
export interface CompleteStubRequest { path: string; stub: StubRecord; fsync: boolean }
export type StubResult = 'stubbed' | 'changed' | { error: string };

/**
 * Turns the source itself into its stub, only while it is exactly what was copied:
 * same inode (so the index's file reference stays valid), name, owner, mode, ACLs and
 * other xattrs. The marker goes on while the content is still there, so an
 * interruption leaves either the untouched file or a marked stub completeStubs finishes.
 * Emptying frees blocks, which waits on the device (a synchronous discard on some
 * filesystems), so this runs on many threads at once; each source is opened once.
 */
export function stubInPlace(items: StubInPlaceRequest[]): StubResult[] {
  return perItem<StubInPlaceRequest, StubResult>(items, (item) => withWritable(item.path, (fd) => {
    if (!sameFingerprint(fingerprintOf(fs.fstatSync(fd, { bigint: true })), item.fingerprint)) return 'changed';
    writeStubXattrs(fd, item.stub);
    // Checked again once marked (marking moved ctime): a write that landed in between keeps its content and loses the marker.
    const st = fs.fstatSync(fd, { bigint: true });
    if (Number(st.size) !== item.stub.size || String(st.mtimeNs) !== item.stub.mtimeNs) {
      removeStubXattrs(fd);
      return 'changed';
    }
    emptyStub(fd, item.stub, item.fsync);
    return 'stubbed';
  }), (error) => ({ error }));
}

function withWritable<T>(path: string, work: (fd: number) => T): T {
  const fd = fs.openSync(path, O_RDWR | O_NOFOLLOW);
  try {
    return work(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Finishes stubs an interrupted attempt marked: empties one that still holds exactly
 * the copied content and restores its times; one written to since is unmarked instead
 * ('changed'), so no later write is ever dropped.
 */
export function completeStubs(items: CompleteStubRequest[]): StubResult[] {
  return perItem<CompleteStubRequest, StubResult>(items, (item) => {
    const fd = fs.openSync(item.path, O_RDWR | O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      if (st.size === 0n && String(st.mtimeNs) === item.stub.mtimeNs) return 'stubbed';
      if (st.size > 0n) {
        const content = hashFd(fd);
        if (content.size !== item.stub.size || content.sha256 !== item.stub.sha256 || String(st.mtimeNs) !== item.stub.mtimeNs) {
          removeStubXattrs(fd);
          return 'changed';
        }
      }
      emptyStub(fd, item.stub, item.fsync);
      return 'stubbed';
    } finally {
      fs.closeSync(fd);
    }
  }, (error) => ({ error }));
}

function emptyStub(fd: number, stub: StubRecord, fsync: boolean): void {
  fs.ftruncateSync(fd, 0);
  futimens(fd, BigInt(stub.atimeNs), BigInt(stub.mtimeNs));
  if (fsync) fs.fsyncSync(fd);
}

/** Renames the temp over the target only while the target is still exactly what was inspected. */
export function replaceAll(items: ReplaceRequest[]): ReplaceResult[] {
  return perItem<ReplaceRequest, ReplaceResult>(items, (item) => {
    const st = lstatOrNull(item.targetPath);
    if (!st || !sameFingerprint(fingerprintOf(st), item.fingerprint)) {
      removeIfPresent(item.tempPath);
      return 'changed';
    }
    fs.renameSync(item.tempPath, item.targetPath);
    return 'replaced';
  }, (error) => ({ error }));
}

export function removeAll(paths: string[]): (string | null)[] {
  return perItem(paths, (path) => { removeIfPresent(path); return null; }, (message) => message);
}

export interface StubInspectRequest { path: string; root: string; expectUri: string; expectSha256: string }
export type StubInspection =
  | { kind: 'stub'; stub: StubRecord; fingerprint: SourceFingerprint; meta: FileMeta }
  | { kind: 'restored' }
  | { kind: 'skip'; reason: 'missing' | 'not-regular' | 'outside-root' | 'replaced' | 'foreign-stub' | 'stub-modified'; detail?: string }
  | { kind: 'error'; message: string };

/** What stands where a stub should be: the stub, the already restored file, or something else to leave alone. */
export function inspectStubs(items: StubInspectRequest[]): StubInspection[] {
  const realDirs = new Map<string, string>();
  return perItem<StubInspectRequest, StubInspection>(items, (item) => {
    const st = lstatOrNull(item.path);
    if (!st) return { kind: 'skip', reason: 'missing' };
    if (!st.isFile()) return { kind: 'skip', reason: 'not-regular' };
    if (!insideRoot(item.path, item.root, realDirs)) return { kind: 'skip', reason: 'outside-root' };
    const stub = readStub(item.path);
    if (stub) {
      if (stub.uri !== item.expectUri || stub.sha256 !== item.expectSha256) return { kind: 'skip', reason: 'foreign-stub', detail: stub.uri };
      const modified = stubModified(st, stub);
      if (modified) return { kind: 'skip', reason: 'stub-modified', detail: modified };
      return { kind: 'stub', stub, fingerprint: fingerprintOf(st), meta: metaOf(st) };
    }
    const fd = fs.openSync(item.path, O_RDONLY | O_NOFOLLOW);
    try {
      return hashFd(fd).sha256 === item.expectSha256 ? { kind: 'restored' } : { kind: 'skip', reason: 'replaced' };
    } finally {
      fs.closeSync(fd);
    }
  }, (message) => ({ kind: 'error', message }));
}

/**
 * Why a stub is no longer what stubbing left, or null. Stubbing keeps the original
 * mtime and leaves the file empty (or, interrupted, whole): any other size or mtime
 * means someone wrote to it since, and restoring would overwrite what they wrote.
 */
function stubModified(st: fs.BigIntStats, stub: StubRecord): string | null {
  const size = Number(st.size);
  if (String(st.mtimeNs) === stub.mtimeNs && (size === 0 || size === stub.size)) return null;
  return `written to since it was stubbed (now ${size} bytes, mtime ${st.mtimeNs} ns; the stub recorded ${stub.size} bytes, mtime ${stub.mtimeNs} ns)`;
}

export interface RestoreRequest { stubPath: string; tempPath: string; stub: StubRecord; meta: FileMeta; fsync: boolean }

/** Gives a fetched temp file the stub's xattrs (not strata's), owner and mode, and the original times. */
export function prepareRestored(items: RestoreRequest[]): (string | null)[] {
  return perItem(items, (item) => {
    const fd = fs.openSync(item.tempPath, O_RDWR | O_NOFOLLOW);
    try {
      copyXattrs(item.stubPath, fd);
      applyMeta(fd, item.meta, item.stub.atimeNs, item.stub.mtimeNs);
      if (item.fsync) fs.fsyncSync(fd);
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }, (message) => message);
}

export function readStubs(paths: string[]): (StubRecord | null | { error: string })[] {
  return perItem<string, StubRecord | null | { error: string }>(paths, (path) => (lstatOrNull(path) ? readStub(path) : null), (error) => ({ error }));
}

/** The filesystem target's get: copy a Tier-2 object into a fresh file and check it. */
export function fetchCopies(items: FetchRequest[]): Tier2GetResult[] {
  return perItem<FetchRequest, Tier2GetResult>(items, fetchCopy, (message) => ({ ok: false, reason: 'error', message }));
}

function fetchCopy(item: FetchRequest): Tier2GetResult {
  let inFd: number;
  try {
    inFd = fs.openSync(item.fromPath, O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { ok: false, reason: 'missing', message: `${item.fromPath} is not on the target` };
    throw error;
  }
  try {
    const outFd = createFresh(item.toPath);
    try {
      copyContent(inFd, outFd, Number(fs.fstatSync(inFd).size));
      const copy = hashFd(outFd, item.expected.size);
      if (copy.size !== item.expected.size || copy.sha256 !== item.expected.sha256) {
        removeIfPresent(item.toPath);
        return { ok: false, reason: 'mismatch', message: `Tier-2 copy has ${copy.size} bytes, sha256 ${copy.sha256}; expected ${item.expected.size}, ${item.expected.sha256}` };
      }
      if (item.fsync) fs.fsyncSync(outFd);
      return { ok: true };
    } finally {
      fs.closeSync(outFd);
    }
  } finally {
    fs.closeSync(inFd);
  }
}
