// The synchronous tree walker behind bootstrap indexing (run in a worker thread).
// Work is a list of items: list a directory's entries ("rows"), then enter its
// subdirectories one by one ("descend"). A position is a getdents64 d_off cookie,
// so the state after any entry is a few small items: that is the checkpoint.
import { ACL_XATTR_ACCESS, ACL_XATTR_DEFAULT } from '../lib/posix-acl';
import * as ffi from './ffi';
import type { DescriptorCatalog } from './acl';
import { BatchEncoder, type RowSink, FLAG_SHARE_ROOT } from './index-rows';
import { entryRow, type EntrySource } from './index-entry';
import { escapeName, escapeNameAt } from './index-names';
import { openDirectoryPath, readStatxRow, subdirectoryOffsets } from './index-walk-io';

export interface DirRef { path: string; ino: string; shareId: number | null }
/** path is base64 of the raw bytes; from/until are d_off cookies as decimal strings. */
export interface WorkItem { dir: DirRef; phase: 'rows' | 'descend'; from: string | null; until: string | null; emitSelf?: boolean }
export interface WalkIssue { path: string; code: string; message: string; ino: string | null }

/**
 * Rows go out in chunks of chunkRows (loaded while the walk goes on) and are committed with
 * a checkpoint every batchRows. sliceDirs ends a slice after that many directories were
 * listed (1 for the volume root's listing).
 */
export interface WalkLimits { batchRows: number; chunkRows: number; sliceEntries: number; sliceMs: number; sliceDirs: number; splitInto: number }
export interface WalkerOptions {
  volumeDev: { major: number; minor: number };
  shareRoots: Map<string, number>;
  catalog: DescriptorCatalog;
  limits: WalkLimits;
  /** Where rows go (default: COPY text for the bulk load). */
  sink?: RowSink;
  /** A chunk of rows; with `commit`, the checkpoint after it (final: the slice ends here). */
  onBatch(batch: { sink: RowSink; issues: WalkIssue[]; commit: { state: WorkItem[]; final: boolean } | null }): void;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const DOT = 0x2e;

interface OpenItem { item: WorkItem; path: Buffer; fd: number; escaped: string; ino: number | bigint }

export class TreeWalker {
  private readonly encoder: RowSink;
  private readonly dents = Buffer.alloc(64 * 1024);
  private readonly stat = Buffer.alloc(ffi.STATX_SIZE);
  private readonly name = Buffer.alloc(512);
  private readonly accessReader = new ffi.XattrReader();
  private readonly defaultReader = new ffi.XattrReader();
  private issues: WalkIssue[] = [];
  private entries = 0;
  private dirsListed = 0;
  private rowsInBatch = 0;
  private readonly started = Date.now();

  constructor(private readonly options: WalkerOptions) {
    this.encoder = options.sink ?? new BatchEncoder();
  }

  /** Walks until the work is done or the slice is used up; the final batch carries what remains. */
  run(todo: WorkItem[]): void {
    while (todo.length > 0 && !this.sliceUsedUp()) {
      const item = todo[0];
      if (item.phase === 'rows') this.listRows(todo, item);
      else this.descendOnce(todo, item);
    }
    this.options.onBatch({ sink: this.encoder, issues: this.takeIssues(), commit: { state: cloneItems(todo), final: true } });
  }

  private sliceUsedUp(): boolean {
    const { sliceEntries, sliceMs, sliceDirs } = this.options.limits;
    return this.entries >= sliceEntries || this.dirsListed >= sliceDirs || Date.now() - this.started >= sliceMs;
  }

  private open(todo: WorkItem[], item: WorkItem): OpenItem | null {
    const path = Buffer.from(item.dir.path, 'base64');
    const fd = openDirectoryPath(path);
    if (fd < 0) {
      const error = ffi.fsError('open', path, -fd);
      return this.skip(todo, item, error.code, error.message);
    }
    const rc = ffi.statxInto(fd, EMPTY, ffi.AT_EMPTY_PATH, this.stat);
    const row = rc === 0 ? readStatxRow(this.stat) : null;
    const sameDevice = row !== null && row.devMajor === this.options.volumeDev.major && row.devMinor === this.options.volumeDev.minor;
    if (!row || !sameDevice || String(row.ino) !== item.dir.ino) {
      ffi.close(fd);
      // A mount point is flagged in its parent's listing and not entered (the walk stays on one filesystem).
      if (row && !sameDevice) return this.skip(todo, item, null, '');
      return this.skip(todo, item, 'ESTALE', `${escapeName(path)} was replaced during the walk (inode ${row?.ino}, expected ${item.dir.ino})`);
    }
    if (item.from !== null) ffi.seek(fd, BigInt(item.from));
    return { item, path, fd, escaped: escapeName(path), ino: row.ino };
  }

