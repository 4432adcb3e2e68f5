// The benchmark tree of bootstrap indexing, shared by bench:index and bench:floors:
// depth 6, 200,000 files, a few hundred distinct ACLs set with setfacl (Debian `acl`).
// Built once per base directory; a marker file names the layout's version.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FANOUT = [4, 5, 5, 5, 8];
const FILES_PER_DIR = 50;
const DISTINCT_ACLS = 300;
const TREE_VERSION = 'tree-v1';

/** Depth 6: five levels of directories (4,000 leaves), 50 files in each leaf; ACLs by leaf. */
export function buildIndexTree(base: string): string {
  const tree = join(base, 'tree');
  const marker = join(base, TREE_VERSION);
  if (existsSync(marker)) return tree;
  if (spawnSync('setfacl', ['--version']).status !== 0) throw new Error('setfacl is missing: apt-get install acl');
  rmSync(base, { recursive: true, force: true });
  let level = [tree];
  for (const fanout of FANOUT) level = level.flatMap((dir) => Array.from({ length: fanout }, (_, i) => join(dir, `d${i}`)));
  const byAcl = new Map<number, string[]>();
  level.forEach((leaf, index) => {
    mkdirSync(leaf, { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f += 1) closeSync(openSync(join(leaf, `f${String(f).padStart(2, '0')}.dat`), 'w', 0o640));
    byAcl.set(index % DISTINCT_ACLS, [...(byAcl.get(index % DISTINCT_ACLS) ?? []), leaf]);
  });
  for (const [acl, leaves] of byAcl) {
    const spec = `u:${2000 + (acl % 100)}:r,g:${3000 + Math.floor(acl / 100)}:rx`;
    const done = spawnSync('setfacl', ['-R', '-m', spec, ...leaves], { stdio: 'inherit' });
    if (done.status !== 0) throw new Error(`setfacl ${spec} failed`);
  }
  writeFileSync(marker, new Date().toISOString());
  return tree;
}
