// What a stub is: the tiered file itself emptied, keeping its inode, name, mode,
// owner, times, ACLs and other xattrs, whose user.strata.* xattrs say where the content
// went. Empty, so it costs no data block (a small file's stub would otherwise take as
// much space as the file) and no reader mistakes it for the content.
import * as ffi from './ffi';

export const STUB_XATTR = {
  uri: 'user.strata.target_uri',
  size: 'user.strata.size',
  sha256: 'user.strata.sha256',
  /** "<tier object id> <original atime ns> <original mtime ns>": one attribute, since each costs a journaled write. */
  origin: 'user.strata.origin',
} as const;

export const STRATA_XATTR_PREFIX = 'user.strata.';

export interface StubRecord { uri: string; size: number; sha256: string; tierId: number; atimeNs: string; mtimeNs: string }

/** The stub record of a path, or null when the file is not a stub (the sha256 xattr is the marker). */
export function readStub(path: string): StubRecord | null {
  const sha = ffi.lgetxattr(path, STUB_XATTR.sha256);
  if (!sha) return null;
  const text = (name: string) => ffi.lgetxattr(path, name)?.toString('utf8') ?? '';
  const [tierId, atimeNs, mtimeNs] = text(STUB_XATTR.origin).split(' ');
  return {
    sha256: sha.toString('utf8'), uri: text(STUB_XATTR.uri), size: Number(text(STUB_XATTR.size)),
    tierId: Number(tierId ?? 0), atimeNs: atimeNs || '0', mtimeNs: mtimeNs || '0',
  };
}

/** Written last to a stub temp file: the marker (sha256) goes on after the rest. */
export function writeStubXattrs(fd: number, stub: StubRecord): void {
  const set = (name: string, value: string) => ffi.fsetxattr(fd, name, Buffer.from(value, 'utf8'));
  set(STUB_XATTR.uri, stub.uri);
  set(STUB_XATTR.size, String(stub.size));
  set(STUB_XATTR.origin, `${stub.tierId} ${stub.atimeNs} ${stub.mtimeNs}`);
  set(STUB_XATTR.sha256, stub.sha256);
}

/** Unmarks a file: the marker goes first, so a half-unmarked file is never taken for a stub. */
export function removeStubXattrs(fd: number): void {
  for (const name of [STUB_XATTR.sha256, STUB_XATTR.uri, STUB_XATTR.size, STUB_XATTR.origin]) ffi.fremovexattr(fd, name);
}

const BEST_EFFORT_NAMESPACES = ['security.', 'trusted.'];

/**
 * Copies a file's xattrs (POSIX ACLs included) onto an open file, except strata's
 * own. security.* and trusted.* are copied where the process may, else skipped.
 */
export function copyXattrs(fromPath: string, toFd: number): void {
  for (const name of ffi.llistxattr(fromPath)) {
    if (name.startsWith(STRATA_XATTR_PREFIX)) continue;
    const value = ffi.lgetxattr(fromPath, name);
    if (value === null) continue;
    try {
      ffi.fsetxattr(toFd, name, value);
    } catch (error) {
      if (!BEST_EFFORT_NAMESPACES.some((prefix) => name.startsWith(prefix))) throw error;
    }
  }
}
