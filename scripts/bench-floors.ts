// Lower bounds of CPU for the work bench:index and bench:remediate time, measured
// without Temporal or the workflow around it, so a speed target can be checked against
// what the machine allows:
// - the walk's system calls in C (scripts/floors/walk-floor.c, built with gcc), against
//   strata's walker (koffi, COPY encoding) on one thread over the same tree;
// - the file system calls of remediating one file in C (acl-apply-floor.c);
// - Postgres inserting index rows into `file` (its keys, indexes, reference trigger and
//   row-level security, as the index load does from its temp tables) and moving rows to
//   another descriptor (as remediation does), in backend CPU per row.
// `npm run bench:floors -- [--rounds 3] [--rows 100000] [--apply-files 58500]` (Postgres on
// STRATA_TEST_SLOT, default 5). The last line printed is one JSON object of the floors.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { createAppPool } from '../db/pool';
import { withTenant } from '../db/tenant-tx';
import { projectRoot } from '../lib/paths';
import { cpuOf } from './bench-cpu';
import { buildIndexTree } from './bench-index-tree';
import { walkOnOneThread } from './bench-floors-walk';
import { startStack } from './stack/stack';

const value = (name: string, fallback: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : fallback; };
const ROUNDS = Number(value('rounds', '3'));
const ROWS = Number(value('rows', '100000'));
const APPLY_FILES = Number(value('apply-files', '58500'));
const FLOORS_DIR = join(projectRoot(), 'scripts', 'floors');

interface CpuUse { user: number; sys: number }
const total = (use: CpuUse) => use.user + use.sys;
const best = (uses: CpuUse[]) => uses.reduce((a, b) => (total(b) < total(a) ? b : a));
const show = (use: CpuUse) => `${total(use).toFixed(2)} CPU-s (user ${use.user.toFixed(2)}, sys ${use.sys.toFixed(2)})`;

function compile(work: string, name: string): string {
  const binary = join(work, name);
  execFileSync('gcc', ['-O2', '-Wall', '-o', binary, join(FLOORS_DIR, `${name}.c`)], { stdio: 'inherit' });
  return binary;
}

function runFloor(binary: string, args: string[], input?: string): CpuUse & Record<string, number> {
  const done = spawnSync(binary, args, { encoding: 'utf8', input, maxBuffer: 1 << 26 });
  if (done.status !== 0) throw new Error(`${binary} failed: ${done.stderr}`);
  return JSON.parse(done.stdout);
}

function walkFloors(work: string, tree: string): { c: CpuUse; strata: CpuUse; entries: number } {
  const binary = compile(work, 'walk-floor');
  const c = Array.from({ length: ROUNDS }, () => runFloor(binary, [tree]));
  const strata = Array.from({ length: ROUNDS }, () => walkOnOneThread(tree));
  console.log(`[floors] walk of ${c[0].entries + 1} entries: C system calls ${show(best(c))}; strata's walker on one thread ${show(best(strata))}`);
  return { c: best(c), strata: best(strata), entries: c[0].entries + 1 };
}

