// One directory entry as an index row: type and ACL flags and its security
// descriptor. Shared by the bulk walk and delta sync.
import type { DescriptorCatalog } from './acl';
import { FLAG_ACCESS_ACL, FLAG_DEFAULT_ACL, FLAG_DIR, FLAG_MOUNT_POINT, FLAG_SPECIAL, FLAG_SYMLINK, type EntryRow } from './index-rows';
import type { StatxRow } from './index-walk-io';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/** access/defaults: the ACL xattrs as read (only consulted for the types that have them). */
export interface EntrySource {
  stat: StatxRow; name: string; parentIno: number | bigint; shareId: number | null; extraFlags: number;
  access: Buffer | null; defaults: Buffer | null;
}

/** The index row of one entry: type flags, ACL flags and descriptor (symlinks have none: their mode means nothing). */
export function entryRow(source: EntrySource, catalog: DescriptorCatalog, volumeDev: { major: number; minor: number }): EntryRow {
  const { stat } = source;
  const type = stat.mode & S_IFMT;
  let flags = source.extraFlags | (type === S_IFDIR ? FLAG_DIR : type === S_IFLNK ? FLAG_SYMLINK : type === S_IFREG ? 0 : FLAG_SPECIAL);
  let securityId: string | null = null;
  let world = false;
  if (type !== S_IFLNK) {
    const accessAcl = source.access;
    const defaultAcl = type === S_IFDIR ? source.defaults : null;
    if (accessAcl) flags |= FLAG_ACCESS_ACL;
    if (defaultAcl) flags |= FLAG_DEFAULT_ACL;
    ({ id: securityId, world } = catalog.lookup(stat.uid, stat.gid, stat.mode, accessAcl, defaultAcl));
  }
  if (type === S_IFDIR && (stat.devMajor !== volumeDev.major || stat.devMinor !== volumeDev.minor)) flags |= FLAG_MOUNT_POINT;
  return {
    name: source.name, size: stat.size, atime: stat.atime, mtime: stat.mtime, ctime: stat.ctime, btime: stat.btime, ino: stat.ino,
    parentIno: source.parentIno, securityId, shareId: source.shareId, mode: stat.mode, uid: stat.uid, gid: stat.gid, flags, world,
  };
}
