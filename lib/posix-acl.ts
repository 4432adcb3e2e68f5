// POSIX ACLs as Linux stores them in the system.posix_acl_access/default xattrs:
// binary parse and serialize, the short text form, and the access check rules.
export const ACL_XATTR_ACCESS = 'system.posix_acl_access';
export const ACL_XATTR_DEFAULT = 'system.posix_acl_default';
const ACL_XATTR_VERSION = 2;
const UNDEFINED_ID = 0xffffffff;
export const READ = 4;
export const WRITE = 2;
export const EXECUTE = 1;

export type AclTag = 'user_obj' | 'user' | 'group_obj' | 'group' | 'mask' | 'other';
/** One ACL entry; id is the uid/gid of a named user or group, null otherwise. */
export interface AclEntry { tag: AclTag; perm: number; id: number | null }

const TAG_CODES: Record<AclTag, number> = { user_obj: 0x01, user: 0x02, group_obj: 0x04, group: 0x08, mask: 0x10, other: 0x20 };
const TAGS_BY_CODE = new Map<number, AclTag>(Object.entries(TAG_CODES).map(([tag, code]) => [code, tag as AclTag]));
const NAMED = new Set<AclTag>(['user', 'group']);

export class AclFormatError extends Error {
  constructor(message: string) { super(message); this.name = 'AclFormatError'; }
}

export function parseAclXattr(bytes: Uint8Array): AclEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4 || (buf.length - 4) % 8 !== 0) throw new AclFormatError(`ACL xattr of ${buf.length} bytes is not a 4-byte header plus 8-byte entries`);
  const version = buf.readUInt32LE(0);
  if (version !== ACL_XATTR_VERSION) throw new AclFormatError(`ACL xattr version ${version} is not ${ACL_XATTR_VERSION}`);
  const entries: AclEntry[] = [];
  for (let offset = 4; offset < buf.length; offset += 8) {
    const tag = TAGS_BY_CODE.get(buf.readUInt16LE(offset));
    if (!tag) throw new AclFormatError(`unknown ACL tag 0x${buf.readUInt16LE(offset).toString(16)} at byte ${offset}`);
    const perm = buf.readUInt16LE(offset + 2);
    const rawId = buf.readUInt32LE(offset + 4);
    entries.push({ tag, perm, id: NAMED.has(tag) ? rawId : null });
  }
  validateAcl(entries);
  return entries;
}

/** Canonical bytes: entries in kernel order (tag, then id), so equal ACLs hash equal. */
export function serializeAclXattr(entries: readonly AclEntry[]): Buffer {
  const sorted = sortAcl(entries);
  validateAcl(sorted);
  const buf = Buffer.alloc(4 + 8 * sorted.length);
  buf.writeUInt32LE(ACL_XATTR_VERSION, 0);
  sorted.forEach((entry, index) => {
    const offset = 4 + index * 8;
    buf.writeUInt16LE(TAG_CODES[entry.tag], offset);
    buf.writeUInt16LE(entry.perm, offset + 2);
    buf.writeUInt32LE(entry.id ?? UNDEFINED_ID, offset + 4);
  });
  return buf;
}

export function sortAcl(entries: readonly AclEntry[]): AclEntry[] {
  return [...entries].sort((a, b) => TAG_CODES[a.tag] - TAG_CODES[b.tag] || (a.id ?? -1) - (b.id ?? -1));
}

/** The kernel's rules: one user_obj, group_obj and other; unique named ids; a mask when named entries exist. */
export function validateAcl(entries: readonly AclEntry[]): void {
  const counts = new Map<AclTag, number>();
  const seen = new Set<string>();
  for (const entry of entries) {
    if (!Number.isInteger(entry.perm) || entry.perm < 0 || entry.perm > 7) throw new AclFormatError(`ACL ${entry.tag} entry has permission bits ${entry.perm}`);
    const named = NAMED.has(entry.tag);
    if (named !== (entry.id !== null)) throw new AclFormatError(`ACL ${entry.tag} entry ${named ? 'needs' : 'may not have'} an id`);
    if (named && (!Number.isInteger(entry.id) || entry.id! < 0 || entry.id! >= UNDEFINED_ID)) throw new AclFormatError(`ACL ${entry.tag} id ${entry.id} is out of range`);
    const key = `${entry.tag}:${entry.id}`;
    if (seen.has(key)) throw new AclFormatError(`ACL has two ${entry.tag} entries${named ? ` for id ${entry.id}` : ''}`);
    seen.add(key);
    counts.set(entry.tag, (counts.get(entry.tag) ?? 0) + 1);
  }
  for (const tag of ['user_obj', 'group_obj', 'other'] as const) {
    if (counts.get(tag) !== 1) throw new AclFormatError(`ACL needs exactly one ${tag} entry`);
  }
  if (((counts.get('user') ?? 0) + (counts.get('group') ?? 0)) > 0 && !counts.get('mask')) {
    throw new AclFormatError('ACL with named user or group entries needs a mask entry');
  }
}

