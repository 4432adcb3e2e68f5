// Remediation benchmark on identical copies of one tree (N files, a few hundred
// distinct ACLs, 70% already compliant), both warmed the same way (`getfacl -R` just
// before their measurement), rates counting the tree's entries on both sides:
// (a) apply: the remediation workflow end to end through Temporal, timed from its
//     start to its completion (plan, approval by the bench at once, snapshot of every
//     file to change into Postgres, apply with read-back verification, index rows
//     moved, run completed), against the careful manual equivalent: `getfacl -R -p -n`
//     to a snapshot file, then the same change with `setfacl -R` (no verification, no
//     index, nothing made durable);
// (b) rollback: from Update `rollback` to the workflow's end (every changed file back
//     bit for bit, index rows restored), against `setfacl --restore` of that snapshot.
// The bench checks that both sides end with the same ACLs and that the rollback
// restores `getfacl -R` exactly. Waits poll Postgres, not the workflow, so the poll
// does not load the worker being measured.
// `npm run bench:remediate -- [--files 200000] [--runs 1] [--parallelism 4] [--batch-size 5000] [--timeline]`
// (ports and data dir from STRATA_TEST_SLOT, default 9; STRATA_BENCH_LOG=INFO shows the
// workers' per-batch timings; --timeline prints each run's workflow activity by
// activity). Each run also prints the CPU strata used, by phase, and the peer's, with
// the highest ratio that CPU allows on this machine's cores. The last line printed is one
// JSON object with the best rates of all runs and their ratios.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { createAppPool } from '../db/pool';
import { CORE_TASK_QUEUE } from '../temporal-config/task-queues';
import { bootstrapIndexWorkflowId, type BootstrapIndexInput } from '../workflows/bootstrapIndex.messages';
import {
  executeUpdate, remediationWorkflowId, rollbackUpdate, statusQuery, type RemediationInput, type RemediationStatus,
} from '../workflows/remediation.messages';
import { childrenCpuSeconds, cpuBoundLine, cpuDelta, cpuProbe, cpuSeconds, type CpuProbe } from './bench-cpu';
import { activityTimeline } from './bench-timeline';
import { startBenchWorkers } from './bench-workers';
import { startStack } from './stack/stack';

const HOST_ID = 'bench-host';
const FILES_PER_DIR = 50;
const DISTINCT_ACLS = 300;
const COMPLIANT_SHARE = 0.7;
const REMOVED_UID = 1999;
const ADDED_GID = 3999;
const TREE_VERSION = 'tree-v1';

interface Options { files: number; runs: number; parallelism: number; batchSize: number; base: string; timeline: boolean }

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
  return {
    files: Number(value('files', '200000')), runs: Number(value('runs', '1')), parallelism: Number(value('parallelism', '4')),
    batchSize: Number(value('batch-size', '5000')), base: value('dir', join(tmpdir(), 'strata-bench-remediate')),
    timeline: argv.includes('--timeline'),
  };
}

