// What remediation does to one file, synchronously through koffi (run on worker
// threads): read its snapshot state, apply the target ACL over an fd opened by handle
// (path + inode check as fallback), verify it, restore it bit-for-bit. Every step
// first reads the file and decides from what it finds, so a repeat is harmless.
import { fchmodSync, fchownSync } from 'node:fs';
import { ACL_XATTR_ACCESS, ACL_XATTR_DEFAULT, aclFromMode, formatAcl, parseAclXattr, serializeAclXattr } from '../lib/posix-acl';
import { FileSystemError } from './errors';
import { AT_FDCWD, EOPNOTSUPP, EPERM, ESTALE, O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, close, fremovexattr, fsetxattr, openAt } from './ffi';
import { fdStat, fdXattr, handleStruct, openHandle } from './remediation-ffi';
import { unescapeName } from './index-names';

type Bytes = Uint8Array | null;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** A minimal access ACL (owner, group, other) is 4 + 3 * 8 bytes: the kernel keeps it in the mode, not in an xattr. */
const MINIMAL_ACL_BYTES = 28;
const MISSING = new Set(['ENOENT', 'ESTALE', 'ENOTDIR', 'ELOOP']);

export interface FileState { access: Bytes; defaults: Bytes; mode: number; uid: number; gid: number }
export interface ItemRef { itemNo: number; path: string; fileRef: string; isDir: boolean }
export interface SnapshotItem extends ItemRef { sourceUid: number; sourceGid: number; sourceAcl: Uint8Array; sourceDefault: Bytes }
export interface SnapshotResult { itemNo: number; state: 'ok' | 'missing' | 'changed'; handleType: number | null; handle: Bytes; file: FileState | null; detail: string | null }
export interface WorkItem extends ItemRef {
  mountPath: string; handleType: number | null; handle: Bytes; snapshot: FileState;
  targetAcl: Uint8Array; targetDefault: Bytes; targetModeBits: number; outcome: string | null;
}
export interface OpResult { itemNo: number; result: string; detail: string | null; verified?: boolean }

export function sameBytes(a: Bytes, b: Bytes): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function isMissing(error: unknown): boolean {
  return error instanceof FileSystemError && MISSING.has(error.code);
}

/** Snapshot of one planned file by path, with a handle for later opens; 'changed' when it no longer has the planned descriptor. */
export function snapshotOne(item: SnapshotItem): SnapshotResult {
  const path = unescapeName(item.path);
  const none = (detail: string): SnapshotResult => ({ itemNo: item.itemNo, state: 'missing', handleType: null, handle: null, file: null, detail });
  let fd: number;
  try {
    fd = openAt(AT_FDCWD, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  } catch (error) {
    if (isMissing(error)) return none((error as Error).message);
    throw error;
  }
  try {
    const stat = fdStat(fd);
    const type = stat.mode & S_IFMT;
    if (stat.ino !== item.fileRef) return none(`replaced: now inode ${stat.ino}, planned ${item.fileRef}`);
    if (type !== S_IFDIR && type !== S_IFREG) return none(`no longer a file or directory (mode ${stat.mode.toString(8)})`);
    const handle = handleStruct(fd);
    const file: FileState = {
      access: fdXattr(fd, ACL_XATTR_ACCESS), defaults: type === S_IFDIR ? fdXattr(fd, ACL_XATTR_DEFAULT) : null, mode: stat.mode, uid: stat.uid, gid: stat.gid,
    };
    const effective = file.access ?? serializeAclXattr(aclFromMode(file.mode));
    const planned = file.uid === item.sourceUid && file.gid === item.sourceGid && sameBytes(effective, item.sourceAcl) && sameBytes(file.defaults, item.sourceDefault);
    return {
      itemNo: item.itemNo, state: planned ? 'ok' : 'changed', handleType: handle ? handle.readInt32LE(4) : null, handle, file,
      detail: planned ? null : `changed since planning: now ${describeState(file)}`,
    };
  } finally {
    close(fd);
  }
}

const mountFds = new Map<string, number>();

function mountFd(mountPath: string): number {
  let fd = mountFds.get(mountPath);
  if (fd === undefined) {
    fd = openAt(AT_FDCWD, mountPath, O_RDONLY | O_NOFOLLOW);
    mountFds.set(mountPath, fd);
  }
  return fd;
}

/** Opens the planned inode: by handle where allowed, else by path with the inode checked. */
function openItem(item: WorkItem): number {
  const flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
  if (item.handle !== null) {
    const fd = openHandle(mountFd(item.mountPath), item.handle, flags);
    if (fd >= 0) return fd;
    if (-fd !== EPERM && -fd !== EOPNOTSUPP) throw new FileSystemError(-fd === ESTALE ? 'ESTALE' : `E${-fd}`, -fd, 'open_by_handle_at', item.path, `open_by_handle_at failed for ${item.path}: errno ${-fd}`);
  }
  const fd = openAt(AT_FDCWD, unescapeName(item.path), flags | O_NOFOLLOW);
  if (fdStat(fd).ino !== item.fileRef) {
    close(fd);
    throw new FileSystemError('ESTALE', ESTALE, 'open', item.path, `${item.path} is no longer inode ${item.fileRef}`);
  }
  return fd;
}

function readState(fd: number, isDir: boolean): FileState {
  const stat = fdStat(fd);
  return { access: fdXattr(fd, ACL_XATTR_ACCESS), defaults: isDir ? fdXattr(fd, ACL_XATTR_DEFAULT) : null, mode: stat.mode, uid: stat.uid, gid: stat.gid };
}

function sameState(a: FileState, b: FileState): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && sameBytes(a.access, b.access) && sameBytes(a.defaults, b.defaults);
}

