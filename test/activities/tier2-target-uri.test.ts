// Target URIs (property tests over arbitrary path characters), path mapping below
// a share root, policy globs, and pacing with a deterministic clock.
import fc from 'fast-check';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  MAX_KEY_CHARS, MAX_SEGMENT_CHARS, TEMP_SUFFIX, decodeKey, decodeSegment, encodeSegment, joinScanPath, keyOfUri, objectKey,
  relativeSegments, targetUri,
} from '../../lib/target-uri';
import { PathFilter, compileGlob, idleCutoff, normalizePolicy } from '../../lib/tier2-policy';
import { Pacer, type Clock } from '../../activities/tiering-pacing';

// Any Unicode text a file name may hold (well-formed; Postgres text is always valid UTF-8).
const segmentChars = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 })
  .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..');
const longSegment = fc.string({ unit: 'grapheme', minLength: 60, maxLength: 400 }).filter((s) => !s.includes('/') && !s.includes('\0'));
const segments = fc.array(segmentChars, { minLength: 1, maxLength: 8 });
const ROOT = 'file:///mnt/tier2/acme';

describe('target URIs', () => {
  it('encode every segment into a safe, bounded name that decodes back', () => {
    fc.assert(fc.property(fc.oneof(segmentChars, longSegment), (segment) => {
      const encoded = encodeSegment(segment);
      expect(encoded).toMatch(/^[A-Za-z0-9._~%-]+$/);
      expect(encoded.length).toBeLessThanOrEqual(MAX_SEGMENT_CHARS);
      expect(Buffer.byteLength(encoded + TEMP_SUFFIX)).toBeLessThanOrEqual(255);
      expect(encoded === '.' || encoded === '..').toBe(false);
      expect(encoded.endsWith(TEMP_SUFFIX)).toBe(false);
      const decoded = decodeSegment(encoded);
      if (decoded !== null) expect(decoded).toBe(segment);
      else expect(encoded).toContain('~h');
    }), { numRuns: 2000 });
  });

  it('map distinct paths of a share to distinct keys, deterministically', () => {
    fc.assert(fc.property(segments, segments, (a, b) => {
      const keyA = objectKey('projects', a);
      expect(objectKey('projects', a)).toBe(keyA);
      if (a.join('/') !== b.join('/')) expect(objectKey('projects', b)).not.toBe(keyA);
    }), { numRuns: 2000 });
  });

  it('round-trip share and path through key and URI, and the URI names the stored file', () => {
    fc.assert(fc.property(fc.oneof(fc.constant('projects'), segmentChars), segments, (share, path) => {
      const key = objectKey(share, path);
      expect(key.length).toBeLessThanOrEqual(MAX_KEY_CHARS + 400);
      const uri = targetUri(ROOT, key);
      expect(keyOfUri(ROOT, uri)).toBe(key);
      expect(fileURLToPath(uri)).toBe(`${fileURLToPath(ROOT)}/${key}`);
      const decoded = decodeKey(key);
      if (decoded) expect(decoded).toEqual({ shareName: share, segments: path });
    }), { numRuns: 2000 });
  });

  it('hashes overlong and very deep paths into short keys', () => {
    const deep = Array.from({ length: 200 }, (_v, i) => `directory level ${i} with a long name`);
    const key = objectKey('projects', deep);
    expect(key).toMatch(/^projects\/~long\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    expect(objectKey('projects', [...deep.slice(0, -1), 'other'])).not.toBe(key);
    expect(encodeSegment('é'.repeat(200))).toMatch(/~h[0-9a-f]{32}$/);
  });

  it('refuses URIs outside the root and stray escapes', () => {
    expect(keyOfUri(ROOT, 'file:///mnt/tier2/other/x')).toBeNull();
    expect(keyOfUri(ROOT, `${ROOT}/a%20b`)).toBeNull();
    expect(keyOfUri(`${ROOT}/`, `${ROOT}/a%2520b`)).toBe('a%20b');
    expect(pathToFileURL('/mnt/tier2/acme').href).toBe(ROOT);
  });
});

describe('paths below a share root', () => {
  it('strips the scan prefix segment-wise and refuses paths outside it or unsafe ones', () => {
    expect(relativeSegments('posix', '/srv/share', '/srv/share/a/b', 'c.txt')).toEqual({ ok: true, segments: ['a', 'b', 'c.txt'], relPath: 'a/b/c.txt' });
    expect(relativeSegments('posix', '/srv/share', '/srv/shared/a', 'c')).toEqual({ ok: false, reason: 'outside-root' });
    expect(relativeSegments('posix', '/srv', '/srv/a/../b', 'c')).toEqual({ ok: false, reason: 'unsafe-path' });
    expect(relativeSegments('posix', '/srv', '/srv/a', 'back\\slash')).toMatchObject({ ok: true, relPath: 'a/back\\slash' });
    expect(relativeSegments('windows', 'D:\\Shares\\Projects', 'd:\\shares\\projects\\P1\\Sub', 'x.doc')).toMatchObject({ ok: true, relPath: 'P1/Sub/x.doc' });
    expect(relativeSegments('windows', '\\\\fs1\\projects', '\\\\fs1\\projects', 'x.doc')).toMatchObject({ ok: true, relPath: 'x.doc' });
    expect(joinScanPath('windows', 'D:\\Shares', 'x')).toBe('D:\\Shares\\x');
    expect(joinScanPath('posix', '/', 'x')).toBe('/x');
  });
});

describe('policy', () => {
  it('compiles globs: * within a segment, ** across, classes, braces, basename patterns', () => {
    expect(compileGlob('*.tmp').test('a/b/c.tmp')).toBe(true);
    expect(compileGlob('*.tmp').test('a/b/c.tmpx')).toBe(false);
    expect(compileGlob('archive/**').test('archive/2019/x.pdf')).toBe(true);
    expect(compileGlob('archive/*').test('archive/2019/x.pdf')).toBe(false);
    expect(compileGlob('**/cache/*.bin').test('cache/a.bin')).toBe(true);
    expect(compileGlob('**/cache/*.bin').test('x/y/cache/a.bin')).toBe(true);
    expect(compileGlob('*.{mp4,mov}').test('v/clip.mov')).toBe(true);
    expect(compileGlob('report[0-9].pdf').test('report7.pdf')).toBe(true);
    expect(compileGlob('report[!0-9].pdf').test('report7.pdf')).toBe(false);
    expect(compileGlob('a+b (1).txt').test('a+b (1).txt')).toBe(true);
    expect(compileGlob('*.PDF', { nocase: true }).test('x/y.pdf')).toBe(true);
    expect(() => compileGlob('{a,b')).toThrow(/unbalanced/);
  });

  it('filters by include (any) and exclude (none), and computes the idle cutoff', () => {
    const filter = new PathFilter(['media/**', '*.iso'], ['**/keep/**']);
    expect(filter.matches('media/a.mp4')).toBe(true);
    expect(filter.matches('disk.iso')).toBe(true);
    expect(filter.matches('media/keep/a.mp4')).toBe(false);
    expect(filter.matches('docs/a.txt')).toBe(false);
    expect(new PathFilter([], []).matches('anything')).toBe(true);
    expect(idleCutoff(new Date('2025-01-01T00:00:00Z'), 365)).toBe(Date.parse('2024-01-02T00:00:00Z') / 1000);
    expect(normalizePolicy({})).toMatchObject({ idleDays: 365, basis: 'atime', minSizeBytes: 0, maxFiles: null });
  });
});

describe('pacing', () => {
  const fakeClock = () => {
    const clock = { t: 0, slept: [] as number[] } as { t: number; slept: number[] } & Clock;
    clock.now = () => clock.t;
    clock.sleep = async (ms: number) => { clock.slept.push(ms); clock.t += ms; };
    return clock;
  };

  it('admits files at the files/s rate with a one-second burst', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ filesPerSecond: 10 }, clock);
    expect(await pacer.admit(Array(50).fill(1), 50)).toBe(10);
    expect(await pacer.admit(Array(40).fill(1), 40)).toBeGreaterThanOrEqual(1);
    expect(clock.t).toBeGreaterThanOrEqual(100);
  });

  it('lets a file larger than the byte bucket start, then waits the debt off', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ bytesPerSecond: 1000 }, clock);
    expect(await pacer.admit([5000, 10], 2)).toBe(1);
    expect(await pacer.admit([10], 1)).toBe(1);
    expect(clock.t).toBeGreaterThanOrEqual(4000);
  });

  it('admits everything when unpaced, and fractional rates still admit one file', async () => {
    expect(await new Pacer({}).admit([1, 2, 3], 2)).toBe(2);
    const clock = fakeClock();
    expect(await new Pacer({ filesPerSecond: 0.5 }, clock).admit([1], 1)).toBe(1);
  });
});
