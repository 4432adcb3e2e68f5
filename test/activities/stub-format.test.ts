// The stub metadata written on a real file through the FFI xattr calls reads back
// exactly (property), strata's own attributes are never copied onto a stub, and a
// file without the marker is no stub.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as ffi from '../../activities/ffi';
import { copyXattrs, LEGACY_STUB_XATTR, readStub, removeStubXattrs, STUB_ATTRIBUTE, writeStubXattrs, type StubRecord } from '../../activities/stub-format';

let dir: string;
let counter = 0;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'strata-stub-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freshFile(): string {
  const path = join(dir, `f${counter++}`);
  writeFileSync(path, '');
  return path;
}

function writeStub(path: string, stub: StubRecord): void {
  const fd = openSync(path, 'r+');
  try { writeStubXattrs(fd, stub); } finally { closeSync(fd); }
}

const nanoseconds = fc.bigInt({ min: -(10n ** 18n), max: 10n ** 19n }).map(String);
const stubRecord: fc.Arbitrary<StubRecord> = fc.record({
  uri: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }).map((tail) => `file:///tier2/projects/${tail}`),
  size: fc.maxSafeNat(),
  sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex')),
  tierId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  atimeNs: nanoseconds,
  mtimeNs: nanoseconds,
});

describe('stub metadata', () => {
  it('reads back exactly what was written (property)', () => {
    fc.assert(fc.property(stubRecord, (stub) => {
      const path = freshFile();
      writeStub(path, stub);
      expect(readStub(path)).toEqual(stub);
      expect(readStub(path, { likelyPlain: true })).toEqual(stub);
      rmSync(path);
    }), { numRuns: 300 });
  });

  it('is one attribute, so marking a file is a single atomic write', () => {
    const path = freshFile();
    writeStub(path, { uri: 'file:///tier2/a', size: 5, sha256: 'ab'.repeat(32), tierId: 7, atimeNs: '1', mtimeNs: '2' });
    expect(ffi.llistxattr(path)).toEqual([STUB_ATTRIBUTE]);
  });

  it('reads stubs of the earlier four-attribute format; without their sha256 marker a file is no stub', () => {
    const path = freshFile();
    const bothWays = () => {
      const plain = readStub(path);
      expect(readStub(path, { likelyPlain: true })).toEqual(plain);
      return plain;
    };
    expect(bothWays()).toBeNull();
    ffi.lsetxattr(path, LEGACY_STUB_XATTR.uri, Buffer.from('file:///x'));
    ffi.lsetxattr(path, LEGACY_STUB_XATTR.size, Buffer.from('5'));
    ffi.lsetxattr(path, LEGACY_STUB_XATTR.origin, Buffer.from('9 100 200'));
    expect(bothWays()).toBeNull();
    ffi.lsetxattr(path, LEGACY_STUB_XATTR.sha256, Buffer.from('cd'.repeat(32)));
    expect(bothWays()).toEqual({ uri: 'file:///x', size: 5, sha256: 'cd'.repeat(32), tierId: 9, atimeNs: '100', mtimeNs: '200' });
    const fd = openSync(path, 'r+');
    try { removeStubXattrs(fd); } finally { closeSync(fd); }
    expect(ffi.llistxattr(path)).toEqual([]);
  });

  it('refuses a stub attribute it cannot read, naming the file', () => {
    const path = freshFile();
    ffi.lsetxattr(path, STUB_ATTRIBUTE, Buffer.from('strata-stub/9\n1\n2'));
    expect(() => readStub(path)).toThrow(new RegExp(`${path}.*unreadable user.strata.stub`));
    expect(() => readStub(path, { likelyPlain: true })).toThrow(new RegExp(`${path}.*unreadable user.strata.stub`));
  });

  it("copies a file's own attributes onto the stub but never strata's (property)", () => {
    const userName = fc.stringMatching(/^[a-z][a-z0-9_.]{0,20}$/).map((name) => `user.${name}`).filter((name) => !name.startsWith('user.strata.'));
    fc.assert(fc.property(fc.uniqueArray(userName, { maxLength: 5 }), stubRecord, (names, stub) => {
      const from = freshFile();
      const to = freshFile();
      writeStub(from, stub);
      names.forEach((name, i) => ffi.lsetxattr(from, name, Buffer.from(`value ${i}`)));
      const fd = openSync(to, 'r+');
      try { copyXattrs(from, fd); } finally { closeSync(fd); }
      expect(ffi.llistxattr(to).sort()).toEqual([...names].sort());
      expect(readStub(to)).toBeNull();
      expect(readStub(to, { likelyPlain: true })).toBeNull();
      rmSync(from);
      rmSync(to);
    }), { numRuns: 100 });
  });
});