function run(command: string, args: string[], input?: string): { seconds: number; stdout: string } {
  const started = process.hrtime.bigint();
  const done = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, input });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (done.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} failed: ${done.stderr}`);
  return { seconds, stdout: done.stdout };
}

/** ACL k of DISTINCT_ACLS: the first 70% comply (group added, no removed user, no world bits), the rest do not. */
function aclSpec(k: number): { spec: string; mode: number } {
  if (k < DISTINCT_ACLS * COMPLIANT_SHARE) return { spec: `u:${2000 + k}:r,g:${ADDED_GID}:r`, mode: 0o640 };
  return { spec: `u:${2000 + k}:r,u:${REMOVED_UID}:r`, mode: 0o644 };
}

/** Leaf directories of FILES_PER_DIR files, 100 leaves per parent; the ACL of a leaf's files is by leaf number. */
function buildTemplate(base: string, files: number): string {
  const template = join(base, 'template');
  const marker = join(base, `${TREE_VERSION}-${files}`);
  if (existsSync(marker)) return template;
  rmSync(base, { recursive: true, force: true });
  const leaves = Math.ceil(files / FILES_PER_DIR);
  const byAcl = new Map<number, string[]>();
  const dirs: string[] = [];
  for (let leaf = 0; leaf < leaves; leaf += 1) {
    const dir = join(template, `p${Math.floor(leaf / 100)}`, `l${leaf}`);
    mkdirSync(dir, { recursive: true });
    dirs.push(dir);
    const k = leaf % DISTINCT_ACLS;
    const paths = byAcl.get(k) ?? [];
    for (let f = 0; f < Math.min(FILES_PER_DIR, files - leaf * FILES_PER_DIR); f += 1) {
      const path = join(dir, `f${f}`);
      closeSync(openSync(path, 'w', aclSpec(k).mode));
      paths.push(path);
    }
    byAcl.set(k, paths);
  }
  for (const [k, paths] of byAcl) {
    for (let i = 0; i < paths.length; i += 2000) run('setfacl', ['-m', aclSpec(k).spec, '--', ...paths.slice(i, i + 2000)]);
  }
  // Directories comply: the bench measures files, as the tree does.
  run('sh', ['-c', `find ${template} -type d -print0 | xargs -0 chmod 750 && find ${template} -type d -print0 | xargs -0 setfacl -m g:${ADDED_GID}:r`]);
  writeFileSync(marker, new Date().toISOString());
  return template;
}

function entries(tree: string): number {
  return Number(run('sh', ['-c', `find ${tree} | wc -l`]).stdout.trim());
}

async function until(handle: WorkflowHandle, done: (status: RemediationStatus) => boolean): Promise<RemediationStatus> {
  for (;;) {
    const status = await handle.query(statusQuery);
    if (done(status)) return status;
    if (status.outcome && status.outcome !== 'COMPLETED') throw new Error(`remediation ended ${status.outcome}: ${JSON.stringify(status.counters)}`);
    if (status.phase === 'done') throw new Error(`remediation ended without a rollback window (nothing to change?): ${JSON.stringify(status.report ?? status.counters)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits for the run row to reach one of the statuses (a cheap primary-key read every 10 ms). */
async function untilRun(admin: PgClient, runId: string, statuses: string[]): Promise<{ status: string; reportHash: string | null }> {
  for (;;) {
    const row = (await admin.query('SELECT status, report_hash AS "reportHash" FROM remediation_run WHERE id = $1', [runId])).rows[0];
    if (row && statuses.includes(row.status)) return row;
    if (row && ['FAILED', 'ROLLED_BACK', 'REJECTED', 'EXPIRED'].includes(row.status)) throw new Error(`remediation ended ${row.status}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Tenant { id: string; code: string }

async function runStrata(temporal: Client, admin: PgClient, cpu: CpuProbe, tenant: Tenant, tree: string, options: Options) {
  const runId = randomUUID();
  const input: RemediationInput = {
    tenantId: tenant.id, tenantCode: tenant.code, runId, requestedBy: 'bench-op', scope: { hostId: HOST_ID, pathPrefix: tree },
    policy: { remove: [{ kind: 'other' }, { kind: 'user', id: REMOVED_UID }], add: [{ principal: { kind: 'group', id: ADDED_GID }, perm: 4 }], preserve: [] },
    options: { parallelism: options.parallelism, batchSize: options.batchSize, fsSnapshot: true },
  };
  run('getfacl', ['-R', '-p', '-n', tree]);
  const cpuStarted = await cpu.sample();
  const started = process.hrtime.bigint();
  const handle = await temporal.workflow.start('remediation', { workflowId: remediationWorkflowId(tenant.code, runId), taskQueue: CORE_TASK_QUEUE, args: [input] });
  const planned = await untilRun(admin, runId, ['AWAITING_APPROVAL']);
  const cpuPlanned = await cpu.sample();
  await handle.executeUpdate(executeUpdate, { args: [{ approver: 'bench-ap', role: 'approver', reportHash: planned.reportHash! }] });
  await untilRun(admin, runId, ['APPLYING', 'VERIFYING', 'COMPLETED']);
  const cpuSnapshotted = await cpu.sample();
  await untilRun(admin, runId, ['COMPLETED']);
  const completed = await until(handle, (s) => s.outcome === 'COMPLETED' && s.phase === 'window');
  const applySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuApplied = await cpu.sample();
  const after = run('getfacl', ['-R', '-p', '-n', tree]).stdout;
  const cpuRollbackStarted = await cpu.sample();
  const rollbackStarted = process.hrtime.bigint();
  await handle.executeUpdate(rollbackUpdate, { args: [{ requestedBy: 'bench-op', role: 'operator', reason: 'benchmark' }] });
  await handle.result();
  const rolled = await handle.query(statusQuery);
  if (rolled.outcome !== 'ROLLED_BACK') throw new Error(`rollback ended ${rolled.outcome}`);
  const rollbackSeconds = Number(process.hrtime.bigint() - rollbackStarted) / 1e9;
  const cpuRolledBack = await cpu.sample();
  if (options.timeline) for (const line of await activityTimeline(temporal, handle.workflowId)) console.log(`[bench]   timeline: ${line}`);
  const cpuUse = { apply: [cpuStarted, cpuApplied], rollback: [cpuRollbackStarted, cpuRolledBack] } as const;
  const phaseCpu = `plan ${cpuDelta(cpuStarted, cpuPlanned)}; approval and snapshot ${cpuDelta(cpuPlanned, cpuSnapshotted)}; `
    + `apply, verify and index ${cpuDelta(cpuSnapshotted, cpuApplied)}`;
  return { applySeconds, rollbackSeconds, completed, rolled, after, cpuUse, phaseCpu };
}

function runPeer(tree: string, snapshot: string) {
  run('getfacl', ['-R', '-p', '-n', tree]);
  const cpuStarted = childrenCpuSeconds();
  const dump = run('sh', ['-c', `getfacl -R -p -n ${tree} > ${snapshot}`]);
  const change = run('setfacl', ['-R', '-x', `u:${REMOVED_UID}`, '-m', `g:${ADDED_GID}:r,o::-`, tree]);
  const applyCpu = childrenCpuSeconds() - cpuStarted;
  const after = run('getfacl', ['-R', '-p', '-n', tree]).stdout;
  const restoreStarted = childrenCpuSeconds();
  const restore = run('setfacl', [`--restore=${snapshot}`]);
  const restoreCpu = childrenCpuSeconds() - restoreStarted;
  return { applySeconds: dump.seconds + change.seconds, dump: dump.seconds, change: change.seconds, restoreSeconds: restore.seconds, after, applyCpu, restoreCpu };
}

const normalized = (dump: string, tree: string) => dump.split(tree).join('<tree>').split('\n\n').filter(Boolean).sort().join('\n\n');

async function setupTenant(admin: PgClient): Promise<Tenant> {
  const tenant = { id: randomUUID(), code: `bench-${randomUUID().slice(0, 8)}` };
  await admin.query(`INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'Bench', 'none', 'vault:v1:bench')`, [tenant.id, tenant.code]);
  await admin.query(`INSERT INTO app_user (tenant_id, name, role) VALUES ($1, 'bench-op', 'operator'), ($1, 'bench-ap', 'approver')`, [tenant.id]);
  return tenant;
}

async function indexTree(temporal: Client, tenant: Tenant, tree: string): Promise<void> {
  const input: BootstrapIndexInput = {
    tenantId: tenant.id, tenantCode: tenant.code, hostId: HOST_ID, volume: tree, requestedBy: 'bench', parallelism: 2, batchRows: 100_000,
    shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null },
  };
  await temporal.workflow.execute('bootstrapIndex', { workflowId: bootstrapIndexWorkflowId(tenant.code, HOST_ID, tree), taskQueue: CORE_TASK_QUEUE, args: [input] });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  // Leaves take the ACLs in order and the first 70% comply: a smaller tree has no file to change.
  const minFiles = DISTINCT_ACLS * COMPLIANT_SHARE * FILES_PER_DIR + 1;
  if (!(options.files >= minFiles)) throw new Error(`--files ${options.files}: at least ${minFiles} are needed for the tree to have files to change`);
  if (spawnSync('setfacl', ['--version']).status !== 0) throw new Error('setfacl is missing: apt-get install acl');
  console.log(`[bench] building the template tree of ${options.files} files in ${options.base} (once)`);
  const template = buildTemplate(options.base, options.files);
  const stack = await startStack('test', { ...process.env, STRATA_TEST_SLOT: process.env.STRATA_TEST_SLOT ?? '9' });
  Object.assign(process.env, stack.env);
  const admin = new PgClient({ connectionString: stack.env.DATABASE_URL });
  await admin.connect();
  const pool = createAppPool(16, stack.env);
  const workers = await startBenchWorkers(stack.env, pool, HOST_ID, process.env.STRATA_BENCH_LOG === 'INFO' ? 'INFO' : 'WARN');
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE });
  // The workers run in this process (threads included), so its own CPU is theirs.
  const cpu = await cpuProbe(stack.env.DATABASE_URL, stack.env.TEMPORAL_ADDRESS, { node: process.pid });
  const results: { a: number; s: number; r: number; t: number }[] = [];
  let files = 0;
  try {
    for (let r = 1; r <= options.runs; r += 1) {
      const tenant = await setupTenant(admin);
      const [treeA, treeB] = [join(options.base, `a${r}`), join(options.base, `b${r}`)];
      for (const tree of [treeA, treeB]) { rmSync(tree, { recursive: true, force: true }); run('cp', ['-a', template, tree]); }
      await indexTree(temporal, tenant, treeA);
      const beforeA = run('getfacl', ['-R', '-p', '-n', treeA]).stdout;
      await admin.query('VACUUM ANALYZE');
      await admin.query('CHECKPOINT');
      files = entries(treeA);
      const load = loadavg()[0].toFixed(2);
      const strata = await runStrata(temporal, admin, cpu, tenant, treeA, options);
      if (normalized(run('getfacl', ['-R', '-p', '-n', treeA]).stdout, treeA) !== normalized(beforeA, treeA)) throw new Error('strata rollback did not restore the tree bit for bit');
      const peer = runPeer(treeB, join(options.base, `snapshot-${r}.acl`));
      const report = strata.completed.report!;
      const same = normalized(peer.after, treeB) === normalized(strata.after, treeA) ? 'identical' : 'different';
      console.log(`[bench] run ${r}: ${files} entries, ${report.toChange} to change (${report.alreadyCompliant} compliant), ${report.uniqueDescriptors} descriptors, ${report.transformations} transformations`);
      console.log(`[bench]   strata apply ${strata.applySeconds.toFixed(2)} s (phases ms ${JSON.stringify(strata.completed.timings)}; fs snapshot: ${strata.completed.fsSnapshot?.kind} - ${strata.completed.fsSnapshot?.reason})`);
      console.log(`[bench]   peer getfacl ${peer.dump.toFixed(2)} s + setfacl -R ${peer.change.toFixed(2)} s = ${peer.applySeconds.toFixed(2)} s; result vs strata's: ${same}`);
      console.log(`[bench]   strata rollback ${strata.rollbackSeconds.toFixed(2)} s (restored ${strata.rolled.counters.restored}); setfacl --restore ${peer.restoreSeconds.toFixed(2)} s`);
      console.log(`[bench]   apply by phase: ${strata.phaseCpu}`);
      for (const [phase, peerWall, peerCpu] of [['apply', peer.applySeconds, peer.applyCpu], ['rollback', peer.restoreSeconds, peer.restoreCpu]] as const) {
        const [before, after] = strata.cpuUse[phase];
        console.log(`[bench]   ${phase} strata ${cpuDelta(before, after)}; peer cpu ${peerCpu.toFixed(1)} s; ${cpuBoundLine(cpuSeconds(before, after), peerWall)}`);
      }
      const result = { a: files / strata.applySeconds, s: files / peer.applySeconds, r: files / strata.rollbackSeconds, t: files / peer.restoreSeconds };
      console.log(`[bench]   run ${r}: apply ${Math.round(result.a)} vs ${Math.round(result.s)} files/s (ratio ${(result.a / result.s).toFixed(2)}); rollback ${Math.round(result.r)} vs ${Math.round(result.t)} files/s (ratio ${(result.r / result.t).toFixed(2)}); load average ${load} before, ${loadavg()[0].toFixed(2)} after`);
      results.push(result);
      for (const tree of [treeA, treeB]) rmSync(tree, { recursive: true, force: true });
    }
  } finally {
    await workers.stop();
    await connection.close();
    await pool.end();
    await admin.end();
    await stack.stop();
  }
  const best = (key: 'a' | 's' | 'r' | 't') => Math.round(Math.max(...results.map((x) => x[key])));
  const [A, S, R, T] = [best('a'), best('s'), best('r'), best('t')];
  console.log(`[bench] best of ${options.runs}: apply ${A} files/s vs peer ${S} (ratio ${(A / S).toFixed(2)}); rollback ${R} files/s vs setfacl --restore ${T} (ratio ${(R / T).toFixed(2)})`);
  console.log(JSON.stringify({
    bench: 'remediate', files, apply_files_per_s: A, peer_apply_files_per_s: S, apply_ratio: Number((A / S).toFixed(3)),
    rollback_files_per_s: R, peer_restore_files_per_s: T, rollback_ratio: Number((R / T).toFixed(3)),
  }));
}

main().catch((error) => { console.error(error); process.exit(1); });
