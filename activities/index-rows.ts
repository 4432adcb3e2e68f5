// Index rows as COPY text for the two per-batch temp tables: the directories whose
// entries a batch lists (idx_dir) and one row per entry (idx_file).
import { GrowableBuffer } from '../lib/growable-buffer';

export const FLAG_DIR = 1;
export const FLAG_SYMLINK = 2;
export const FLAG_SPECIAL = 4;
export const FLAG_ACCESS_ACL = 8;
export const FLAG_DEFAULT_ACL = 16;
export const FLAG_UNREADABLE = 32;
export const FLAG_MOUNT_POINT = 64;
export const FLAG_SHARE_ROOT = 128;

export const IDX_DIR_COLUMNS = 'seq, dir_path';
export const IDX_FILE_COLUMNS = 'dir_seq, name, size_bytes, atime_unix, mtime_unix, ctime_unix, btime_unix, file_ref, parent_ref, security_id, share_id, mode, uid, gid, flags';

export interface EntryRow {
  name: string; size: number | bigint; atime: number; mtime: number; ctime: number; btime: number | null;
  ino: number | bigint; parentIno: number | bigint; securityId: string | null; shareId: number | null; mode: number; uid: number; gid: number; flags: number;
  /** Whether the entry's descriptor grants world access (not stored in the row; used for stats). */
  world: boolean;
}

/** Receives the rows of a walk, grouped by the directory they are listed in (dirRef: its inode, null outside the volume). */
export interface RowSink {
  readonly rows: number;
  enterDirectory(escapedPath: string, dirRef: number | bigint | null): void;
  add(row: EntryRow): void;
}

/** Totals of one directory's own entries within a chunk. */
export interface DirectTotals { ref: number | bigint; files: number; dirs: number; bytes: number; world: number }

export interface EncodedBatch {
  dirsText: Buffer; filesText: Buffer; rows: number; bytes: number; fileCount: number; dirCount: number; dirStats: DirectTotals[];
}

const NEEDS_COPY_ESCAPE = /[\\\t\n\r]/;

/** COPY text format escaping of one field value. */
export function copyText(value: string): string {
  if (!NEEDS_COPY_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** An append-only byte buffer with allocation-free integer formatting (the walk writes millions of fields). */
class ByteWriter extends GrowableBuffer {
  constructor() {
    super(1 << 20);
  }

  /** ASCII written as is (numbers as text, the NULL marker). */
  raw(value: string): void {
    this.reserve(value.length);
    this.length += this.buf.write(value, this.length, 'latin1');
  }

  text(value: string): void {
    const escaped = copyText(value);
    this.reserve(escaped.length * 3);
    this.length += this.buf.write(escaped, this.length, 'utf8');
  }

  int(value: number | bigint | null): void {
    if (value === null) return this.raw('\\N');
    if (typeof value === 'bigint' || !Number.isSafeInteger(value)) return this.raw(String(value));
    this.reserve(21);
    let n = value;
    if (n < 0) {
      this.buf[this.length++] = 0x2d;
      n = -n;
    }
    const start = this.length;
    do {
      this.buf[this.length++] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    for (let i = start, j = this.length - 1; i < j; i += 1, j -= 1) {
      const t = this.buf[i];
      this.buf[i] = this.buf[j];
      this.buf[j] = t;
    }
  }

  byte(value: number): void {
    this.reserve(1);
    this.buf[this.length++] = value;
  }
}

const TAB = 0x09;
const NEWLINE = 0x0a;

export class BatchEncoder implements RowSink {
  private readonly dirs = new ByteWriter();
  private readonly files = new ByteWriter();
  private dirSeq = -1;
  private currentDir: string | null = null;
  private dirStats: DirectTotals[] = [];
  private current: DirectTotals | null = null;
  rows = 0;
  bytes = 0;
  fileCount = 0;
  dirCount = 0;

  /** Starts (or continues) the directory whose entries the next rows are. */
  enterDirectory(escapedPath: string, dirRef: number | bigint | null): void {
    if (this.currentDir === escapedPath) return;
    this.dirSeq += 1;
    this.currentDir = escapedPath;
    this.current = dirRef === null ? null : { ref: dirRef, files: 0, dirs: 0, bytes: 0, world: 0 };
    if (this.current) this.dirStats.push(this.current);
    this.dirs.int(this.dirSeq);
    this.dirs.byte(TAB);
    this.dirs.text(escapedPath);
    this.dirs.byte(NEWLINE);
  }

  add(row: EntryRow): void {
    const f = this.files;
    f.int(this.dirSeq); f.byte(TAB);
    f.text(row.name); f.byte(TAB);
    f.int(row.size); f.byte(TAB);
    f.int(row.atime); f.byte(TAB);
    f.int(row.mtime); f.byte(TAB);
    f.int(row.ctime); f.byte(TAB);
    f.int(row.btime); f.byte(TAB);
    f.int(row.ino); f.byte(TAB);
    f.int(row.parentIno); f.byte(TAB);
    f.raw(row.securityId ?? '\\N'); f.byte(TAB);
    f.int(row.shareId); f.byte(TAB);
    f.int(row.mode); f.byte(TAB);
    f.int(row.uid); f.byte(TAB);
    f.int(row.gid); f.byte(TAB);
    f.int(row.flags);
    f.byte(NEWLINE);
    this.rows += 1;
    const size = Number(row.size);
    const isDir = (row.flags & FLAG_DIR) !== 0;
    this.bytes += size;
    if (isDir) this.dirCount += 1;
    else this.fileCount += 1;
    const totals = this.current;
    if (totals === null) return;
    if (isDir) totals.dirs += 1;
    else {
      totals.files += 1;
      totals.bytes += size;
      if (row.world) totals.world += 1;
    }
  }

  take(): EncodedBatch {
    const taken = {
      dirsText: this.dirs.take(), filesText: this.files.take(), rows: this.rows, bytes: this.bytes,
      fileCount: this.fileCount, dirCount: this.dirCount, dirStats: this.dirStats,
    };
    this.dirSeq = -1;
    this.currentDir = null;
    this.dirStats = [];
    this.current = null;
    this.rows = 0;
    this.bytes = 0;
    this.fileCount = 0;
    this.dirCount = 0;
    return taken;
  }
}
