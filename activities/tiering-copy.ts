// The byte work of tiering on the host's worker threads: copying a source onto
// Tier-2 and checking the copy against the source (size and SHA-256), and hashing
// stored objects.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { fsetxattr } from './ffi';
import { copyFileRange, ficlone } from './ffi-xattr';
import { COPY_OF_ATTRIBUTE, formatCopyOf } from './stub-format';
import { createFresh, ensureDir, errnoCode, fingerprintOf, removeIfPresent, sameFingerprint } from './tiering-fsops';
import type { StageRequest } from '../lib/tier2-fs';
import type { Tier2PutResult } from '../lib/tier2-target';

const { O_RDONLY, O_NOFOLLOW, O_NOATIME } = fs.constants;
const CHUNK = 1 << 20;
let scratch: Buffer | undefined;

export function openSource(path: string): number {
  try {
    return fs.openSync(path, O_RDONLY | O_NOFOLLOW | O_NOATIME);
  } catch (error) {
    // O_NOATIME needs ownership or CAP_FOWNER; without it reading may move atime.
    if (errnoCode(error) === 'EPERM') return fs.openSync(path, O_RDONLY | O_NOFOLLOW);
    throw error;
  }
}

/**
 * Size and SHA-256 of an open file. With expectedSize, a short read that ends exactly
 * there is taken as the end of the file, sparing the read that would answer 0 (one
 * syscall per small file); any other short read is followed by another read.
 */
export function hashFd(fd: number, expectedSize?: number): { size: number; sha256: string } {
  const hash = createHash('sha256');
  const buffer = (scratch ??= Buffer.allocUnsafe(CHUNK));
  let position = 0;
  for (;;) {
    const n = fs.readSync(fd, buffer, 0, buffer.length, position);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    position += n;
    if (n < buffer.length && position === expectedSize) break;
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

/**
 * Copies the source and returns the source's size and hash. A small file is read once
 * into memory, hashed and written (three syscalls fewer than a kernel copy followed by
 * reading the source back); larger ones are copied in the kernel, then hashed.
 */
export function copyAndHash(inFd: number, outFd: number, size: number): { size: number; sha256: string } {
  if (size >= REFLINK_MIN_BYTES) {
    copyContent(inFd, outFd, size);
    return hashFd(inFd, size);
  }
  const buffer = (scratch ??= Buffer.allocUnsafe(CHUNK));
  // Asking for more than size bytes, one read answers for an unchanged file; one that
  // grew reads longer and fails the fingerprint check after the copy.
  let length = 0;
  for (;;) {
    const n = fs.readSync(inFd, buffer, length, buffer.length - length, length);
    length += n;
    if (n === 0 || length >= size || length === buffer.length) break;
  }
  fs.writeSync(outFd, buffer, 0, length, 0);
  return { size: length, sha256: createHash('sha256').update(buffer.subarray(0, length)).digest('hex') };
}

export function stageCopies(items: StageRequest[]): Tier2PutResult[] {
  return items.map((item) => {
    try {
      ensureDir(dirname(item.path));
      return stageCopy(item);
    } catch (error) {
      return { ok: false, reason: errnoCode(error) === 'ENOENT' ? 'changed' : 'error', message: (error as Error).message };
    }
  });
}

function stageCopy(item: StageRequest): Tier2PutResult {
  const inFd = openSource(item.sourcePath);
  try {
    // The check after the copy catches any change; checking first only spares copying a large file in vain.
    if (item.fingerprint.size >= REFLINK_MIN_BYTES && !sameFingerprint(fingerprintOf(fs.fstatSync(inFd, { bigint: true })), item.fingerprint)) {
      return { ok: false, reason: 'changed', message: 'source changed after it was inspected' };
    }
    const outFd = createFresh(item.path, { makeDirs: true });
    try {
      const source = copyAndHash(inFd, outFd, item.fingerprint.size);
      const copy = hashFd(outFd, source.size);
      const failure = copyFailure(inFd, item, source, copy);
      if (failure) { removeIfPresent(item.path); return failure; }
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
    return { ok: false, reason: 'changed', message: 'source changed after it was inspected or while it was copied' };
  }
  if (source.size !== item.fingerprint.size || copy.size !== source.size || copy.sha256 !== source.sha256) {
    return { ok: false, reason: 'mismatch', message: `copy does not match the source (${copy.size}/${source.size} bytes, sha256 ${copy.sha256} vs ${source.sha256})` };
  }
  return null;
}

/** Labels the Tier-2 copy with its source path and hash for inventories; targets without xattrs go without. */
function tagCopy(fd: number, label: string, sha256: string): void {
  try {
    fsetxattr(fd, COPY_OF_ATTRIBUTE, formatCopyOf(sha256, label));
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

