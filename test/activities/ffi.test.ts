// The libc FFI module against the real kernel: statx, getdents64, xattrs (both the
// getxattrat and lgetxattr paths), errors with paths, file handles with and
// without CAP_DAC_READ_SEARCH, and directories past PATH_MAX.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ffi from '../../activities/ffi';
import { FileSystemError } from '../../activities/errors';
import { openDirectoryPath, readStatxRow, subdirectoryOffsets } from '../../activities/index-walk-io';
import { moduleAt, runTsChild } from '../support/index-fixtures';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-ffi-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'file'), 'hello');
  symlinkSync('file', join(dir, 'link'));
  execFileSync('setfacl', ['-m', 'u:nobody:r', join(dir, 'file')]);
});
// rm handles trees deeper than PATH_MAX, which fs.rmSync does not.
afterAll(() => execFileSync('rm', ['-rf', dir]));
afterEach(() => { ffi.ffiOptions.useGetxattrat = true; ffi.ffiOptions.useOpenByHandle = true; });

describe('statx and getdents64', () => {
  it('reports what lstat reports, plus the birth time, without following links', () => {
    for (const name of ['file', 'link', 'sub']) {
      const expected = lstatSync(join(dir, name), { bigint: true });
      const got = ffi.lstatx(join(dir, name));
      expect({ ino: got.ino, mode: got.mode, uid: got.uid, size: got.size, mtime: got.mtimeSec })
        .toEqual({ ino: expected.ino, mode: Number(expected.mode), uid: Number(expected.uid), size: expected.size, mtime: Number(expected.mtimeMs / 1000n) });
      expect(got.btimeSec).toBe(Number(expected.birthtimeMs / 1000n));
    }
  });

  it('lists a directory with inode cookies that resume a listing', () => {
    const fd = ffi.openDirectory(dir);
    try {
      const buf = Buffer.alloc(4096);
      const stat = Buffer.alloc(ffi.STATX_SIZE);
      const subdirs = subdirectoryOffsets(fd, buf, stat, null, 10);
      expect(subdirs.map((s) => s.name.toString())).toEqual(['sub']);
      expect(subdirs[0].ino).toBe(String(lstatSync(join(dir, 'sub')).ino));
      ffi.seek(fd, 0n);
      const names: string[] = [];
      for (let n = ffi.getdents(fd, buf); n > 0; n = ffi.getdents(fd, buf)) {
        for (let off = 0; off < n; off += buf.readUInt16LE(off + 16)) names.push(buf.toString('utf8', off + 19, buf.indexOf(0, off + 19)));
      }
      expect(names.filter((n) => n !== '.' && n !== '..').sort()).toEqual(readdirSync(dir).sort());
    } finally {
      ffi.close(fd);
    }
  });

  it('opens directories deeper than PATH_MAX piece by piece', () => {
    let path = dir;
    for (let i = 0; i < 24; i += 1) path = join(path, `${String(i).padStart(2, '0')}_${'d'.repeat(200)}`);
    execFileSync('mkdir', ['-p', path]);
    expect(path.length).toBeGreaterThan(4096);
    const fd = openDirectoryPath(Buffer.from(path));
    expect(fd).toBeGreaterThan(0);
    const stat = Buffer.alloc(ffi.STATX_SIZE);
    expect(ffi.statxInto(fd, Buffer.from([0]), ffi.AT_EMPTY_PATH, stat)).toBe(0);
    expect(readStatxRow(stat).mode & 0o170000).toBe(0o040000);
    ffi.close(fd);
  });
});