  /** Drops an item that cannot be walked; a directory that cannot be listed is reported once (in its rows phase). */
  private skip(todo: WorkItem[], item: WorkItem, code: string | null, message: string): null {
    todo.shift();
    if (code !== null && item.phase === 'rows') {
      this.issues.push({ path: escapeName(Buffer.from(item.dir.path, 'base64')), code, message, ino: item.dir.ino });
    }
    return null;
  }

  private listRows(todo: WorkItem[], item: WorkItem): void {
    const dir = this.open(todo, item);
    if (!dir) return;
    try {
      if (item.emitSelf) this.emitSelf(dir);
      const { batchRows, chunkRows } = this.options.limits;
      for (;;) {
        const n = ffi.getdents(dir.fd, this.dents);
        if (n === 0) break;
        for (let off = 0; off < n;) {
          const reclen = this.dents.readUInt16LE(off + 16);
          const end = this.dents.indexOf(0, off + 19);
          if (!isDotEntry(this.dents, off + 19, end)) this.emitEntry(dir, off + 19, end);
          const stop = (this.entries & 255) === 0 && this.sliceUsedUp();
          const commit = this.rowsInBatch + this.encoder.rows >= batchRows;
          if (stop || commit || this.encoder.rows >= chunkRows) {
            // The cookie is read only when the state may be observed: a BigInt per entry would cost more than the walk.
            item.from = readOffset(this.dents, off);
            if (stop) return;
            this.flush(todo, commit);
          }
          off += reclen;
        }
      }
      todo[0] = { dir: item.dir, phase: 'descend', from: null, until: null };
      this.dirsListed += 1;
    } finally {
      ffi.close(dir.fd);
    }
  }

  private emitSelf(dir: OpenItem): void {
    const cut = dir.path.lastIndexOf(0x2f);
    const parentPath = cut <= 0 ? Buffer.from('/') : dir.path.subarray(0, cut);
    const parent = ffi.lstatx(parentPath);
    this.encoder.enterDirectory(escapeName(parentPath), null);
    ffi.statxInto(dir.fd, EMPTY, ffi.AT_EMPTY_PATH, this.stat);
    const shareFlag = this.options.shareRoots.has(dir.path.toString('latin1')) ? FLAG_SHARE_ROOT : 0;
    this.addRow({
      stat: readStatxRow(this.stat), name: escapeName(dir.path.subarray(cut + 1)), parentIno: parent.ino, shareId: dir.item.dir.shareId,
      extraFlags: shareFlag, access: ffi.fgetxattr(dir.fd, ACL_XATTR_ACCESS), defaults: ffi.fgetxattr(dir.fd, ACL_XATTR_DEFAULT),
    });
    dir.item.emitSelf = false;
  }

  /** One directory entry (name bytes at start..end of the getdents buffer): statx, ACL xattrs, row. */
  private emitEntry(dir: OpenItem, start: number, end: number): void {
    const length = end - start;
    this.dents.copy(this.name, 0, start, end + 1);
    const rc = ffi.statxInto(dir.fd, this.name, ffi.AT_SYMLINK_NOFOLLOW, this.stat);
    if (rc < 0) {
      if (-rc !== ffi.ENOENT) this.issues.push(issueFor('statx', this.childPath(dir, length), -rc));
      return;
    }
    const stat = readStatxRow(this.stat);
    const type = stat.mode & S_IFMT;
    this.encoder.enterDirectory(dir.escaped, dir.ino);
    let shareId = dir.item.dir.shareId;
    let shareFlag = 0;
    if (type === S_IFDIR && this.options.shareRoots.size > 0) {
      const childShare = this.options.shareRoots.get(this.childPath(dir, length).toString('latin1'));
      if (childShare !== undefined) {
        shareId = childShare;
        shareFlag = FLAG_SHARE_ROOT;
      }
    }
    const access = type === S_IFLNK ? null : this.readXattr(dir, length, this.accessReader, ACCESS_ATTRIBUTE);
    const defaults = type === S_IFDIR ? this.readXattr(dir, length, this.defaultReader, DEFAULT_ATTRIBUTE) : null;
    this.addRow({ stat, name: escapeNameAt(this.name, length), parentIno: dir.ino, shareId, extraFlags: shareFlag, access, defaults });
  }

