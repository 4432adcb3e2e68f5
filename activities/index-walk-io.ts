// Directory primitives the walker builds on: opening long paths piecewise, reading
// a statx buffer without BigInts, listing subdirectory cookies, and splitting the
// remaining work of a walk into independent partitions.
import * as ffi from './ffi';
import type { WorkItem } from './index-walker';

const PATH_PIECE = 3800;
const TWO_32 = 4294967296;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

export interface StatxRow {
  ino: number | bigint; mode: number; uid: number; gid: number; size: number | bigint;
  atime: number; mtime: number; ctime: number; btime: number | null; devMajor: number; devMinor: number;
}

/** Unsigned 64-bit as a number when exact, else as a signed 64-bit BigInt (Postgres bigint). */
function u64(buf: Buffer, offset: number): number | bigint {
  const hi = buf.readUInt32LE(offset + 4);
  if (hi < 0x200000) return hi * TWO_32 + buf.readUInt32LE(offset);
  return BigInt.asIntN(64, buf.readBigUInt64LE(offset));
}

function seconds(buf: Buffer, offset: number): number {
  return buf.readInt32LE(offset + 4) * TWO_32 + buf.readUInt32LE(offset);
}

export function readStatxRow(buf: Buffer): StatxRow {
  return {
    ino: u64(buf, 32), mode: buf.readUInt16LE(28), uid: buf.readUInt32LE(20), gid: buf.readUInt32LE(24), size: u64(buf, 40),
    atime: seconds(buf, 64), btime: buf.readUInt32LE(0) & ffi.STATX_BTIME ? seconds(buf, 80) : null, ctime: seconds(buf, 96),
    mtime: seconds(buf, 112), devMajor: buf.readUInt32LE(136), devMinor: buf.readUInt32LE(140),
  };
}

/** Opens a directory without following a final symlink; paths past PATH_MAX are opened piece by piece. Returns fd or -errno. */
export function openDirectoryPath(path: Buffer): number {
  if (path.length < PATH_PIECE) return ffi.tryOpenDirectoryAt(ffi.AT_FDCWD, ffi.cPath(path));
  let fd = ffi.AT_FDCWD;
  let start = 0;
  while (start < path.length) {
    let end = Math.min(path.length, start + PATH_PIECE);
    if (end < path.length) end = path.lastIndexOf(0x2f, end);
    if (end <= start) end = path.indexOf(0x2f, start + 1) > 0 ? path.indexOf(0x2f, start + 1) : path.length;
    const next = ffi.tryOpenDirectoryAt(fd, ffi.cPath(path.subarray(start, end)));
    if (fd !== ffi.AT_FDCWD) ffi.close(fd);
    if (next < 0) return next;
    fd = next;
    start = end + 1;
  }
  return fd;
}

export interface SubdirCookie { name: Buffer; ino: string; offset: string }

/** Reads on from the fd's position and returns up to max subdirectories, stopping after the entry whose cookie is until. */
export function subdirectoryOffsets(fd: number, dents: Buffer, stat: Buffer, until: string | null, max: number): SubdirCookie[] {
  const found: SubdirCookie[] = [];
  for (;;) {
    const n = ffi.getdents(fd, dents);
    if (n === 0) return found;
    for (let off = 0; off < n; off += dents.readUInt16LE(off + 16)) {
      const end = dents.indexOf(0, off + 19);
      const offset = dents.readBigInt64LE(off + 8).toString();
      const name = dents.subarray(off + 19, end);
      if (!(name.length <= 2 && name.every((b) => b === 0x2e)) && isDirectory(fd, dents[off + 18], dents.subarray(off + 19, end + 1), stat)) {
        found.push({ name: Buffer.from(name), ino: dents.readBigUInt64LE(off).toString(), offset });
        if (found.length >= max) return found;
      }
      if (offset === until) return found;
    }
  }
}

function isDirectory(fd: number, type: number, name: Buffer, stat: Buffer): boolean {
  if (type !== ffi.DT.UNKNOWN) return type === ffi.DT.DIR;
  return ffi.statxInto(fd, name, ffi.AT_SYMLINK_NOFOLLOW, stat) === 0 && (stat.readUInt16LE(28) & S_IFMT) === S_IFDIR;
}

/** Cuts a descend item into up to `pieces` ranges of its remaining subdirectories. */
export function descendRanges(item: WorkItem, pieces: number): WorkItem[] {
  const fd = openDirectoryPath(Buffer.from(item.dir.path, 'base64'));
  if (fd < 0) return [item];
  let cookies: SubdirCookie[];
  try {
    if (item.from !== null) ffi.seek(fd, BigInt(item.from));
    cookies = subdirectoryOffsets(fd, Buffer.alloc(64 * 1024), Buffer.alloc(ffi.STATX_SIZE), item.until, Number.MAX_SAFE_INTEGER);
  } finally {
    ffi.close(fd);
  }
  if (cookies.length < 2 || pieces < 2) return [item];
  const count = Math.min(pieces, cookies.length);
  const ranges: WorkItem[] = [];
  let from = item.from;
  for (let i = 0; i < count; i += 1) {
    const last = i === count - 1 ? item.until : cookies[Math.floor(((i + 1) * cookies.length) / count) - 1].offset;
    ranges.push({ dir: { ...item.dir }, phase: 'descend', from, until: last });
    from = last;
  }
  return ranges;
}

/** Splits what is left of a walk into at most `target` groups, cutting the shallowest directories first. */
export function splitWork(todo: WorkItem[], target: number): WorkItem[][] {
  let pieces = [...todo];
  for (let i = pieces.length - 1; i >= 0 && pieces.length < target; i -= 1) {
    if (pieces[i].phase !== 'descend') continue;
    const ranges = descendRanges(pieces[i], target - pieces.length + 1);
    pieces = [...pieces.slice(0, i), ...ranges, ...pieces.slice(i + 1)];
  }
  const groups: WorkItem[][] = [];
  const size = Math.ceil(pieces.length / Math.max(1, target));
  for (let i = 0; i < pieces.length; i += size) groups.push(pieces.slice(i, i + size));
  return groups;
}
