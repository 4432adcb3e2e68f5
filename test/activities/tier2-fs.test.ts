// The filesystem Tier-2 target and the stub steps on a real directory tree, run on
// the worker-thread pool exactly as the host worker runs them.
import {
  appendFileSync, closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, symlinkSync, truncateSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { lgetxattr, lsetxattr } from '../../activities/ffi';
import { STUB_ATTRIBUTE, writeStubXattrs } from '../../activities/stub-format';
import { TieringPool, poolFsOps } from '../../activities/tiering-pool';
import { copyAndHash, copyContent } from '../../activities/tiering-copy';
import type { Inspection } from '../../activities/tiering-fsops';
import { objectKey } from '../../lib/target-uri';
import { openTier2Target, type Durability, type Tier2Target } from '../../lib/tier2-target';
import { makeRoots, sha256, type Roots } from '../support/tiering-tree';

let pool: TieringPool;
beforeAll(() => { pool = new TieringPool(2); });
afterAll(async () => pool.close());

function setup(durability: Durability = 'syncfs'): { roots: Roots; target: Tier2Target } {
  const roots = makeRoots('tier2fs');
  return { roots, target: openTier2Target(roots.targetUri, { credentials: null, fsOps: poolFsOps(pool), durability }) };
}

async function inspect(roots: Roots, rel: string, size: number, mtime: number): Promise<Inspection> {
  return (await pool.run('inspectSources', [{ path: join(roots.source, rel), root: roots.source, expectSize: size, expectMtime: mtime }]))[0];
}

function writeSource(roots: Roots, rel: string, data: string | Buffer): { size: number; mtime: number } {
  const path = join(roots.source, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
  const st = lstatSync(path);
  return { size: st.size, mtime: Math.floor(st.mtimeMs / 1000) };
}

describe.each(['syncfs', 'fsync'] as Durability[])('filesystem target (%s)', (durability) => {
  it('puts verified copies under encoded keys, verifies, gets, lists and removes them', async () => {
    const { roots, target } = setup(durability);
    // Small files are copied through memory, large ones (>= 64 KiB) in the kernel.
    const names = ['plain.txt', 'with space & ünïcode.bin', 'empty', 'large.bin'];
    const contentOf = (name: string, i: number) => (i === 2 ? '' : `content of ${name}`.repeat(i === 3 ? 20_000 : 100 * (i + 1)));
    const facts = names.map((name, i) => writeSource(roots, `dir one/${name}`, contentOf(name, i)));
    const inspections = await Promise.all(names.map((name, i) => inspect(roots, `dir one/${name}`, facts[i].size, facts[i].mtime)));
    const keys = names.map((name) => objectKey('projects', ['dir one', name]));
    const results = await target.put(names.map((name, i) => ({
      key: keys[i], sourcePath: join(roots.source, 'dir one', name), label: `/share/dir one/${name}`,
      fingerprint: (inspections[i] as Extract<Inspection, { kind: 'file' }>).fingerprint,
    })));
    await target.flush();
    names.forEach((name, i) => {
      const result = results[i];
      if (!result.ok) throw new Error(result.message);
      const source = readFileSync(join(roots.source, 'dir one', name));
      expect(result).toEqual({ ok: true, size: source.length, sha256: sha256(source) });
      expect(readFileSync(join(roots.target, keys[i]))).toEqual(source);
      // Readable keys name their source already; only hash-escaped ones carry a tag.
      expect(lgetxattr(join(roots.target, keys[i]), 'user.strata.copy_of')).toBeNull();
    });
    const expected = names.map((_n, i) => ({ key: keys[i], expected: { size: facts[i].size, sha256: (results[i] as { sha256: string }).sha256 } }));
    expect(facts[3].size).toBeGreaterThan(64 * 1024);
    expect(await target.verify(expected)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const listed: string[] = [];
    for await (const entry of target.list('projects')) listed.push(entry.key);
    expect(listed.sort()).toEqual([...keys].sort());
    const restored = join(roots.base, 'restored.bin');
    expect(await target.get([{ key: keys[1], destinationPath: restored, expected: expected[1].expected }])).toEqual([{ ok: true }]);
    expect(readFileSync(restored)).toEqual(readFileSync(join(roots.source, 'dir one', names[1])));
    expect((await target.get([{ key: keys[0], destinationPath: join(roots.base, 'bad'), expected: expected[1].expected }]))[0]).toMatchObject({ ok: false, reason: 'mismatch' });
    await target.remove([keys[0]]);
    expect(await target.verify([expected[0]])).toEqual(['missing']);
    expect(await target.probe()).toMatchObject({ writable: true });
  });
});

describe('source inspection and stubs', () => {
  it('tags copies whose key is hash-escaped with their source path and hash', async () => {
    const { roots, target } = setup();
    const name = 'é'.repeat(120);
    const fact = writeSource(roots, name, 'long name');
    const inspection = await inspect(roots, name, fact.size, fact.mtime) as Extract<Inspection, { kind: 'file' }>;
    const key = objectKey('projects', [name]);
    expect(key).toMatch(/~h/);
    const [result] = await target.put([{ key, sourcePath: join(roots.source, name), label: `/share/${name}`, fingerprint: inspection.fingerprint }]);
    expect(result.ok).toBe(true);
    expect(lgetxattr(join(roots.target, key), 'user.strata.copy_of')?.toString()).toBe(`${sha256(Buffer.from('long name'))} /share/${name}`);
  });

  it('refuses a source that changed after it was inspected, small (checked after its copy) or large (checked before)', async () => {
    for (const content of ['first', Buffer.alloc(100_000, 3)]) {
      const { roots, target } = setup();
      const fact = writeSource(roots, 'a.txt', content);
      const inspection = await inspect(roots, 'a.txt', fact.size, fact.mtime) as Extract<Inspection, { kind: 'file' }>;
      appendFileSync(join(roots.source, 'a.txt'), ' and more');
      const [result] = await target.put([{ key: 'projects/a.txt', sourcePath: join(roots.source, 'a.txt'), label: 'a', fingerprint: inspection.fingerprint }]);
      expect(result).toMatchObject({ ok: false, reason: 'changed' });
      expect(readdirSync(roots.target, { recursive: true })).toEqual(['projects']);
      expect(await inspect(roots, 'a.txt', fact.size, fact.mtime)).toMatchObject({ kind: 'skip', reason: 'changed' });
    }
  });

  it('copies small and large sources exactly, and reports the real size of a source that grew since its inspection', () => {
    const { roots } = setup();
    const copy = (name: string, data: Buffer, size: number) => {
      writeFileSync(join(roots.base, name), data);
      const inFd = openSync(join(roots.base, name), 'r');
      const outFd = openSync(join(roots.base, `${name}.copy`), 'w+');
      try {
        return copyAndHash(inFd, outFd, size);
      } finally {
        closeSync(inFd);
        closeSync(outFd);
      }
    };
    for (const size of [0, 1, 4096, 65_535, 65_536, 300_000]) {
      const data = Buffer.alloc(size, size % 251);
      expect(copy(`exact-${size}`, data, size)).toEqual({ size, sha256: sha256(data) });
      expect(readFileSync(join(roots.base, `exact-${size}.copy`))).toEqual(data);
      const grown = Buffer.alloc(size + 10, 7);
      expect(copy(`grown-${size}`, grown, size)).toEqual({ size: size + 10, sha256: sha256(grown) });
    }
  });

  it('copies in the kernel where the filesystem allows, and streams where it cannot (an append-only destination)', () => {
    const { roots } = setup();
    const data = Buffer.from(Array.from({ length: 300_000 }, (_v, i) => (i * 7) % 256));
    writeFileSync(join(roots.base, 'large.bin'), data);
    const copyInto = (name: string, flags: string) => {
      const inFd = openSync(join(roots.base, 'large.bin'), 'r');
      const outFd = openSync(join(roots.base, name), flags);
      try {
        return copyContent(inFd, outFd, data.length);
      } finally {
        closeSync(inFd);
        closeSync(outFd);
      }
    };
    expect(['reflink', 'copy_file_range']).toContain(copyInto('kernel.copy', 'w'));
    expect(readFileSync(join(roots.base, 'kernel.copy'))).toEqual(data);
    // Neither FICLONE nor copy_file_range accepts an O_APPEND destination, so the copy falls back to reads and writes.
    expect(copyInto('streamed.copy', 'a')).toBe('stream');
    expect(readFileSync(join(roots.base, 'streamed.copy'))).toEqual(data);
  });

  it('classifies missing, non-regular, hard-linked and outside-root sources', async () => {
    const { roots } = setup();
    const fact = writeSource(roots, 'real.txt', 'x');
    symlinkSync(join(roots.source, 'real.txt'), join(roots.source, 'link.txt'));
    writeSource(roots, 'linked.txt', 'y');
    linkSync(join(roots.source, 'linked.txt'), join(roots.source, 'linked-too.txt'));
    mkdirSync(join(roots.base, 'elsewhere'));
    writeFileSync(join(roots.base, 'elsewhere', 'secret'), 'z');
    symlinkSync(join(roots.base, 'elsewhere'), join(roots.source, 'escape'));
    expect(await inspect(roots, 'gone.txt', 1, 1)).toMatchObject({ kind: 'skip', reason: 'missing' });
    expect(await inspect(roots, 'link.txt', fact.size, fact.mtime)).toMatchObject({ kind: 'skip', reason: 'not-regular' });
    expect(await inspect(roots, 'linked.txt', 1, fact.mtime)).toMatchObject({ kind: 'skip', reason: 'hardlinked' });
    expect(await inspect(roots, 'escape/secret', 1, fact.mtime)).toMatchObject({ kind: 'skip', reason: 'outside-root' });
  });

  function stubOf(inspection: Extract<Inspection, { kind: 'file' }>, content: string, tierId = 7) {
    return { uri: 'file:///t2/projects/doc.pdf', size: Buffer.byteLength(content), sha256: sha256(Buffer.from(content)), tierId, atimeNs: inspection.meta.atimeNs, mtimeNs: inspection.meta.mtimeNs };
  }

  it('turns a source into its stub in place, keeping inode, mode, owner, times and xattrs, only while it is unchanged', async () => {
    const { roots } = setup();
    const fact = writeSource(roots, 'doc.pdf', 'the content');
    const path = join(roots.source, 'doc.pdf');
    lsetxattr(path, 'user.keep', Buffer.from('me'));
    const before = lstatSync(path, { bigint: true });
    const inspection = await inspect(roots, 'doc.pdf', fact.size, fact.mtime) as Extract<Inspection, { kind: 'file' }>;
    const stub = stubOf(inspection, 'the content');
    appendFileSync(path, ' and more');
    expect(await pool.run('stubInPlace', [{ path, fingerprint: inspection.fingerprint, stub, fsync: false }])).toEqual(['changed']);
    expect(readFileSync(path, 'utf8')).toBe('the content and more');
    expect(lgetxattr(path, STUB_ATTRIBUTE)).toBeNull();
    writeFileSync(path, 'the content');
    utimesSync(path, new Date(Number(before.atimeNs / 1_000_000n)), new Date(Number(before.mtimeNs / 1_000_000n)));
    const fresh = await inspect(roots, 'doc.pdf', fact.size, fact.mtime) as Extract<Inspection, { kind: 'file' }>;
    const again = stubOf(fresh, 'the content');
    expect(await pool.run('stubInPlace', [{ path, fingerprint: fresh.fingerprint, stub: again, fsync: true }])).toEqual(['stubbed']);
    const after = lstatSync(path, { bigint: true });
    expect([after.ino, after.mode, after.uid, after.gid, String(after.mtimeNs), String(after.atimeNs)])
      .toEqual([before.ino, before.mode, before.uid, before.gid, again.mtimeNs, again.atimeNs]);
    expect(after.size).toBe(0n);
    expect(lgetxattr(path, 'user.keep')?.toString()).toBe('me');
    expect(await inspect(roots, 'doc.pdf', fact.size, fact.mtime)).toEqual({ kind: 'stub', stub: again });
    expect(readdirSync(roots.source)).toEqual(['doc.pdf']);
  });

  it('stubs a source only while it is the same inode with the copied size and times', async () => {
    const { roots } = setup();
    const names = ['quiet.txt', 'written.txt', 'replaced.txt'];
    const facts = names.map((name) => writeSource(roots, name, `content of ${name}`));
    const paths = names.map((name) => join(roots.source, name));
    const inspections = await Promise.all(names.map((name, i) => inspect(roots, name, facts[i].size, facts[i].mtime))) as Extract<Inspection, { kind: 'file' }>[];
    const requests = names.map((name, i) => ({ path: paths[i], fingerprint: inspections[i].fingerprint, stub: stubOf(inspections[i], `content of ${name}`, i + 1), fsync: false }));
    // After the copy, before the stub: one source is written to, another is replaced by a new file of the same size and times.
    appendFileSync(paths[1], ' and a late write');
    const replacedTimes = lstatSync(paths[2]);
    writeFileSync(`${paths[2]}.new`, 'content of replaced.txt');
    utimesSync(`${paths[2]}.new`, replacedTimes.atime, replacedTimes.mtime);
    renameSync(`${paths[2]}.new`, paths[2]);
    expect(await pool.run('stubInPlace', requests)).toEqual(['stubbed', 'changed', 'changed']);
    expect(lstatSync(paths[0]).size).toBe(0);
    expect(readFileSync(paths[1], 'utf8')).toBe('content of written.txt and a late write');
    expect(lgetxattr(paths[1], STUB_ATTRIBUTE)).toBeNull();
    expect(readFileSync(paths[2], 'utf8')).toBe('content of replaced.txt');
    expect(lgetxattr(paths[2], STUB_ATTRIBUTE)).toBeNull();
    expect(await inspect(roots, 'quiet.txt', facts[0].size, facts[0].mtime)).toEqual({ kind: 'stub', stub: requests[0].stub });
  });

  it('finishes a stub an interrupted attempt marked, and unmarks one written to since', async () => {
    const { roots } = setup();
    const facts = ['kept.txt', 'edited.txt', 'emptied.txt'].map((name) => writeSource(roots, name, `content of ${name}`));
    const inspections = await Promise.all(['kept.txt', 'edited.txt', 'emptied.txt'].map((name, i) => inspect(roots, name, facts[i].size, facts[i].mtime))) as Extract<Inspection, { kind: 'file' }>[];
    const stubs = ['kept.txt', 'edited.txt', 'emptied.txt'].map((name, i) => stubOf(inspections[i], `content of ${name}`, i + 1));
    const paths = ['kept.txt', 'edited.txt', 'emptied.txt'].map((name) => join(roots.source, name));
    // The crash points: marked with the content still there (twice), and emptied before its times were restored.
    paths.forEach((path, i) => { const fd = openSync(path, 'r+'); writeStubXattrs(fd, stubs[i]); closeSync(fd); });
    appendFileSync(paths[1], ' edited later');
    truncateSync(paths[2], 0);
    const results = await pool.run('completeStubs', paths.map((path, i) => ({ path, stub: stubs[i], fsync: false })));
    expect(results).toEqual(['stubbed', 'changed', 'stubbed']);
    for (const i of [0, 2]) {
      const st = lstatSync(paths[i], { bigint: true });
      expect([st.size, String(st.mtimeNs)]).toEqual([0n, stubs[i].mtimeNs]);
    }
    expect(readFileSync(paths[1], 'utf8')).toBe('content of edited.txt edited later');
    expect(lgetxattr(paths[1], STUB_ATTRIBUTE)).toBeNull();
  });
});
