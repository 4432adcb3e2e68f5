// libc through koffi for what Node's fs cannot do or does slowly: statx with btime,
// xattrs without following links, getdents64 on a directory fd, file handles.
// Paths are NUL-terminated byte Buffers so names that are not UTF-8 survive.
import type Koffi from 'koffi' with { 'resolution-mode': 'require' };
import { FileSystemError } from './errors';

// koffi ships CommonJS for require() but declares its types as an ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const koffi: typeof Koffi = require('koffi');

export const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
export const O_RDONLY = 0, O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_NOATIME = 0o1000000, O_CLOEXEC = 0o2000000;
export const STATX_BTIME = 0x800, STATX_BASIC_AND_BTIME = 0x7ff | STATX_BTIME;
export const XATTR_CREATE = 1, XATTR_REPLACE = 2;
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;
export const STATX_SIZE = 256;
const SYS_GETXATTRAT = 464;
const MAX_HANDLE_SZ = 128;

const libc = koffi.load('libc.so.6');
const raw = {
  openat: libc.func('int openat(int dirfd, const uint8_t *path, int flags, int mode)'),
  close: libc.func('int close(int fd)'),
  lseek: libc.func('int64_t lseek(int fd, int64_t offset, int whence)'),
  statx: libc.func('int statx(int dirfd, const uint8_t *path, int flags, unsigned int mask, uint8_t *buf)'),
  getdents64: libc.func('int64_t getdents64(int fd, uint8_t *buf, size_t count)'),
  lgetxattr: libc.func('int64_t lgetxattr(const uint8_t *path, const char *name, uint8_t *value, size_t size)'),
  fgetxattr: libc.func('int64_t fgetxattr(int fd, const char *name, uint8_t *value, size_t size)'),
  llistxattr: libc.func('int64_t llistxattr(const uint8_t *path, uint8_t *list, size_t size)'),
  fsetxattr: libc.func('int fsetxattr(int fd, const char *name, const uint8_t *value, size_t size, int flags)'),
  lsetxattr: libc.func('int lsetxattr(const uint8_t *path, const char *name, const uint8_t *value, size_t size, int flags)'),
  fremovexattr: libc.func('int fremovexattr(int fd, const char *name)'),
  // syscall(2) takes integers in registers on x86_64 and aarch64, so a fixed prototype is safe.
  getxattrat: libc.func('syscall', 'int64_t', ['long', 'int', 'void *', 'uint', 'void *', 'void *', 'size_t']),
  nameToHandleAt: libc.func('int name_to_handle_at(int dirfd, const uint8_t *path, uint8_t *handle, _Out_ int *mountId, int flags)'),
  openByHandleAt: libc.func('int open_by_handle_at(int mountFd, uint8_t *handle, int flags)'),
  strerror: libc.func('const char *strerror(int errnum)'),
};

const ERRNO_NAMES = new Map<number, string>(Object.entries(koffi.os.errno).map(([name, code]) => [code as number, name]));
const errno = (name: string) => koffi.os.errno[name] as number;
export const ENOENT = errno('ENOENT'), ENOTDIR = errno('ENOTDIR'), ENODATA = errno('ENODATA'), ERANGE = errno('ERANGE');
export const ENOSYS = errno('ENOSYS'), EPERM = errno('EPERM'), EOPNOTSUPP = errno('EOPNOTSUPP'), ESTALE = errno('ESTALE');

/** Switches for the slower portable paths, so both sides can be tested on one machine. */
export const ffiOptions = { useGetxattrat: true, useOpenByHandle: true };

export type CPath = Buffer | string;

/** A NUL-terminated copy of a path (a Buffer already ending in NUL is used as is). */
export function cPath(path: CPath): Buffer {
  if (typeof path === 'string') return Buffer.from(`${path}\0`, 'utf8');
  return path.length > 0 && path[path.length - 1] === 0 ? path : Buffer.concat([path, Buffer.from([0])]);
}

export function fsError(syscall: string, path: CPath | undefined, errno = koffi.errno()): FileSystemError {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  const shown = path === undefined ? undefined : displayPath(path);
  const where = shown === undefined ? '' : ` on ${JSON.stringify(shown)}`;
  return new FileSystemError(code, errno, syscall, shown, `${syscall} failed${where}: ${code} (${raw.strerror(errno)})`);
}

function displayPath(path: CPath): string {
  if (typeof path === 'string') return path;
  const end = path.indexOf(0);
  return path.subarray(0, end < 0 ? path.length : end).toString('utf8');
}

export function openAt(dirFd: number, path: CPath, flags: number): number {
  const fd = raw.openat(dirFd, cPath(path), flags | O_CLOEXEC, 0);
  if (fd < 0) throw fsError('openat', path);
  return fd;
}

