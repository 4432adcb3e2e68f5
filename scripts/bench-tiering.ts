// Tiering benchmark: a tree of 50,000 files up to 4 KB, half idle for two years.
// strata plans (from the index, loaded with COPY) and acts through the api and the
// workflows (copy, fsync/syncfs, SHA-256 verify, stub with xattrs); on a copy of the
// same tree `rclone move --min-age 365d --disable Move,DirMove` copies, checks and
// deletes. Best of --runs (default 3). The last line printed is one JSON object.
// `npm run bench:tiering -- [--runs 3] [--files 50000] [--strata-only] [--timeline] [--keep] [--ab SETTINGS]`
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { buildApp } from '../api/app';
import { createAppPool } from '../db/pool';
import { databaseSettings } from '../db/settings';
import { withTenant } from '../db/tenant-tx';
import { loadScanSnapshot, type ScanFileRow } from '../db/queries/tiering-scan-load';
import { issueToken } from '../lib/tokens';
import { ensureInstallAdmin } from './admin-token';
import { childrenCpuSeconds, cpuDelta, cpuProbe, type CpuProbe } from './bench-cpu';
import { activityTimeline } from './bench-timeline';
import { startBenchWorkers } from './bench-workers';
import { startStack } from './stack/stack';

const HOST_ID = 'bench-tier-host';
const IDLE_SECONDS = 2 * 365 * 86_400;
const value = (name: string, fallback: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : fallback; };
const RUNS = Number(value('runs', '3'));
const FILES = Number(value('files', '50000'));
/** Profiling: strata's runs only, no rclone runs and no ratio. */
const STRATA_ONLY = process.argv.includes('--strata-only');
/** Profiling: each run's plan and act workflows, activity by activity (see bench-timeline.ts). */
const TIMELINE = process.argv.includes('--timeline');
const BASE = join(tmpdir(), 'strata-bench-tiering');
/**
 * Profiling: this invocation's run trees go under kept/<time>/ and stay there (no
 * deletion, so the next invocation need not wait for freed inodes); delete kept/ later.
 */
const KEEP = process.argv.includes('--keep');
const RUNS_DIR = KEEP ? join(BASE, 'kept', String(Date.now())) : BASE;
/**
 * ext4 without a journal (as here) will not reuse an inode freed in the last minute, or
 * in the last six while its inode-table block is dirty: every new file's allocation scans
 * past each one (measured: 25,000 creates right after a bulk delete spent a third of the
 * act's CPU there). So no timed phase follows the benchmark's own deletions within that
 * window, and the tools run in two series (strata's runs, then rclone's): strata deletes
 * nothing, while each rclone run deletes the sources it moved, which only later rclone
 * runs can pay for (its first run never does).
 */
const INODE_REUSE_WINDOW_MS = 365_000;
/** When this benchmark last deleted a tree, kept across invocations (each one ends by deleting its runs). */
const DELETION_MARKER = join(BASE, 'last-deletion.json');
let lastDeletionMs = existsSync(DELETION_MARKER) ? Number(JSON.parse(readFileSync(DELETION_MARKER, 'utf8')).at) || 0 : 0;

function noteDeletion(): void {
  lastDeletionMs = Date.now();
  mkdirSync(BASE, { recursive: true });
  writeFileSync(DELETION_MARKER, JSON.stringify({ at: lastDeletionMs }));
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  spawnSync('rm', ['-rf', dir]);
  spawnSync('sync');
  noteDeletion();
}

async function settleDeletedInodes(): Promise<void> {
  const wait = lastDeletionMs + INODE_REUSE_WINDOW_MS - Date.now();
  if (wait <= 0) return;
  console.log(`[bench] waiting ${Math.ceil(wait / 1000)} s until recently freed inodes are reusable (ext4 without a journal skips them)`);
  await new Promise((resolve) => setTimeout(resolve, wait));
}

/**
 * 1,000 leaf directories (three levels of ten), files spread over them; every other file
 * idle. Kept between invocations (pristine.json records it), so a rerun deletes nothing.
 */
function buildPristine(dir: string): ScanFileRow[] {
  const marker = join(BASE, 'pristine.json');
  const kept = existsSync(marker) && existsSync(dir) ? JSON.parse(readFileSync(marker, 'utf8')) as { files: number; now: number } : null;
  const reuse = kept?.files === FILES;
  if (!reuse) { removeTree(dir); rmSync(marker, { force: true }); }
  const now = reuse ? kept.now : Math.floor(Date.now() / 1000);
  const rows: ScanFileRow[] = [];
  for (let i = 0; i < FILES; i++) {
    const leaf = join(dir, `d${i % 10}`, `e${Math.floor(i / 10) % 10}`, `f${Math.floor(i / 100) % 10}`);
    const name = `file-${i}.dat`;
    const size = (i * 37) % 4097;
    const when = i % 2 === 0 ? now - IDLE_SECONDS : now;
    if (!reuse) {
      if (i < 1000) mkdirSync(leaf, { recursive: true });
      writeFileSync(join(leaf, name), Buffer.alloc(size, i % 251));
      utimesSync(join(leaf, name), when, when);
    }
    rows.push({ dirPath: leaf, name, size, atime: when, mtime: when, ctime: now });
  }
  if (!reuse) writeFileSync(marker, JSON.stringify({ files: FILES, now }));
  return rows;
}

