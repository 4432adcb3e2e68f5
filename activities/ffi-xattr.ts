// libc calls tiering needs beside activities/ffi.ts (whose xattr calls it reuses):
// syncfs, futimens with nanoseconds, reflink (FICLONE) and copy_file_range.
import type Koffi from 'koffi' with { 'resolution-mode': 'require' };
import { fsError } from './ffi';

// koffi ships CommonJS for require() but declares its types as an ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const koffi: typeof Koffi = require('koffi');

const libc = koffi.load('libc.so.6');
const raw = {
  syncfs: libc.func('int syncfs(int fd)'),
  futimens: libc.func('int futimens(int fd, const uint8_t *times)'),
  ioctl: libc.func('int ioctl(int fd, unsigned long request, ...)'),
  copyFileRange: libc.func('int64_t copy_file_range(int fdIn, void *offIn, int fdOut, void *offOut, size_t len, unsigned int flags)'),
};

/** _IOW(0x94, 9, int): share the source's extents (btrfs, XFS, bcachefs, OCFS2). */
const FICLONE = 0x40049409;
const NS_PER_S = 1_000_000_000n;
const errno = koffi.os.errno as Record<string, number>;
/** Errors meaning "this filesystem pair cannot do it": fall back to the next copy method. */
const UNSUPPORTED = new Set([errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS, errno.EBADF, errno.EPERM]);

/** Flushes every dirty page and metadata change of the filesystem holding fd. */
export function syncfs(fd: number): void {
  if (raw.syncfs(fd) < 0) throw fsError('syncfs', undefined);
}

/** Sets access and modification times with nanosecond precision. */
export function futimens(fd: number, atimeNs: bigint, mtimeNs: bigint): void {
  const times = Buffer.alloc(32);
  times.writeBigInt64LE(atimeNs / NS_PER_S, 0);
  times.writeBigInt64LE(atimeNs % NS_PER_S, 8);
  times.writeBigInt64LE(mtimeNs / NS_PER_S, 16);
  times.writeBigInt64LE(mtimeNs % NS_PER_S, 24);
  if (raw.futimens(fd, times) < 0) throw fsError('futimens', undefined);
}

/** Reflinks the whole of inFd into outFd; false when the filesystem cannot. */
export function ficlone(outFd: number, inFd: number): boolean {
  if (raw.ioctl(outFd, FICLONE, 'int', inFd) === 0) return true;
  const code = koffi.errno();
  if (UNSUPPORTED.has(code)) return false;
  throw fsError('ioctl(FICLONE)', undefined, code);
}

/**
 * Copies length bytes in the kernel (server-side on NFS 4.2 and SMB) from the current
 * offsets; returns false when the filesystem pair cannot, having copied nothing.
 */
export function copyFileRange(inFd: number, outFd: number, length: number): boolean {
  let done = 0;
  while (done < length) {
    const n = Number(raw.copyFileRange(inFd, null, outFd, null, length - done, 0));
    if (n < 0) {
      const code = koffi.errno();
      if (done === 0 && UNSUPPORTED.has(code)) return false;
      throw fsError('copy_file_range', undefined, code);
    }
    if (n === 0) break;
    done += n;
  }
  return true;
}
