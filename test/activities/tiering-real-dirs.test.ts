// Resolving a source's directory for the inside-the-root check: built from resolved
// parents with one lstat per new directory, it must agree with realpath wherever links
// are, and still catch every way out of the root.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insideRoot, realDirectory } from '../../activities/tiering-fsops';

let base: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'strata-real-dirs-'));
  mkdirSync(join(base, 'root', 'a', 'b'), { recursive: true });
  mkdirSync(join(base, 'outside', 'deep'), { recursive: true });
  mkdirSync(join(base, 'root-sibling'));
  symlinkSync(join(base, 'outside'), join(base, 'root', 'escape'));
  symlinkSync(join(base, 'root', 'a', 'b'), join(base, 'root', 'shortcut'));
  symlinkSync('../..', join(base, 'root', 'a', 'b', 'up'));
  symlinkSync(join(base, 'root'), join(base, 'root-link'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('realDirectory', () => {
  it('agrees with realpath for plain directories, links on the way, relative links and dot segments', () => {
    const dirs = ['root', 'root/a/b', 'root/escape/deep', 'root/shortcut', 'root/a/b/up/a', 'root-link/a/b', 'root/a/..', 'root/./a'];
    const cache = new Map<string, string>();
    for (const dir of dirs) expect(realDirectory(join(base, dir), cache)).toBe(realpathSync.native(join(base, dir)));
    // Cached answers are the same, and '/' resolves to itself.
    for (const dir of dirs) expect(realDirectory(join(base, dir), cache)).toBe(realpathSync.native(join(base, dir)));
    expect(realDirectory('/', cache)).toBe('/');
  });
});

describe('insideRoot', () => {
  const inside = (path: string, root = join(base, 'root')) => insideRoot(join(base, path), root, new Map());

  it('accepts files below the root, also through links that stay inside, and a root reached through a link', () => {
    expect(inside('root/top.txt')).toBe(true);
    expect(inside('root/a/b/file.txt')).toBe(true);
    expect(inside('root/shortcut/file.txt')).toBe(true);
    expect(inside('root-link/a/file.txt')).toBe(true);
    expect(inside('root/a/file.txt', join(base, 'root-link'))).toBe(true);
  });

  it('refuses files whose directory resolves outside the root, by an absolute or a relative link', () => {
    expect(inside('root/escape/file.txt')).toBe(false);
    expect(inside('root/escape/deep/file.txt')).toBe(false);
    expect(inside('root/a/b/up/back-in-the-root.txt')).toBe(true);
    expect(inside('root/a/b/up/escape/file.txt')).toBe(false);
    expect(inside('outside/file.txt')).toBe(false);
    // A sibling whose name starts with the root's is not below it.
    expect(inside('root-sibling/file.txt')).toBe(false);
  });
});
