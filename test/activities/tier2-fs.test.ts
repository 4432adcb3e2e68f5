// The filesystem Tier-2 target and the stub steps on a real directory tree, run on
// the worker-thread pool exactly as the host worker runs them.
import { appendFileSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr, lsetxattr } from '../../activities/ffi';
import { STUB_XATTR } from '../../activities/stub-format';
import { TieringPool, poolFsOps } from '../../activities/tiering-pool';
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
    const names = ['plain.txt', 'with space & ünïcode.bin', 'empty'];
    const facts = names.map((name, i) => writeSource(roots, `dir one/${name}`, i === 2 ? '' : `content of ${name}`.repeat(100 * (i + 1))));
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
    expect(await target.verify(expected)).toEqual(['ok', 'ok', 'ok']);
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

  it('refuses a source that changed after it was inspected', async () => {
    const { roots, target } = setup();
    const fact = writeSource(roots, 'a.txt', 'first');
    const inspection = await inspect(roots, 'a.txt', fact.size, fact.mtime) as Extract<Inspection, { kind: 'file' }>;
    appendFileSync(join(roots.source, 'a.txt'), ' and more');
    const [result] = await target.put([{ key: 'projects/a.txt', sourcePath: join(roots.source, 'a.txt'), label: 'a', fingerprint: inspection.fingerprint }]);
    expect(result).toMatchObject({ ok: false, reason: 'changed' });
    expect(readdirSync(roots.target, { recursive: true })).toEqual(['projects']);
    expect(await inspect(roots, 'a.txt', fact.size, fact.mtime)).toMatchObject({ kind: 'skip', reason: 'changed' });
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

  it('replaces a source by a stub keeping mode, owner, times and xattrs, only while it is unchanged', async () => {
    const { roots } = setup();
    const fact = writeSource(roots, 'doc.pdf', 'the content');
    const path = join(roots.source, 'doc.pdf');
    lsetxattr(path, 'user.keep', Buffer.from('me'));
    const before = lstatSync(path, { bigint: true });
    const inspection = await inspect(roots, 'doc.pdf', fact.size, fact.mtime) as Extract<Inspection, { kind: 'file' }>;
    const stub = { uri: 'file:///t2/projects/doc.pdf', size: fact.size, sha256: sha256(Buffer.from('the content')), tierId: 7, atimeNs: inspection.meta.atimeNs, mtimeNs: inspection.meta.mtimeNs };
    const temp = join(roots.source, '.7.strata-stub~tmp');
    expect(await pool.run('writeStubTemps', [{ sourcePath: path, tempPath: temp, stub, meta: inspection.meta, fsync: false }])).toEqual([null]);
    expect(await pool.run('replaceAll', [{ tempPath: temp, targetPath: path, fingerprint: inspection.fingerprint }])).toEqual(['replaced']);
    const after = lstatSync(path, { bigint: true });
    expect([after.mode, after.uid, after.gid, after.mtimeNs, after.atimeNs]).toEqual([before.mode, before.uid, before.gid, before.mtimeNs, before.atimeNs]);
    expect(after.ino).not.toBe(before.ino);
    expect(after.size).toBe(0n);
    expect(lgetxattr(path, 'user.keep')?.toString()).toBe('me');
    expect(lgetxattr(path, STUB_XATTR.sha256)?.toString()).toBe(stub.sha256);
    expect(await inspect(roots, 'doc.pdf', fact.size, fact.mtime)).toEqual({ kind: 'stub', stub });
    // A stale fingerprint (the stub replaced the file it describes) refuses the swap and cleans up.
    expect(await pool.run('writeStubTemps', [{ sourcePath: path, tempPath: temp, stub, meta: inspection.meta, fsync: false }])).toEqual([null]);
    expect(await pool.run('replaceAll', [{ tempPath: temp, targetPath: path, fingerprint: inspection.fingerprint }])).toEqual(['changed']);
    expect(readdirSync(roots.source).sort()).toEqual(['doc.pdf']);
  });
});
