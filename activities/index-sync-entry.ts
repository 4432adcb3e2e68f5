// What delta sync reads from disk: one entry as an index row (statx and ACL xattrs
// through FFI), and all rows below a directory that appeared (the walker, in memory).
import { ACL_XATTR_ACCESS, ACL_XATTR_DEFAULT } from '../lib/posix-acl';
import type { DescriptorCatalog } from './acl';
import { FileSystemError } from './errors';
import * as ffi from './ffi';
import { splitEscaped, unescapeName } from './index-names';
import { FLAG_SHARE_ROOT, type EntryRow, type RowSink } from './index-rows';
import { readStatxRow } from './index-walk-io';
import { TreeWalker, type WalkIssue } from './index-walker';
import { entryRow } from './index-entry';

export interface SyncContext {
  catalog: DescriptorCatalog; volumeDev: { major: number; minor: number };
  /** Share roots by the latin1 form of their path bytes. */
  shareRoots: Map<string, number>;
}

/** The index row of the entry at an escaped path, or null when nothing is there. */
export function snapshotEntry(context: SyncContext, path: string): EntryRow | null {
  const bytes = unescapeName(path);
  const stat = Buffer.alloc(ffi.STATX_SIZE);
  const rc = ffi.statxInto(ffi.AT_FDCWD, ffi.cPath(bytes), ffi.AT_SYMLINK_NOFOLLOW, stat);
  if (rc === -ffi.ENOENT || rc === -ffi.ENOTDIR) return null;
  if (rc < 0) throw ffi.fsError('statx', bytes, -rc);
  const { dirPath } = splitEscaped(path);
  const parent = ffi.lstatx(unescapeName(dirPath));
  const shareId = shareOf(context.shareRoots, bytes);
  const isShareRoot = context.shareRoots.has(bytes.toString('latin1'));
  const row = readStatxRow(stat);
  const type = row.mode & 0o170000;
  return entryRow({
    stat: row, name: splitEscaped(path).name, parentIno: parent.ino, shareId, extraFlags: isShareRoot ? FLAG_SHARE_ROOT : 0,
    access: type === 0o120000 ? null : optionalXattr(bytes, ACL_XATTR_ACCESS),
    defaults: type === 0o040000 ? optionalXattr(bytes, ACL_XATTR_DEFAULT) : null,
  }, context.catalog, context.volumeDev);
}

/** True when the escaped path on disk still is the inode. */
export function pathHolds(path: string, ino: number): boolean {
  const stat = Buffer.alloc(ffi.STATX_SIZE);
  return ffi.statxInto(ffi.AT_FDCWD, ffi.cPath(unescapeName(path)), ffi.AT_SYMLINK_NOFOLLOW, stat) === 0
    && Number(readStatxRow(stat).ino) === ino;
}

/** The deepest share whose root is the path or one of its ancestors. */
export function shareOf(roots: Map<string, number>, path: Buffer): number | null {
  for (let end = path.length; end > 0; end = path.lastIndexOf(0x2f, end - 1)) {
    const id = roots.get(path.subarray(0, end).toString('latin1'));
    if (id !== undefined) return id;
    if (end === 0) break;
  }
  return roots.get('/') ?? null;
}

function optionalXattr(path: Buffer, attribute: string): Buffer | null {
  try {
    return ffi.lgetxattr(path, attribute);
  } catch (error) {
    if (error instanceof FileSystemError && (error.code === 'EOPNOTSUPP' || error.code === 'ENOENT')) return null;
    throw error;
  }
}

export interface CollectedRow { dirPath: string; row: EntryRow }

class CollectingSink implements RowSink {
  readonly collected: CollectedRow[] = [];
  private dirPath = '';
  get rows(): number { return this.collected.length; }
  enterDirectory(escapedPath: string): void { this.dirPath = escapedPath; }
  add(row: EntryRow): void { this.collected.push({ dirPath: this.dirPath, row }); }
}

/** Every entry below a directory (not the directory itself), walked synchronously. */
export function walkSubtree(context: SyncContext, path: string, dir: EntryRow): { rows: CollectedRow[]; issues: WalkIssue[] } {
  const sink = new CollectingSink();
  const issues: WalkIssue[] = [];
  const unlimited = Number.MAX_SAFE_INTEGER;
  new TreeWalker({
    volumeDev: context.volumeDev, shareRoots: context.shareRoots, catalog: context.catalog, sink,
    limits: { batchRows: unlimited, chunkRows: unlimited, sliceEntries: unlimited, sliceMs: unlimited, sliceDirs: unlimited, splitInto: 1 },
    onBatch: (batch) => { issues.push(...batch.issues); },
  }).run([{ dir: { path: unescapeName(path).toString('base64'), ino: String(dir.ino), shareId: dir.shareId }, phase: 'rows', from: null, until: null }]);
  return { rows: sink.collected, issues };
}