/** What the file looks like once the target is applied: the kernel keeps a minimal ACL in the mode bits only. */
export function targetState(item: WorkItem): FileState {
  const minimal = item.targetAcl.byteLength === MINIMAL_ACL_BYTES;
  return {
    access: minimal ? null : item.targetAcl, defaults: item.isDir ? item.targetDefault : null,
    mode: (item.snapshot.mode & ~0o777) | item.targetModeBits, uid: item.snapshot.uid, gid: item.snapshot.gid,
  };
}

function withFile(item: WorkItem, work: (fd: number) => OpResult): OpResult {
  let fd: number;
  try {
    fd = openItem(item);
  } catch (error) {
    if (isMissing(error)) return { itemNo: item.itemNo, result: 'missing', detail: (error as Error).message };
    return { itemNo: item.itemNo, result: 'failed', detail: (error as Error).message };
  }
  try {
    return work(fd);
  } catch (error) {
    return { itemNo: item.itemNo, result: 'failed', detail: (error as Error).message };
  } finally {
    close(fd);
  }
}

/**
 * applied | already | skipped_changed | skipped_missing | failed. An applied or already
 * compliant file is verified on the same descriptor: its ACLs, mode and owner are read
 * back from the kernel after the write and compared with the target (`verified`).
 */
export function applyOne(item: WorkItem): OpResult {
  const outcome = withFile(item, (fd) => {
    const target = targetState(item);
    const current = readState(fd, item.isDir);
    if (sameState(current, target)) return { itemNo: item.itemNo, result: 'already', detail: null, verified: true };
    const accessDone = sameBytes(current.access, target.access) && current.mode === target.mode;
    const accessPlanned = sameBytes(current.access, item.snapshot.access) && current.mode === item.snapshot.mode;
    const defaultsDone = sameBytes(current.defaults, target.defaults);
    const ownerSame = current.uid === target.uid && current.gid === target.gid;
    if (!ownerSame || !(accessDone || accessPlanned) || !(defaultsDone || sameBytes(current.defaults, item.snapshot.defaults))) {
      return { itemNo: item.itemNo, result: 'skipped_changed', detail: `changed since the snapshot: now ${describeState(current)}` };
    }
    if (!accessDone) fsetxattr(fd, ACL_XATTR_ACCESS, asBuffer(item.targetAcl));
    if (!defaultsDone && target.defaults !== null) fsetxattr(fd, ACL_XATTR_DEFAULT, asBuffer(target.defaults));
    const after = readState(fd, item.isDir);
    const verified = sameState(after, target);
    return { itemNo: item.itemNo, result: 'applied', detail: verified ? null : `verify: mismatch: ${describeState(after)}`, verified };
  });
  return outcome.result === 'missing' ? { ...outcome, result: 'skipped_missing' } : outcome;
}

/** ok | mismatch | missing | failed: does the file now carry exactly the target? (drift checks) */
export function verifyOne(item: WorkItem): OpResult {
  return withFile(item, (fd) => {
    const current = readState(fd, item.isDir);
    if (sameState(current, targetState(item))) return { itemNo: item.itemNo, result: 'ok', detail: null };
    return { itemNo: item.itemNo, result: 'mismatch', detail: describeState(current) };
  });
}

/** restored | unchanged | conflict | missing | failed: puts back the snapshot's ACLs, mode and owner. */
export function rollbackOne(item: WorkItem): OpResult {
  return withFile(item, (fd) => {
    const snapshot = item.snapshot;
    const current = readState(fd, item.isDir);
    if (sameState(current, snapshot)) return { itemNo: item.itemNo, result: 'unchanged', detail: null };
    const target = targetState(item);
    const ours = item.outcome === 'applied' || item.outcome === 'already' || sameState(current, target)
      || (sameBytes(current.access, target.access) && sameBytes(current.defaults, snapshot.defaults) && current.uid === snapshot.uid && current.gid === snapshot.gid);
    if (!ours) return { itemNo: item.itemNo, result: 'conflict', detail: `never changed by this run, changed by someone else: now ${describeState(current)}` };
    if (current.uid !== snapshot.uid || current.gid !== snapshot.gid) fchownSync(fd, snapshot.uid, snapshot.gid);
    if (snapshot.access) fsetxattr(fd, ACL_XATTR_ACCESS, asBuffer(snapshot.access));
    else fremovexattr(fd, ACL_XATTR_ACCESS);
    if (item.isDir && !sameBytes(current.defaults, snapshot.defaults)) {
      if (snapshot.defaults) fsetxattr(fd, ACL_XATTR_DEFAULT, asBuffer(snapshot.defaults));
      else fremovexattr(fd, ACL_XATTR_DEFAULT);
    }
    // Setting the access ACL rewrites the permission bits; the read-back shows whether the mode needs restoring too.
    let after = readState(fd, item.isDir);
    if (after.mode !== snapshot.mode) {
      fchmodSync(fd, snapshot.mode & 0o7777);
      after = readState(fd, item.isDir);
    }
    if (sameState(after, snapshot)) return { itemNo: item.itemNo, result: 'restored', detail: null };
    return { itemNo: item.itemNo, result: 'failed', detail: `after restore: ${describeState(after)}` };
  });
}

/** getfacl-like one-line text of a state with numeric ids, for reports. */
export function describeState(state: FileState): string {
  const entries = state.access ? parseAclXattr(state.access) : aclFromMode(state.mode);
  const defaults = state.defaults ? ` default:${formatAcl(parseAclXattr(state.defaults))}` : '';
  return `owner ${state.uid}:${state.gid} mode ${(state.mode & 0o7777).toString(8)} ${formatAcl(entries)}${defaults}`;
}