export function openDirectory(path: CPath): number {
  return openAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

/** Opens a directory below dirFd without following links; returns -errno instead of throwing (hot path). */
export function tryOpenDirectoryAt(dirFd: number, name: Buffer): number {
  const fd = raw.openat(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
  return fd < 0 ? -koffi.errno() : fd;
}

export function close(fd: number): void {
  if (raw.close(fd) < 0) throw fsError('close', undefined);
}

export function seek(fd: number, offset: bigint): void {
  if (raw.lseek(fd, offset, 0) < 0) throw fsError('lseek', undefined);
}

/** Fills buf with directory records; returns the byte count (0 at the end). */
export function getdents(fd: number, buf: Buffer): number {
  const n = Number(raw.getdents64(fd, buf, buf.length));
  if (n < 0) throw fsError('getdents64', undefined);
  return n;
}

/** statx into a caller-owned 256-byte buffer; returns 0 or -errno (hot path, no allocation). */
export function statxInto(dirFd: number, path: Buffer, flags: number, buf: Buffer): number {
  return raw.statx(dirFd, path, flags, STATX_BASIC_AND_BTIME, buf) < 0 ? -koffi.errno() : 0;
}

export interface Statx {
  ino: bigint; mode: number; nlink: number; uid: number; gid: number; size: bigint;
  atimeSec: number; mtimeSec: number; ctimeSec: number; btimeSec: number | null; devMajor: number; devMinor: number;
}

export function readStatx(buf: Buffer): Statx {
  const mask = buf.readUInt32LE(0);
  return {
    ino: buf.readBigUInt64LE(32), mode: buf.readUInt16LE(28), nlink: buf.readUInt32LE(16), uid: buf.readUInt32LE(20),
    gid: buf.readUInt32LE(24), size: buf.readBigUInt64LE(40), atimeSec: Number(buf.readBigInt64LE(64)),
    btimeSec: mask & STATX_BTIME ? Number(buf.readBigInt64LE(80)) : null, ctimeSec: Number(buf.readBigInt64LE(96)),
    mtimeSec: Number(buf.readBigInt64LE(112)), devMajor: buf.readUInt32LE(136), devMinor: buf.readUInt32LE(140),
  };
}

/** lstat-like statx of a path relative to dirFd (AT_FDCWD for absolute paths). */
export function lstatx(path: CPath, dirFd = AT_FDCWD): Statx {
  const buf = Buffer.alloc(STATX_SIZE);
  const rc = statxInto(dirFd, cPath(path), AT_SYMLINK_NOFOLLOW, buf);
  if (rc < 0) throw fsError('statx', path, -rc);
  return readStatx(buf);
}

export function fstatx(fd: number): Statx {
  const buf = Buffer.alloc(STATX_SIZE);
  const rc = statxInto(fd, Buffer.from([0]), AT_EMPTY_PATH, buf);
  if (rc < 0) throw fsError('statx', undefined, -rc);
  return readStatx(buf);
}

/**
 * Reads an xattr of `name` in directory dirFd without following links: getxattrat(2)
 * where the kernel has it (6.13+), else lgetxattr on the full path. Returns the
 * value length, -ENODATA when absent, or another -errno.
 */
export class XattrReader {
  readonly value: Buffer;
  private readonly args = Buffer.alloc(16);
  constructor(size = 4096) {
    this.value = Buffer.alloc(size);
    this.args.writeBigUInt64LE(koffi.address(this.value), 0);
    this.args.writeUInt32LE(size, 8);
  }

  /** name and attribute are NUL-terminated; dirPath (no NUL) is used only for the lgetxattr fallback. */
  readAt(dirFd: number, name: Buffer, attribute: Buffer, dirPath: Buffer): number {
    if (ffiOptions.useGetxattrat && getxattratAvailable) {
      const n = Number(raw.getxattrat(SYS_GETXATTRAT, dirFd, name, AT_SYMLINK_NOFOLLOW, attribute, this.args, 16));
      if (n >= 0) return n;
      const errno = koffi.errno();
      if (errno !== ENOSYS) return -errno;
      getxattratAvailable = false;
    }
    const n = Number(raw.lgetxattr(Buffer.concat([dirPath, SLASH, name]), attribute.toString('latin1', 0, attribute.indexOf(0)), this.value, this.value.length));
    return n >= 0 ? n : -koffi.errno();
  }
}
let getxattratAvailable = true;
const SLASH = Buffer.from('/');

/** Scratch buffers of this thread (each worker thread loads its own copy of this module). */
let xattrScratch: Buffer | undefined;
let listScratch: Buffer | undefined;

/** The value of an xattr of a path (links not followed), or null when it is not set. */
export function lgetxattr(path: CPath, attribute: string): Buffer | null {
  const target = cPath(path);
  for (let size = 4096; size <= 1 << 20; size *= 4) {
    const value = size === 4096 ? (xattrScratch ??= Buffer.allocUnsafe(4096)) : Buffer.alloc(size);
    const n = Number(raw.lgetxattr(target, attribute, value, size));
    // The shared scratch buffer is copied out, so callers own what they get.
    if (n >= 0) return size === 4096 ? Buffer.from(value.subarray(0, n)) : value.subarray(0, n);
    const errno = koffi.errno();
    if (errno === ENODATA) return null;
    if (errno !== ERANGE) throw fsError('lgetxattr', path, errno);
  }
  throw fsError('lgetxattr', path, ERANGE);
}

export function fgetxattr(fd: number, attribute: string): Buffer | null {
  const value = Buffer.alloc(65536);
  const n = Number(raw.fgetxattr(fd, attribute, value, value.length));
  if (n >= 0) return value.subarray(0, n);
  if (koffi.errno() === ENODATA) return null;
  throw fsError('fgetxattr', undefined);
}

export function llistxattr(path: CPath): string[] {
  const list = (listScratch ??= Buffer.allocUnsafe(65536));
  const n = Number(raw.llistxattr(cPath(path), list, list.length));
  if (n < 0) throw fsError('llistxattr', path);
  return list.subarray(0, n).toString('utf8').split('\0').filter(Boolean);
}

export function fsetxattr(fd: number, attribute: string, value: Buffer, flags = 0): void {
  if (raw.fsetxattr(fd, attribute, value, value.length, flags) < 0) throw fsError('fsetxattr', undefined);
}

export function lsetxattr(path: CPath, attribute: string, value: Buffer, flags = 0): void {
  if (raw.lsetxattr(cPath(path), attribute, value, value.length, flags) < 0) throw fsError('lsetxattr', path);
}

export function fremovexattr(fd: number, attribute: string): void {
  if (raw.fremovexattr(fd, attribute) < 0 && koffi.errno() !== ENODATA) throw fsError('fremovexattr', undefined);
}

export interface FileHandle { handleType: number; handle: Buffer; mountId: number }

/** name_to_handle_at: a persistent handle for a file (no capability needed). */
export function nameToHandle(path: CPath, dirFd = AT_FDCWD, flags = 0): FileHandle {
  const struct = Buffer.alloc(8 + MAX_HANDLE_SZ);
  struct.writeUInt32LE(MAX_HANDLE_SZ, 0);
  const mountId = [0];
  if (raw.nameToHandleAt(dirFd, cPath(path), struct, mountId, flags) < 0) throw fsError('name_to_handle_at', path);
  const bytes = struct.readUInt32LE(0);
  return { handleType: struct.readInt32LE(4), handle: Buffer.from(struct.subarray(8, 8 + bytes)), mountId: mountId[0] };
}

/** open_by_handle_at: needs CAP_DAC_READ_SEARCH; throws FileSystemError EPERM without it. */
export function openByHandle(mountFd: number, handle: FileHandle, flags: number): number {
  const struct = Buffer.alloc(8 + handle.handle.length);
  struct.writeUInt32LE(handle.handle.length, 0);
  struct.writeInt32LE(handle.handleType, 4);
  handle.handle.copy(struct, 8);
  const fd = raw.openByHandleAt(mountFd, struct, flags | O_CLOEXEC);
  if (fd < 0) throw fsError('open_by_handle_at', undefined);
  return fd;
}

/**
 * Opens a file by handle where the process may (CAP_DAC_READ_SEARCH), else by
 * path; the path fallback checks the inode so a replaced file is not touched.
 */
export function openByHandleOrPath(mountFd: number, handle: FileHandle, path: CPath, expectedIno: bigint, flags: number): { fd: number; via: 'handle' | 'path' } {
  if (ffiOptions.useOpenByHandle) {
    try {
      return { fd: openByHandle(mountFd, handle, flags), via: 'handle' };
    } catch (error) {
      if (!(error instanceof FileSystemError) || (error.errno !== EPERM && error.errno !== EOPNOTSUPP)) throw error;
    }
  }
  const fd = openAt(AT_FDCWD, path, flags | O_NOFOLLOW);
  const ino = fstatx(fd).ino;
  if (ino !== expectedIno) {
    raw.close(fd);
    throw new FileSystemError('ESTALE', ESTALE, 'open', displayPath(path), `${displayPath(path)} is now inode ${ino}, not ${expectedIno}`);
  }
  return { fd, via: 'path' };
}