describe('xattrs', () => {
  it('reads ACL xattrs by getxattrat and by the lgetxattr fallback alike', () => {
    const fd = ffi.openDirectory(dir);
    try {
      const read = () => {
        const reader = new ffi.XattrReader();
        const n = reader.readAt(fd, ffi.cPath('file'), ffi.cPath('system.posix_acl_access'), Buffer.from(dir));
        return n >= 0 ? Buffer.from(reader.value.subarray(0, n)) : n;
      };
      const viaAt = read();
      ffi.ffiOptions.useGetxattrat = false;
      expect(read()).toEqual(viaAt);
      expect(viaAt).toEqual(ffi.lgetxattr(join(dir, 'file'), 'system.posix_acl_access'));
      const missing = new ffi.XattrReader().readAt(fd, ffi.cPath('sub'), ffi.cPath('system.posix_acl_access'), Buffer.from(dir));
      expect(missing).toBe(-ffi.ENODATA);
    } finally {
      ffi.close(fd);
    }
  });

  it('sets, lists, reads and removes xattrs on an open file', () => {
    const fd = ffi.openAt(ffi.AT_FDCWD, join(dir, 'file'), ffi.O_RDONLY);
    try {
      ffi.fsetxattr(fd, 'user.strata.tier', Buffer.from('s3://bucket/key'));
      expect(ffi.fgetxattr(fd, 'user.strata.tier')?.toString()).toBe('s3://bucket/key');
      expect(ffi.llistxattr(join(dir, 'file'))).toEqual(expect.arrayContaining(['user.strata.tier', 'system.posix_acl_access']));
      expect(() => ffi.fsetxattr(fd, 'user.strata.tier', Buffer.from('x'), ffi.XATTR_CREATE)).toThrow(/EEXIST/);
      ffi.fremovexattr(fd, 'user.strata.tier');
      expect(ffi.fgetxattr(fd, 'user.strata.tier')).toBeNull();
    } finally {
      ffi.close(fd);
    }
  });

  it('turns errno into an error naming the call, the code and the path', () => {
    const missing = join(dir, 'no such file');
    expect(() => ffi.lstatx(missing)).toThrow(FileSystemError);
    expect(() => ffi.lstatx(missing)).toThrow(`statx failed on ${JSON.stringify(missing)}: ENOENT (No such file or directory)`);
    try {
      ffi.openDirectory(join(dir, 'file'));
    } catch (error) {
      expect(error).toMatchObject({ name: 'FileSystemError', code: 'ENOTDIR', syscall: 'openat', path: join(dir, 'file') });
    }
    expect(ffi.lgetxattr(join(dir, 'sub'), 'user.none')).toBeNull();
  });
});

describe('file handles', () => {
  it('opens a file by handle as root and by checked path when forced to', () => {
    const path = join(dir, 'file');
    const handle = ffi.nameToHandle(path);
    const ino = ffi.lstatx(path).ino;
    const mount = ffi.openDirectory(dir);
    try {
      const byHandle = ffi.openByHandleOrPath(mount, handle, path, ino, ffi.O_RDONLY);
      expect(byHandle.via).toBe('handle');
      expect(ffi.fstatx(byHandle.fd).ino).toBe(ino);
      ffi.close(byHandle.fd);
      ffi.ffiOptions.useOpenByHandle = false;
      const byPath = ffi.openByHandleOrPath(mount, handle, path, ino, ffi.O_RDONLY);
      expect(byPath.via).toBe('path');
      ffi.close(byPath.fd);
      expect(() => ffi.openByHandleOrPath(mount, handle, join(dir, 'sub'), ino, ffi.O_RDONLY)).toThrow(/ESTALE|is now inode/);
    } finally {
      ffi.close(mount);
    }
  });

  it('falls back to the path where the process lacks CAP_DAC_READ_SEARCH', () => {
    const path = join(dir, 'file');
    const code = `
      const ffi = require(${moduleAt('activities/ffi.ts')});
      const path = ${JSON.stringify(path)};
      const handle = ffi.nameToHandle(path);
      const mount = ffi.openDirectory(${JSON.stringify(dir)});
      let direct = 'opened';
      try { ffi.openByHandle(mount, handle, ffi.O_RDONLY); } catch (error) { direct = error.code; }
      const opened = ffi.openByHandleOrPath(mount, handle, path, ffi.lstatx(path).ino, ffi.O_RDONLY);
      console.log(JSON.stringify({ direct, via: opened.via, ino: String(ffi.fstatx(opened.fd).ino) }));`;
    const child = runTsChild(code, { dropDac: true });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ direct: 'EPERM', via: 'path', ino: String(lstatSync(path).ino) });
  });
});