/** The minimal ACL equivalent to a file's mode bits (what a file without an ACL xattr has). */
export function aclFromMode(mode: number): AclEntry[] {
  return [
    { tag: 'user_obj', perm: (mode >> 6) & 7, id: null },
    { tag: 'group_obj', perm: (mode >> 3) & 7, id: null },
    { tag: 'other', perm: mode & 7, id: null },
  ];
}

export function formatPerm(perm: number): string {
  return `${perm & READ ? 'r' : '-'}${perm & WRITE ? 'w' : '-'}${perm & EXECUTE ? 'x' : '-'}`;
}

export type NameOf = (tag: 'user' | 'group', id: number) => string | undefined;

/** getfacl's short text form, e.g. `user::rw-,user:alice:r--,group::r--,mask::r--,other::---`. */
export function formatAcl(entries: readonly AclEntry[], nameOf: NameOf = () => undefined): string {
  return sortAcl(entries).map((entry) => {
    const base = entry.tag.replace('_obj', '');
    const qualifier = entry.id === null ? '' : nameOf(entry.tag as 'user' | 'group', entry.id) ?? String(entry.id);
    return `${base}:${qualifier}:${formatPerm(entry.perm)}`;
  }).join(',');
}

/** Parses the text form setfacl accepts (`u:alice:r-x,g::r,o::-`, numeric ids or names via idOf). */
export function parseAclText(text: string, idOf: (tag: 'user' | 'group', name: string) => number | undefined = () => undefined): AclEntry[] {
  const entries = text.split(/[,\n]/).map((part) => part.trim()).filter((part) => part && !part.startsWith('#')).map((part) => {
    const match = /^(u|user|g|group|m|mask|o|other):([^:]*):?([rwxX-]*)$/.exec(part);
    if (!match) throw new AclFormatError(`cannot read ACL entry ${JSON.stringify(part)}`);
    const kind = match[1][0] as 'u' | 'g' | 'm' | 'o';
    const perm = [...match[3]].reduce((bits, c) => bits | (c === 'r' ? READ : c === 'w' ? WRITE : c === 'x' || c === 'X' ? EXECUTE : 0), 0);
    const qualifier = match[2];
    if (kind === 'm' || kind === 'o') return { tag: kind === 'm' ? 'mask' : 'other', perm, id: null } as AclEntry;
    const named = kind === 'u' ? 'user' : 'group';
    if (!qualifier) return { tag: `${named}_obj` as AclTag, perm, id: null };
    const id = /^\d+$/.test(qualifier) ? Number(qualifier) : idOf(named, qualifier);
    if (id === undefined) throw new AclFormatError(`unknown ${named} ${JSON.stringify(qualifier)} in ACL`);
    return { tag: named, perm, id } as AclEntry;
  });
  validateAcl(entries);
  return sortAcl(entries);
}

function maskOf(entries: readonly AclEntry[]): number {
  return entries.find((entry) => entry.tag === 'mask')?.perm ?? 7;
}

export interface Subject { uid: number; gids: readonly number[] }
export interface Ownership { uid: number; gid: number }

/** The permission bits the POSIX ACL check algorithm grants a subject (owner, named user, groups, other). */
export function permissionsFor(entries: readonly AclEntry[], owner: Ownership, subject: Subject): number {
  const mask = maskOf(entries);
  if (subject.uid === owner.uid) return entries.find((e) => e.tag === 'user_obj')?.perm ?? 0;
  const named = entries.find((e) => e.tag === 'user' && e.id === subject.uid);
  if (named) return named.perm & mask;
  const groups = new Set(subject.gids);
  const matching = entries.filter((e) => (e.tag === 'group_obj' && groups.has(owner.gid)) || (e.tag === 'group' && groups.has(e.id!)));
  // Any matching group entry may grant; if groups match but none grants, "other" is not consulted.
  if (matching.length > 0) return matching.reduce((bits, e) => bits | e.perm, 0) & mask;
  return entries.find((e) => e.tag === 'other')?.perm ?? 0;
}

/** True when everyone can read: `other` has read, or a world-like group (e.g. `users`) has effective read. */
export function grantsWorldAccess(entries: readonly AclEntry[], ownerGid: number, worldGids: ReadonlySet<number>): boolean {
  const mask = maskOf(entries);
  return entries.some((entry) => {
    if (entry.tag === 'other') return (entry.perm & READ) !== 0;
    if (entry.tag === 'group') return worldGids.has(entry.id!) && (entry.perm & mask & READ) !== 0;
    if (entry.tag === 'group_obj') return worldGids.has(ownerGid) && (entry.perm & mask & READ) !== 0;
    return false;
  });
}
