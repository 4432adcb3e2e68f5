// POSIX ACL xattr parsing/serialization (property-based and against the kernel's
// own bytes), the access rules, world access, descriptor dedupe and name escaping.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  ACL_XATTR_ACCESS, AclFormatError, aclFromMode, formatAcl, grantsWorldAccess, parseAclText, parseAclXattr, permissionsFor,
  serializeAclXattr, sortAcl, type AclEntry,
} from '../../lib/posix-acl';
import { PrincipalDirectory, parseGroup, parsePasswd } from '../../activities/acl-principals';
import { describe as describeSd, DescriptorCatalog } from '../../activities/acl';
import { escapeName, unescapeName } from '../../activities/index-names';
import * as ffi from '../../activities/ffi';

const validAcl = fc.record({
  owner: fc.integer({ min: 0, max: 7 }), group: fc.integer({ min: 0, max: 7 }), other: fc.integer({ min: 0, max: 7 }),
  users: fc.uniqueArray(fc.record({ id: fc.integer({ min: 0, max: 0xfffffffe }), perm: fc.integer({ min: 0, max: 7 }) }), { selector: (u) => u.id, maxLength: 6 }),
  groups: fc.uniqueArray(fc.record({ id: fc.integer({ min: 0, max: 0xfffffffe }), perm: fc.integer({ min: 0, max: 7 }) }), { selector: (g) => g.id, maxLength: 6 }),
  mask: fc.integer({ min: 0, max: 7 }),
}).map((a): AclEntry[] => {
  const entries: AclEntry[] = [
    { tag: 'user_obj', perm: a.owner, id: null }, { tag: 'group_obj', perm: a.group, id: null }, { tag: 'other', perm: a.other, id: null },
    ...a.users.map((u) => ({ tag: 'user' as const, perm: u.perm, id: u.id })), ...a.groups.map((g) => ({ tag: 'group' as const, perm: g.perm, id: g.id })),
  ];
  if (a.users.length + a.groups.length > 0) entries.push({ tag: 'mask', perm: a.mask, id: null });
  return entries;
});

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'strata-acl-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ACL xattr format', () => {
  it('round-trips any valid ACL through serialize and parse, in canonical order', () => {
    fc.assert(fc.property(validAcl, fc.boolean(), (entries, shuffle) => {
      const input = shuffle ? [...entries].reverse() : entries;
      const bytes = serializeAclXattr(input);
      expect(bytes.length).toBe(4 + 8 * entries.length);
      expect(parseAclXattr(bytes)).toEqual(sortAcl(entries));
      expect(serializeAclXattr(parseAclXattr(bytes))).toEqual(bytes);
    }), { numRuns: 500 });
  });

  it('reads the bytes the kernel stores for setfacl and writes bytes getfacl reads back', () => {
    const file = join(dir, 'acl-file');
    writeFileSync(file, 'x');
    execFileSync('setfacl', ['-m', 'u:nobody:rw,g:users:r,m::rw,o::-', file]);
    const bytes = ffi.lgetxattr(file, ACL_XATTR_ACCESS)!;
    const entries = parseAclXattr(bytes);
    expect(entries).toEqual(expect.arrayContaining([
      { tag: 'user', id: 65534, perm: 6 }, { tag: 'group', id: 100, perm: 4 }, { tag: 'mask', id: null, perm: 6 }, { tag: 'other', id: null, perm: 0 },
    ]));
    expect(serializeAclXattr(entries)).toEqual(bytes);
    const copy = join(dir, 'acl-copy');
    writeFileSync(copy, 'y');
    ffi.lsetxattr(copy, ACL_XATTR_ACCESS, serializeAclXattr(parseAclText('u::rw,u:65534:r,g::r,m::r,o::-')));
    expect(execFileSync('getfacl', ['-c', '-n', copy]).toString()).toContain('user:65534:r--');
  });

  it('refuses malformed ACLs with a clear reason', () => {
    expect(() => parseAclXattr(Buffer.from([2, 0, 0, 0, 1]))).toThrow(AclFormatError);
    expect(() => parseAclXattr(Buffer.from([3, 0, 0, 0]))).toThrow(/version 3/);
    expect(() => serializeAclXattr([{ tag: 'user_obj', perm: 7, id: null }, { tag: 'other', perm: 0, id: null }])).toThrow(/group_obj/);
    expect(() => serializeAclXattr([...aclFromMode(0o644), { tag: 'user', perm: 4, id: 5 }])).toThrow(/mask/);
    expect(() => parseAclText('u:alice:r,u::rw,g::r,o::r,m::r')).toThrow(/unknown user "alice"/);
  });

  it('formats the short text form with names', () => {
    const entries = parseAclText('u::rwx,u:65534:r,g::r-x,g:100:r,m::r-x,o::-');
    const names = new PrincipalDirectory(parsePasswd('nobody:x:65534:65534::/:/bin/false\n'), parseGroup('users:x:100:alice\n'));
    expect(formatAcl(entries, names.nameOf)).toBe('user::rwx,user:nobody:r--,group::r-x,group:users:r--,mask::r-x,other::---');
    expect(formatAcl(aclFromMode(0o640))).toBe('user::rw-,group::r--,other::---');
  });
});

