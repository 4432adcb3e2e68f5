// Security descriptors for POSIX files: owner, group and the access (plus, for
// directories, default) ACL, deduplicated by a hash of their canonical bytes.
// The id is derived from the hash, so parallel walkers agree without a round trip.
import { createHash } from 'node:crypto';
import {
  AclFormatError, aclFromMode, formatAcl, grantsWorldAccess, parseAclXattr, serializeAclXattr, type AclEntry,
} from '../lib/posix-acl';
import type { PrincipalDirectory } from './acl-principals';

const MAGIC = Buffer.from('strata-posix-sd-v1\0', 'latin1');

export interface NamedAclEntry extends AclEntry { name: string | null }

/** A descriptor as stored in security_descriptor (bytes as hex for JSON transport). */
export interface DescriptorRecord {
  id: string; hashHex: string; hostId: string; ownerUid: number; ownerGid: number; ownerName: string | null; groupName: string | null;
  rawHex: string; aclHex: string; defaultAclHex: string | null; entries: NamedAclEntry[]; defaultEntries: NamedAclEntry[] | null;
  summary: string; extended: boolean; grantsWorldAccess: boolean;
}

export interface DescriptorInput { uid: number; gid: number; mode: number; access: Buffer | null; defaults: Buffer | null }

export function canonicalDescriptorBytes(hostId: string, input: DescriptorInput): Buffer {
  const access = input.access ?? serializeAclXattr(aclFromMode(input.mode));
  const defaults = input.defaults ?? Buffer.alloc(0);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(input.uid, 0);
  head.writeUInt32LE(input.gid, 4);
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32LE(access.length, 0);
  lengths.writeUInt32LE(defaults.length, 4);
  // ids mean something only on their host, so the host is part of what is hashed.
  return Buffer.concat([MAGIC, Buffer.from(`${hostId}\0`, 'utf8'), head, lengths, access, defaults]);
}

/** The first 53 bits of the hash: exact as a JavaScript number, unique enough (and checked) per tenant. */
export function descriptorIdOf(hash: Buffer): string {
  return (hash.readBigUInt64BE(0) >> 11n).toString();
}

export function describe(hostId: string, input: DescriptorInput, principals: PrincipalDirectory, worldGids: ReadonlySet<number>): DescriptorRecord {
  const raw = canonicalDescriptorBytes(hostId, input);
  const hash = createHash('sha256').update(raw).digest();
  const access = input.access ?? serializeAclXattr(aclFromMode(input.mode));
  const entries = safeParse(access);
  const defaultEntries = input.defaults ? safeParse(input.defaults) : null;
  const name = (entry: AclEntry): NamedAclEntry => ({
    ...entry, name: entry.id === null ? null : principals.nameOf(entry.tag as 'user' | 'group', entry.id) ?? null,
  });
  const summary = entries ? formatAcl(entries, principals.nameOf) : 'unreadable ACL xattr';
  return {
    id: descriptorIdOf(hash), hashHex: hash.toString('hex'), hostId, ownerUid: input.uid, ownerGid: input.gid,
    ownerName: principals.userName(input.uid) ?? null, groupName: principals.groupName(input.gid) ?? null,
    rawHex: raw.toString('hex'), aclHex: access.toString('hex'), defaultAclHex: input.defaults?.toString('hex') ?? null,
    entries: (entries ?? []).map(name), defaultEntries: defaultEntries ? defaultEntries.map(name) : null,
    summary: defaultEntries ? `${summary} default:${formatAcl(defaultEntries, principals.nameOf)}` : summary,
    extended: input.access !== null, grantsWorldAccess: entries ? grantsWorldAccess(entries, input.gid, worldGids) : false,
  };
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function safeParse(bytes: Buffer): AclEntry[] | null {
  try {
    return parseAclXattr(bytes);
  } catch (error) {
    if (error instanceof AclFormatError) return null;
    throw error;
  }
}

/**
 * Per-walker cache from cheap keys (owner, mode or ACL bytes) to descriptor ids;
 * descriptors first seen since the last flush are handed out once for insertion.
 */
export class DescriptorCatalog {
  private readonly ids = new Map<string, { id: string; world: boolean }>();
  private pending: DescriptorRecord[] = [];

  constructor(private readonly hostId: string, private readonly principals: PrincipalDirectory, private readonly worldGids: ReadonlySet<number>) {}

  private last: { uid: number; gid: number; perms: number; access: Buffer | null; defaults: Buffer | null; entry: { id: string; world: boolean } } | null = null;

  /** The descriptor id and world flag of one file (siblings usually share it, so the last answer is checked first). */
  lookup(uid: number, gid: number, mode: number, access: Buffer | null, defaults: Buffer | null): { id: string; world: boolean } {
    const last = this.last;
    if (last && last.uid === uid && last.gid === gid && sameBytes(last.access, access) && sameBytes(last.defaults, defaults)
      && (access !== null || last.perms === (mode & 0o777))) return last.entry;
    const entry = this.lookupByKey(uid, gid, mode, access, defaults);
    this.last = { uid, gid, perms: mode & 0o777, access: access && Buffer.from(access), defaults: defaults && Buffer.from(defaults), entry };
    return entry;
  }

  private lookupByKey(uid: number, gid: number, mode: number, access: Buffer | null, defaults: Buffer | null): { id: string; world: boolean } {
    const key = access === null && defaults === null
      ? `m${uid}:${gid}:${mode & 0o777}`
      : `a${uid}:${gid}:${access === null ? `m${mode & 0o777}` : access.toString('latin1')}|${defaults?.toString('latin1') ?? ''}`;
    const known = this.ids.get(key);
    if (known) return known;
    const record = describe(this.hostId, {
      uid, gid, mode, access: access && Buffer.from(access), defaults: defaults && Buffer.from(defaults),
    }, this.principals, this.worldGids);
    const entry = { id: record.id, world: record.grantsWorldAccess };
    this.ids.set(key, entry);
    this.pending.push(record);
    return entry;
  }

  takePending(): DescriptorRecord[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}