/** A copy of the tree; the first files of it get the ACL of a reference file set, read back and compared. */
function applyFloor(work: string, tree: string): CpuUse {
  const binary = compile(work, 'acl-apply-floor');
  const copy = join(work, 'tree');
  execFileSync('cp', ['-a', tree, copy]);
  const files = execFileSync('find', [copy, '-type', 'f'], { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').filter(Boolean).slice(0, APPLY_FILES);
  const reference = files[0];
  execFileSync('setfacl', ['-m', 'u:4242:r,g:4343:r,o::-', reference]);
  const uses = Array.from({ length: ROUNDS }, () => runFloor(binary, [reference], `${files.join('\n')}\n`));
  console.log(`[floors] remediating ${files.length} files (open, stat, snapshot read, set, read back): C system calls ${show(best(uses))}`);
  return best(uses);
}

const FILE_COLUMNS = 'name, size_bytes, atime_unix, mtime_unix, ctime_unix, btime_unix, file_ref, parent_ref, security_id, share_id, mode, uid, gid, flags';

/** One round: ROWS index rows in 50 per directory into the temp tables, then the index load's INSERT into `file`, then 30% moved. */
async function postgresRound(pool: ReturnType<typeof createAppPool>, admin: PgClient, tenantId: string): Promise<{ insert: number; update: number }> {
  const scanId = (await admin.query(
    `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at) VALUES ($1, $2, 'floors', 'POSIX', now()) RETURNING id`,
    [tenantId, randomUUID()])).rows[0].id as number;
  await admin.query('CHECKPOINT');
  return withTenant(pool, { tenantId, role: 'strata_indexer' }, async (client) => {
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await client.query(`CREATE TEMP TABLE floor_dir (seq integer, dir_path text) ON COMMIT DROP`);
    await client.query(`CREATE TEMP TABLE floor_file ON COMMIT DROP AS SELECT 0 AS dir_seq, ${FILE_COLUMNS} FROM file WITH NO DATA`);
    await client.query(`INSERT INTO floor_dir SELECT g, '/floors/' || $1::text || '/d' || (g / 100) || '/e' || g FROM generate_series(0, $2::int / 50) g`, [scanId, ROWS]);
    await client.query(
      `INSERT INTO floor_file SELECT g / 50, 'f' || (g % 50) || '.dat', 0, 1700000000 + g, 1700000000 + g, 1700000000 + g, NULL,
              1000000 + g, g / 50, (g / 50) % 300, NULL, 33184, 0, 0, 0 FROM generate_series(0, $1::int - 1) g`, [ROWS]);
    await client.query(`INSERT INTO dir (tenant_id, path_hash, dir_path) SELECT $1, dir_path_hash(dir_path), dir_path FROM floor_dir ORDER BY 2, 3`, [tenantId]);
    const before = cpuOf(pid);
    await client.query(
      `INSERT INTO file (tenant_id, scan_id, dir_id, ${FILE_COLUMNS})
       SELECT $1, $2, d.id, ${FILE_COLUMNS.split(', ').map((c) => `f.${c}`).join(', ')}
         FROM floor_file f JOIN floor_dir x ON x.seq = f.dir_seq
         JOIN dir d ON d.tenant_id = $1 AND d.path_hash = dir_path_hash(x.dir_path) AND d.dir_path = x.dir_path`, [tenantId, scanId]);
    const inserted = cpuOf(pid);
    const moved = await client.query(`UPDATE file SET security_id = security_id + 1000 WHERE scan_id = $1 AND file_ref % 10 < 3`, [scanId]);
    const updated = cpuOf(pid);
    return { insert: ((inserted - before) / ROWS) * 1e6, update: ((updated - inserted) / (moved.rowCount ?? 1)) * 1e6 };
  });
}

async function postgresFloors(): Promise<{ insertUs: number; updateUs: number }> {
  const stack = await startStack('test', { ...process.env, STRATA_TEST_SLOT: process.env.STRATA_TEST_SLOT ?? '5' });
  const admin = new PgClient({ connectionString: stack.env.DATABASE_URL });
  await admin.connect();
  const pool = createAppPool(2, stack.env);
  try {
    const tenantId = randomUUID();
    await admin.query(`INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, 'floors', 'Floors', 'none', 'vault:v1:floors')`, [tenantId]);
    const rounds = [];
    for (let round = 0; round < ROUNDS; round += 1) rounds.push(await postgresRound(pool, admin, tenantId));
    const insertUs = Math.min(...rounds.map((r) => r.insert));
    const updateUs = Math.min(...rounds.map((r) => r.update));
    console.log(`[floors] Postgres, backend CPU per row: index load's insert into file ${insertUs.toFixed(1)} us, moving a row to another descriptor ${updateUs.toFixed(1)} us`);
    return { insertUs, updateUs };
  } finally {
    await pool.end();
    await admin.end();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const tree = buildIndexTree(value('tree', join(tmpdir(), 'strata-bench-index')));
  const work = mkdtempSync(join(tmpdir(), 'strata-floors-'));
  try {
    const walk = walkFloors(work, tree);
    const apply = applyFloor(work, tree);
    const postgres = await postgresFloors();
    console.log(JSON.stringify({
      bench: 'floors', entries: walk.entries, walk_c_cpu_s: Number(total(walk.c).toFixed(3)), walk_strata_cpu_s: Number(total(walk.strata).toFixed(3)),
      apply_files: APPLY_FILES, apply_c_cpu_s: Number(total(apply).toFixed(3)),
      file_insert_us_per_row: Number(postgres.insertUs.toFixed(2)), file_move_us_per_row: Number(postgres.updateUs.toFixed(2)),
    }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