describe('access rules', () => {
  const acl = parseAclText('u::rw,u:1001:rw,g::r,g:200:rw,m::r,o::-');
  const owner = { uid: 1000, gid: 100 };

  it('follows the POSIX ACL check: owner, named user (masked), groups (masked), other', () => {
    expect(permissionsFor(acl, owner, { uid: 1000, gids: [] })).toBe(6);
    expect(permissionsFor(acl, owner, { uid: 1001, gids: [] })).toBe(4);
    expect(permissionsFor(acl, owner, { uid: 1002, gids: [200] })).toBe(4);
    expect(permissionsFor(acl, owner, { uid: 1002, gids: [100] })).toBe(4);
    expect(permissionsFor(acl, owner, { uid: 1002, gids: [300] })).toBe(0);
  });

  it('flags world access for other-read and for world-like groups with effective read', () => {
    expect(grantsWorldAccess(aclFromMode(0o644), 0, new Set())).toBe(true);
    expect(grantsWorldAccess(aclFromMode(0o640), 0, new Set())).toBe(false);
    expect(grantsWorldAccess(aclFromMode(0o640), 100, new Set([100]))).toBe(true);
    expect(grantsWorldAccess(parseAclText('u::rw,g::-,g:100:r,m::r,o::-'), 0, new Set([100]))).toBe(true);
    expect(grantsWorldAccess(parseAclText('u::rw,g::-,g:100:r,m::-,o::-'), 0, new Set([100]))).toBe(false);
  });
});

describe('security descriptors', () => {
  const principals = new PrincipalDirectory(parsePasswd('root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n'), parseGroup('root:x:0:\nusers:x:100:\n'));
  const access = serializeAclXattr(parseAclText('u::rw,u:65534:r,g::r,m::r,o::-'));

  it('gives identical owner+ACL one id, and a different owner, ACL or host another', () => {
    const catalog = new DescriptorCatalog('h1', principals, new Set([100]));
    const a = catalog.lookup(0, 0, 0o100640, access, null);
    expect(catalog.lookup(0, 0, 0o100640, Buffer.from(access), null)).toEqual(a);
    expect(catalog.lookup(1, 0, 0o100640, access, null).id).not.toBe(a.id);
    expect(catalog.lookup(0, 0, 0o100644, null, null).id).not.toBe(a.id);
    expect(catalog.takePending()).toHaveLength(3);
    expect(catalog.takePending()).toHaveLength(0);
    const other = describeSd('h2', { uid: 0, gid: 0, mode: 0o640, access, defaults: null }, principals, new Set());
    expect(other.id).not.toBe(a.id);
    expect(Number.isSafeInteger(Number(a.id))).toBe(true);
  });

  it('records named entries, the summary and the world flag', () => {
    const record = describeSd('h1', { uid: 0, gid: 100, mode: 0o640, access: null, defaults: null }, principals, new Set([100]));
    expect(record).toMatchObject({ ownerName: 'root', groupName: 'users', summary: 'user::rw-,group::r--,other::---', grantsWorldAccess: true, extended: false });
    const named = describeSd('h1', { uid: 0, gid: 0, mode: 0o640, access, defaults: null }, principals, new Set());
    expect(named.entries).toContainEqual({ tag: 'user', id: 65534, perm: 4, name: 'nobody' });
    expect(named.grantsWorldAccess).toBe(false);
  });
});

describe('name escaping', () => {
  it('round-trips every byte string and leaves valid UTF-8 without backslashes as it is', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
      expect(unescapeName(escapeName(bytes))).toEqual(Buffer.from(bytes));
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\\')), (text) => {
      expect(escapeName(Buffer.from(text, 'utf8'))).toBe(text);
    }));
    expect(escapeName(Buffer.from([0x61, 0xff, 0x5c, 0xe2, 0x82]))).toBe('a\\xff\\\\\\xe2\\x82');
  });
});
