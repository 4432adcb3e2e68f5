// Test helpers for indexing: trees on disk, what a walk should find in them, child
// processes (TypeScript snippets, host workers) with or without DAC capabilities.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { escapeName } from '../../activities/index-names';
import { projectRoot } from '../../lib/paths';

/** setpriv arguments that drop the capabilities root uses to ignore file permissions and to open by handle. */
export const DROP_DAC = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'];

const TS_BOOTSTRAP = `
const { readFileSync } = require('node:fs');
const swc = require(${JSON.stringify(require.resolve('@swc/core'))});
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  module._compile(code, filename);
};`;

/** Runs a snippet that may require the project's .ts modules (by absolute path) in a fresh node process. */
export function runTsChild(code: string, options: { dropDac?: boolean } = {}): { status: number | null; stdout: string; stderr: string } {
  const argv = [...(options.dropDac ? DROP_DAC : []), process.execPath, '-e', `${TS_BOOTSTRAP}\n${code}`];
  const result = spawnSync(argv[0], argv.slice(1), { cwd: projectRoot(), encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function moduleAt(relative: string): string {
  return JSON.stringify(join(projectRoot(), relative));
}

/** A compiled host worker in its own process (dist/ must be built), optionally without DAC capabilities. */
export function spawnHostWorker(env: Record<string, string>, hostId: string, options: { dropDac?: boolean } = {}): ChildProcess {
  const argv = [...(options.dropDac ? DROP_DAC : []), process.execPath, join(projectRoot(), 'dist', 'workers', 'host.js')];
  return spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env, STRATA_HOST_ID: hostId }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Waits until some worker polls the activity task queue. */
export async function waitForPoller(temporal: Client, taskQueue: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await temporal.workflowService.describeTaskQueue({
      namespace: temporal.options.namespace, taskQueue: { name: taskQueue }, taskQueueType: 2,
    });
    if ((answer.pollers ?? []).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no worker polls ${taskQueue}`);
}

export interface ExpectedEntry { path: string; dirPath: string; name: string; raw: Buffer; ino: number; parentIno: number; size: number; mtime: number; mode: number; uid: number; gid: number; isDir: boolean; isSymlink: boolean }

/** What an index of root must contain: root itself and every entry below it, links not followed. */
export function expectedEntries(root: string, skip: (path: Buffer) => boolean = () => false): Map<string, ExpectedEntry> {
  const found = new Map<string, ExpectedEntry>();
  const parentStat = lstatSync(Buffer.from(join(root, '..')), { bigint: true });
  const visit = (path: Buffer, parentIno: number) => {
    const stat = lstatSync(path, { bigint: true });
    const cut = path.lastIndexOf(0x2f);
    const dirPath = escapeName(cut <= 0 ? Buffer.from('/') : path.subarray(0, cut));
    const name = escapeName(path.subarray(cut + 1));
    const entry: ExpectedEntry = {
      path: escapeName(path), dirPath, name, raw: path, ino: Number(stat.ino), parentIno, size: Number(stat.size),
      mtime: Number(stat.mtimeMs / 1000n), mode: Number(stat.mode), uid: Number(stat.uid), gid: Number(stat.gid),
      isDir: stat.isDirectory(), isSymlink: stat.isSymbolicLink(),
    };
    found.set(entry.path, entry);
    if (entry.isDir && !skip(path)) {
      for (const child of readdirSync(path, { encoding: 'buffer' })) visit(Buffer.concat([path, Buffer.from('/'), child]), entry.ino);
    }
  };
  visit(Buffer.from(root), Number(parentStat.ino));
  return found;
}

export const AWKWARD_NAMES: Buffer[] = [
  Buffer.from('new\nline'), Buffer.from('com,ma'), Buffer.from('quo"te\'s'), Buffer.from('back\\slash'), Buffer.from('tab\tname'),
  Buffer.from(' lead space'), Buffer.from('ünïcødé ✓'), Buffer.from([0x62, 0x61, 0x64, 0xff, 0x80, 0x2e, 0x62, 0x69, 0x6e]),
  Buffer.from([0x5c, 0x78, 0x66, 0x66]), Buffer.from('%s;$(x)`|&'),
];

/**
 * A tree with shares, ACLs (two files with the same ACL), world-readable and private
 * files, links, a fifo, awkward names and a path of about 4,000 bytes.
 */
export function buildSampleTree(root: string): { deepFile: string } {
  const sh = (command: string, ...args: string[]) => spawnSync(command, args, { stdio: 'pipe' });
  for (const dir of ['docs/sub', 'public', 'private', 'awkward', 'links', 'empty']) fs.mkdirSync(join(root, dir), { recursive: true });
  fs.writeFileSync(join(root, 'docs/a.txt'), 'a'.repeat(100), { mode: 0o640 });
  fs.writeFileSync(join(root, 'docs/b.txt'), 'b'.repeat(200), { mode: 0o640 });
  fs.writeFileSync(join(root, 'docs/c.txt'), 'c'.repeat(300), { mode: 0o600 });
  fs.writeFileSync(join(root, 'docs/sub/d.txt'), 'd'.repeat(400), { mode: 0o640 });
  for (let i = 1; i <= 5; i += 1) fs.writeFileSync(join(root, `public/p${i}`), 'p'.repeat(i * 10), { mode: 0o644 });
  fs.chmodSync(join(root, 'private'), 0o700);
  fs.writeFileSync(join(root, 'private/secret'), 's', { mode: 0o600 });
  for (const name of AWKWARD_NAMES) fs.writeFileSync(Buffer.concat([Buffer.from(join(root, 'awkward') + '/'), name]), name);
  fs.symlinkSync('../docs', join(root, 'links/to_dir'));
  fs.symlinkSync('../public/p1', join(root, 'links/to_file'));
  fs.symlinkSync('/nonexistent/x', join(root, 'links/dangling'));
  fs.symlinkSync('/etc', join(root, 'links/abs'));
  sh('mkfifo', join(root, 'fifo'));
  sh('setfacl', '-m', 'u:nobody:r', join(root, 'docs/a.txt'), join(root, 'docs/b.txt'));
  sh('setfacl', '-m', 'g:users:r', join(root, 'docs/sub/d.txt'));
  sh('setfacl', '-d', '-m', 'g:users:rx', join(root, 'docs'));
  let deep = join(root, 'deep');
  for (let level = 0; deep.length < 3_780; level += 1) deep = join(deep, `level_${String(level).padStart(2, '0')}_${'x'.repeat(190)}`);
  fs.mkdirSync(deep, { recursive: true });
  const deepFile = join(deep, `end_${'z'.repeat(3_995 - deep.length - 5)}`);
  fs.writeFileSync(deepFile, 'deep');
  return { deepFile };
}

export function sampleShareConfigs(dir: string, root: string): { smbConfPath: string; exportsPath: string } {
  const smbConfPath = join(dir, 'smb.conf');
  const exportsPath = join(dir, 'exports');
  fs.writeFileSync(smbConfPath, `[global]\n  workgroup = TEST\n[docs]\n  path = ${root}/docs\n  valid users = alice\n  read only = no\n[public]\n  path = ${root}/public\n  guest ok = yes\n[elsewhere]\n  path = /nonexistent/share\n`);
  fs.writeFileSync(exportsPath, `# test exports\n${root}/public  *(ro,all_squash)\n${root}/private 10.0.0.0/24(rw,no_root_squash)\n`);
  return { smbConfPath, exportsPath };
}

export interface IndexedRow { id: number; path: string; ino: number; parentIno: number; size: number; mtime: number; mode: number; flags: number; securityId: number | null }

/** The rows of an index scan by escaped full path; throws if a path is indexed twice. */
export async function indexedRows(admin: import('pg').Pool, scanId: number): Promise<Map<string, IndexedRow>> {
  const result = await admin.query(
    `SELECT f.id, CASE WHEN d.dir_path = '/' THEN '/' || f.name ELSE d.dir_path || '/' || f.name END AS path, f.file_ref AS ino,
            f.parent_ref AS "parentIno", f.size_bytes AS size, f.mtime_unix AS mtime, f.mode, f.flags, f.security_id AS "securityId"
       FROM file f JOIN dir d ON d.id = f.dir_id WHERE f.scan_id = $1`, [scanId]);
  const rows = new Map<string, IndexedRow>();
  for (const row of result.rows) {
    if (rows.has(row.path)) throw new Error(`${row.path} is indexed twice`);
    rows.set(row.path, row);
  }
  return rows;
}

/** The facts of each entry that disk and index must agree on. */
export function comparable(entries: Iterable<ExpectedEntry>): Record<string, unknown>[] {
  return [...entries].map((e) => ({ path: e.path, ino: e.ino, parentIno: e.parentIno, size: e.isDir ? 'dir' : e.size, mode: e.mode }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

export function comparableRows(rows: Iterable<IndexedRow>): Record<string, unknown>[] {
  return [...rows].map((r) => ({ path: r.path, ino: r.ino, parentIno: r.parentIno, size: r.flags & 1 ? 'dir' : r.size, mode: r.mode }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}
