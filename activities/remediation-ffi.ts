// The per-file syscalls of remediation without per-call allocation: statx and the ACL
// xattrs of an open fd into reused buffers, handles kept as ready-made file_handle
// structs for open_by_handle_at. activities/ffi.ts has the general versions (and the
// error type); this is the hot path, run millions of times on the worker threads.
import type Koffi from 'koffi' with { 'resolution-mode': 'require' };
import { ENODATA, ERANGE, fgetxattr as fgetxattrAlloc, fsError, AT_EMPTY_PATH } from './ffi';

// koffi ships CommonJS for require() but declares its types as an ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const koffi: typeof Koffi = require('koffi');

const libc = koffi.load('libc.so.6');
const raw = {
  statx: libc.func('int statx(int dirfd, const uint8_t *path, int flags, unsigned int mask, uint8_t *buf)'),
  fgetxattr: libc.func('int64_t fgetxattr(int fd, const uint8_t *name, uint8_t *value, size_t size)'),
  nameToHandleAt: libc.func('int name_to_handle_at(int dirfd, const uint8_t *path, uint8_t *handle, _Out_ int *mountId, int flags)'),
  openByHandleAt: libc.func('int open_by_handle_at(int mountFd, const uint8_t *handle, int flags)'),
};

const MAX_HANDLE_SZ = 128;
const STATX_BASIC = 0x7ff;
const EMPTY = Buffer.from([0]);
const statBuf = Buffer.alloc(256);
const valueBuf = Buffer.alloc(4096);
const handleBuf = Buffer.alloc(8 + MAX_HANDLE_SZ);
const mountId = [0];
const names = new Map<string, Buffer>();

export interface FdStat { ino: string; mode: number; uid: number; gid: number }

export function fdStat(fd: number): FdStat {
  if (raw.statx(fd, EMPTY, AT_EMPTY_PATH, STATX_BASIC, statBuf) < 0) throw fsError('statx', undefined);
  return { ino: statBuf.readBigUInt64LE(32).toString(), mode: statBuf.readUInt16LE(28), uid: statBuf.readUInt32LE(20), gid: statBuf.readUInt32LE(24) };
}

/** An xattr of an open fd, or null when absent; copied out of the reused buffer. */
export function fdXattr(fd: number, attribute: string): Buffer | null {
  let name = names.get(attribute);
  if (!name) names.set(attribute, (name = Buffer.from(`${attribute}\0`, 'latin1')));
  const n = Number(raw.fgetxattr(fd, name, valueBuf, valueBuf.length));
  if (n >= 0) return Buffer.from(valueBuf.subarray(0, n));
  const errno = koffi.errno();
  if (errno === ENODATA) return null;
  if (errno === ERANGE) return fgetxattrAlloc(fd, attribute);
  throw fsError('fgetxattr', undefined, errno);
}

/** A file_handle struct (bytes, type, handle) for an open fd, or null where the filesystem has no handles. */
export function handleStruct(fd: number): Buffer | null {
  handleBuf.writeUInt32LE(MAX_HANDLE_SZ, 0);
  if (raw.nameToHandleAt(fd, EMPTY, handleBuf, mountId, AT_EMPTY_PATH) < 0) {
    const errno = koffi.errno();
    if (errno === koffi.os.errno.EOPNOTSUPP) return null;
    throw fsError('name_to_handle_at', undefined, errno);
  }
  return Buffer.from(handleBuf.subarray(0, 8 + handleBuf.readUInt32LE(0)));
}

/** open_by_handle_at with a stored struct: the fd, or -errno (EPERM without CAP_DAC_READ_SEARCH, ESTALE when gone). */
export function openHandle(mountFd: number, struct: Uint8Array, flags: number): number {
  const fd = raw.openByHandleAt(mountFd, struct, flags);
  return fd < 0 ? -koffi.errno() : fd;
}