function copyTree(from: string, to: string): void {
  removeTree(to);
  mkdirSync(join(to, '..'), { recursive: true });
  const done = spawnSync('cp', ['-a', from, to], { stdio: 'inherit' });
  if (done.status !== 0) throw new Error(`cp -a ${from} ${to} failed`);
  // The copy's own writes are flushed now, so neither tool pays for the benchmark's setup.
  spawnSync('sync');
}

/** Reads every file into the page cache without moving its atime (O_NOATIME). */
function warm(dir: string): number {
  const buffer = Buffer.alloc(8192);
  let files = 0;
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else { const fd = openSync(child, constants.O_RDONLY | constants.O_NOATIME); readSync(fd, buffer, 0, buffer.length, 0); closeSync(fd); files++; }
    }
  };
  walk(dir);
  return files;
}

function countFiles(dir: string): number {
  return existsSync(dir) ? (readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length) : 0;
}

type App = Awaited<ReturnType<typeof buildApp>>;

async function call(app: App, token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<Record<string, unknown>> {
  const response = await app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json();
}

interface StrataRun { planned: number; planSeconds: number; actSeconds: number; stubbed: number; planCpu: string; actCpu: string }

async function runStrata(app: App, temporal: Client, pool: Pool, cpu: CpuProbe, installToken: string, run: number, rows: ScanFileRow[], pristine: string): Promise<StrataRun> {
  const source = join(RUNS_DIR, `run${run}`, 'strata-src');
  const target = join(RUNS_DIR, `run${run}`, 'strata-tier2');
  copyTree(pristine, source);
  mkdirSync(target, { recursive: true });
  const code = `bench-${run}-${issueToken().id.slice(0, 8)}`;
  const tenant = await call(app, installToken, 'POST', '/tenants', { code, name: code });
  const token = (tenant.adminToken as { token: string }).token;
  const scanRows = rows.map((row) => ({ ...row, dirPath: source + row.dirPath.slice(pristine.length) }));
  await withTenant(pool, { tenantId: tenant.tenantId as string, role: 'strata_ingest' }, (client) =>
    loadScanSnapshot(client, tenant.tenantId as string, { shareName: 'bench', srcType: 'POSIX', rows: scanRows }));
  await call(app, token, 'PUT', '/tiering/shares/bench', { source: { hostId: HOST_ID, rootPath: source, scanPathPrefix: source }, target: { uri: pathToFileURL(target).href } });
  warm(source);
  await settleDeletedInodes();
  const planCpu = await cpu.sample();
  const planStart = performance.now();
  const planMonotonic = process.hrtime.bigint();
  const plan = await call(app, token, 'POST', '/tiering/plans', { shareName: 'bench' });
  const planned = await temporal.workflow.getHandle(plan.workflowId as string).result();
  const planSeconds = (performance.now() - planStart) / 1000;
  const actCpu = await cpu.sample();
  const actStart = performance.now();
  const actMonotonic = process.hrtime.bigint();
  const act = await call(app, token, 'POST', `/tiering/plans/${plan.planId}/act`, {});
  const acted = await temporal.workflow.getHandle(act.workflowId as string).result();
  const actSeconds = (performance.now() - actStart) / 1000;
  const actEndMonotonic = process.hrtime.bigint();
  const doneCpu = await cpu.sample();
  if (TIMELINE) {
    // CLOCK_MONOTONIC seconds, as `perf record -k mono` stamps its samples: the act's window in a profile.
    console.log(`[bench] run ${run} windows (monotonic s): plan ${Number(planMonotonic) / 1e9} - ${Number(actMonotonic) / 1e9}, act ${Number(actMonotonic) / 1e9} - ${Number(actEndMonotonic) / 1e9}`);
    for (const [label, id] of [['plan', plan.workflowId], ['act', act.workflowId]]) {
      for (const line of await activityTimeline(temporal, id as string)) console.log(`[bench] run ${run} ${label} timeline: ${line}`);
    }
  }
  if (acted.status !== 'completed') throw new Error(`act ended ${acted.status}: ${JSON.stringify(acted.summary)}`);
  return {
    planned: Number(planned.summary.files), planSeconds, actSeconds, stubbed: Number(acted.summary.stubbed),
    planCpu: cpuDelta(planCpu, actCpu), actCpu: cpuDelta(actCpu, doneCpu),
  };
}

/**
 * Profiling (--ab "A=1,B=2;A=3"): runs take the settings groups in turn, set as environment
 * variables of this process, so settings read at run time are compared within one invocation.
 */
function applyAlternative(run: number): void {
  const groups = value('ab', '').split(';').filter(Boolean);
  if (groups.length === 0) return;
  for (const setting of groups[(run - 1) % groups.length].split(',')) {
    const [name, setTo] = setting.split('=');
    process.env[name] = setTo;
    console.log(`[bench] run ${run}: ${name}=${setTo}`);
  }
}

async function runRclone(run: number, pristine: string): Promise<{ moved: number; seconds: number; cpu: number }> {
  const source = join(RUNS_DIR, `run${run}`, 'rclone-src');
  const target = join(RUNS_DIR, `run${run}`, 'rclone-tier2');
  copyTree(pristine, source);
  removeTree(target);
  warm(source);
  await settleDeletedInodes();
  const cpuBefore = childrenCpuSeconds();
  const start = performance.now();
  const done = spawnSync('/usr/bin/rclone', ['move', '--min-age', '365d', '--disable', 'Move,DirMove', source, target], { stdio: 'inherit' });
  const seconds = (performance.now() - start) / 1000;
  const cpu = childrenCpuSeconds() - cpuBefore;
  if (done.status !== 0) throw new Error('rclone move failed');
  return { moved: countFiles(target), seconds, cpu };
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/rclone')) throw new Error('rclone is missing: apt-get install rclone');
  const stack = await startStack('test', { ...process.env, STRATA_TEST_SLOT: process.env.STRATA_TEST_SLOT ?? '6' });
  Object.assign(process.env, stack.env);
  const pool = createAppPool(16, process.env);
  const workers = await startBenchWorkers(stack.env, pool, HOST_ID, process.env.STRATA_BENCH_LOG === 'INFO' ? 'INFO' : 'WARN');
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE });
  const cpu = await cpuProbe(stack.env.DATABASE_URL, stack.env.TEMPORAL_ADDRESS, { node: process.pid });
  const app = await buildApp({ pool, temporal, temporalConnection: connection, vault: workers.vault, dataDir: stack.dataDir });
  const installToken = issueToken().token;
  await ensureInstallAdmin(databaseSettings(process.env).adminUrl, installToken);
  try {
    const pristine = join(BASE, 'pristine');
    console.log(`[bench] ${FILES} files (half idle) in ${pristine}`);
    const rows = buildPristine(pristine);
    const best = { strata: 0, rclone: 0, moved: 0 };
    for (let run = 1; run <= RUNS; run++) {
      applyAlternative(run);
      const strata = await runStrata(app, temporal, pool, cpu, installToken, run, rows, pristine);
      const strataRate = strata.stubbed / (strata.planSeconds + strata.actSeconds);
      console.log(`[bench] run ${run} strata: planned ${strata.planned} in ${strata.planSeconds.toFixed(2)} s, acted on ${strata.stubbed} in ${strata.actSeconds.toFixed(2)} s`
        + ` (copy + SHA-256 verify + stub with xattrs): ${strataRate.toFixed(0)} files/s plan+act, ${(strata.stubbed / strata.actSeconds).toFixed(0)} files/s act alone`);
      if (strata.stubbed !== Math.ceil(FILES / 2)) throw new Error(`strata stubbed ${strata.stubbed} files of ${Math.ceil(FILES / 2)} idle`);
      console.log(`[bench] run ${run} strata plan ${strata.planCpu}; act ${strata.actCpu}`);
      best.strata = Math.max(best.strata, strataRate);
    }
    if (STRATA_ONLY) return;
    for (let run = 1; run <= RUNS; run++) {
      const rclone = await runRclone(run, pristine);
      const rcloneRate = rclone.moved / rclone.seconds;
      console.log(`[bench] run ${run} rclone move --min-age 365d --disable Move,DirMove: ${rclone.moved} files in ${rclone.seconds.toFixed(2)} s: ${rcloneRate.toFixed(0)} files/s, cpu ${rclone.cpu.toFixed(1)} s`);
      if (rclone.moved !== Math.ceil(FILES / 2)) throw new Error(`rclone moved ${rclone.moved} files of ${Math.ceil(FILES / 2)} idle`);
      best.rclone = Math.max(best.rclone, rcloneRate);
      best.moved = rclone.moved;
    }
    const ratio = best.strata / best.rclone;
    console.log(`[bench] best of ${RUNS}: strata ${best.strata.toFixed(0)} files/s, rclone ${best.rclone.toFixed(0)} files/s (${best.moved} of ${FILES} files idle), ratio ${ratio.toFixed(2)}`);
    console.log(JSON.stringify({ bench: 'tiering', files: FILES, strata_files_per_s: Math.round(best.strata), peer: 'rclone', peer_files_per_s: Math.round(best.rclone), ratio: Number(ratio.toFixed(3)) }));
  } finally {
    // The runs' trees go at the end, so no run starts right after the previous one's deletions.
    if (!KEEP) {
      for (let run = 1; run <= RUNS; run++) spawnSync('rm', ['-rf', join(BASE, `run${run}`)]);
      noteDeletion();
    }
    await app.close();
    await workers.stop();
    await connection.close();
    await pool.end();
    await stack.stop();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
