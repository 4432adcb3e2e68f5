// Hashing an open file for tiering's verification: with the size the caller expects,
// a small file costs one read, and a file of any other size is still read to its end.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFd } from '../../activities/tiering-copy';

// Reads are counted through a wrapped readSync; every other fs call is the real one.
jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...real, readSync: jest.fn(real.readSync) };
});

let base: string;
beforeAll(() => { base = fs.mkdtempSync(join(tmpdir(), 'strata-hash-')); });
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

function fileWith(name: string, content: Buffer): number {
  fs.writeFileSync(join(base, name), content);
  return fs.openSync(join(base, name), 'r');
}

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

describe('hashFd', () => {
  it('reads a small file of the expected size once', () => {
    const content = Buffer.from('tiered content\n'.repeat(100));
    const fd = fileWith('small', content);
    const reads = fs.readSync as jest.Mock;
    reads.mockClear();
    try {
      expect(hashFd(fd, content.length)).toEqual({ size: content.length, sha256: sha256(content) });
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('reads to the end of a file longer or shorter than expected, and of any file without an expectation', () => {
    const content = Buffer.alloc(3000, 7);
    const fd = fileWith('other', content);
    try {
      for (const expected of [10, 2999, 3001, 1 << 21, undefined]) {
        expect(hashFd(fd, expected)).toEqual({ size: content.length, sha256: sha256(content) });
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  it('hashes a file larger than its read buffer whole', () => {
    const content = Buffer.alloc((1 << 20) * 2 + 123, 3);
    const fd = fileWith('large', content);
    try {
      expect(hashFd(fd, content.length)).toEqual({ size: content.length, sha256: sha256(content) });
      expect(hashFd(fd, 1 << 20)).toEqual({ size: content.length, sha256: sha256(content) });
    } finally {
      fs.closeSync(fd);
    }
  });
});