  private childPath(dir: OpenItem, nameLength: number): Buffer {
    return Buffer.concat([dir.path, SLASH, this.name.subarray(0, nameLength)]);
  }

  private addRow(source: EntrySource): void {
    this.encoder.add(entryRow(source, this.options.catalog, this.options.volumeDev));
    this.entries += 1;
  }

  /** The xattr of the entry whose name is in this.name; a view into the reader's buffer, valid until its next read. */
  private readXattr(dir: OpenItem, nameLength: number, reader: ffi.XattrReader, attribute: Buffer): Buffer | null {
    const n = reader.readAt(dir.fd, this.name, attribute, dir.path);
    if (n >= 0) return reader.value.subarray(0, n);
    if (-n === ffi.ENODATA || -n === ffi.EOPNOTSUPP || -n === ffi.ENOENT) return null;
    const full = this.childPath(dir, nameLength);
    const name = attribute.toString('latin1', 0, attribute.length - 1);
    if (-n === ffi.ERANGE) return ffi.lgetxattr(full, name);
    this.issues.push(issueFor('getxattr', full, -n));
    return null;
  }

  /** Enters the next subdirectory of a descend item, or retires the item at its end. */
  private descendOnce(todo: WorkItem[], item: WorkItem): void {
    const dir = this.open(todo, item);
    if (!dir) return;
    try {
      const next = subdirectoryOffsets(dir.fd, this.dents, this.stat, item.until, 1)[0];
      if (!next) {
        todo.shift();
        return;
      }
      if (next.offset === item.until) todo.shift();
      else item.from = next.offset;
      // st_ino, not d_ino: they differ on some filesystems (overlayfs), and rows carry st_ino.
      if (ffi.statxInto(dir.fd, ffi.cPath(next.name), ffi.AT_SYMLINK_NOFOLLOW, this.stat) < 0) return;
      const childPath = Buffer.concat([dir.path, SLASH, next.name]);
      const share = this.options.shareRoots.get(childPath.toString('latin1')) ?? item.dir.shareId;
      const ino = String(readStatxRow(this.stat).ino);
      todo.unshift({ dir: { path: childPath.toString('base64'), ino, shareId: share }, phase: 'rows', from: null, until: null });
    } finally {
      ffi.close(dir.fd);
    }
  }

  private flush(todo: WorkItem[], commit: boolean): void {
    const rows = this.encoder.rows;
    this.options.onBatch({ sink: this.encoder, issues: this.takeIssues(), commit: commit ? { state: cloneItems(todo), final: false } : null });
    this.rowsInBatch = commit ? 0 : this.rowsInBatch + rows;
  }

  private takeIssues(): WalkIssue[] {
    const taken = this.issues;
    this.issues = [];
    return taken;
  }
}

const EMPTY = Buffer.from([0]);
const SLASH = Buffer.from('/');
const ACCESS_ATTRIBUTE = Buffer.from(`${ACL_XATTR_ACCESS}\0`, 'latin1');
const DEFAULT_ATTRIBUTE = Buffer.from(`${ACL_XATTR_DEFAULT}\0`, 'latin1');

function isDotEntry(buf: Buffer, start: number, end: number): boolean {
  return buf[start] === DOT && (end === start + 1 || (end === start + 2 && buf[start + 1] === DOT));
}

function readOffset(buf: Buffer, off: number): string {
  return buf.readBigInt64LE(off + 8).toString();
}

function issueFor(syscall: string, path: Buffer, errno: number): WalkIssue {
  const error = ffi.fsError(syscall, path, errno);
  return { path: escapeName(path), code: error.code, message: error.message, ino: null };
}

export function cloneItems(items: WorkItem[]): WorkItem[] {
  return items.map((item) => ({ ...item, dir: { ...item.dir } }));
}
