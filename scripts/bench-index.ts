// Bootstrap indexing benchmark: the bootstrapIndex workflow end to end (shares,
// parallel FFI walk with ACLs, COPY into the indexed `file` table, stats) against
// `find -printf | psql \copy` into a table of the same columns, on one tree of
// 200,000 files with a few hundred distinct ACLs (setfacl, Debian package `acl`).
// `npm run bench:index -- [--runs 3] [--parallelism 2] [--batch-rows 100000] [--what-if-no-fk] [--timeline]`.
// --timeline prints each run's workflow activity by activity (see bench-timeline.ts).
// --what-if-no-fk drops the foreign keys of `file` in the benchmark's own
// throwaway database first, to show what they cost (reported as a variant).
// Each run also prints the CPU each side used and the highest ratio that CPU allows on
// this machine's cores. The last line printed is one JSON object with both rates and their ratio.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { createAppPool } from '../db/pool';
import { CORE_TASK_QUEUE } from '../temporal-config/task-queues';
import { bootstrapIndexWorkflowId, type BootstrapIndexInput, type BootstrapIndexResult } from '../workflows/bootstrapIndex.messages';
import { childrenCpuSeconds, cpuBoundLine, cpuDelta, cpuProbe, cpuSeconds } from './bench-cpu';
import { buildIndexTree } from './bench-index-tree';
import { activityTimeline } from './bench-timeline';
import { startBenchWorkers } from './bench-workers';
import { startStack } from './stack/stack';

const HOST_ID = 'bench-host';

interface Options { runs: number; parallelism: number; batchRows: number; root: string; noForeignKeys: boolean; timeline: boolean }

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
  return {
    runs: Number(value('runs', '3')), parallelism: Number(value('parallelism', '2')), batchRows: Number(value('batch-rows', '100000')),
    root: value('tree', join(tmpdir(), 'strata-bench-index')), noForeignKeys: argv.includes('--what-if-no-fk'), timeline: argv.includes('--timeline'),
  };
}

function warm(tree: string): number {
  const out = spawnSync('sh', ['-c', `find ${tree} | wc -l`], { encoding: 'utf8' });
  return Number(out.stdout.trim());
}

async function runStrata(temporal: Client, tenant: { id: string; code: string }, tree: string, options: Options): Promise<{ seconds: number; result: BootstrapIndexResult }> {
  const input: BootstrapIndexInput = {
    tenantId: tenant.id, tenantCode: tenant.code, hostId: HOST_ID, volume: tree, requestedBy: 'bench', parallelism: options.parallelism,
    batchRows: options.batchRows, shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null },
  };
  const started = process.hrtime.bigint();
  const result: BootstrapIndexResult = await temporal.workflow.execute('bootstrapIndex', {
    workflowId: bootstrapIndexWorkflowId(tenant.code, HOST_ID, tree), taskQueue: CORE_TASK_QUEUE, args: [input],
  });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

function runPeer(adminUrl: string, tree: string): { seconds: number; rows: number; cpu: number } {
  const cpuBefore = childrenCpuSeconds();
  const copy = `\\copy peer_file (file_ref, dir_path, name, size_bytes, mtime, mode) FROM STDIN WITH (FORMAT text, DELIMITER ' ')`;
  const started = process.hrtime.bigint();
  const done = spawnSync('bash', ['-o', 'pipefail', '-c', `find ${tree} -printf '%i %h %f %s %T@ %m\\n' | psql -v ON_ERROR_STOP=1 "${adminUrl}" -c "${copy}"`], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (done.status !== 0) throw new Error(`find | psql failed: ${done.stderr}`);
  return { seconds, rows: Number(/COPY (\d+)/.exec(done.stdout)?.[1] ?? 0), cpu: childrenCpuSeconds() - cpuBefore };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  console.log(`[bench] tree: ${options.root} (building it the first time takes a minute)`);
  const tree = buildIndexTree(options.root);
  const stack = await startStack('test', { ...process.env, STRATA_TEST_SLOT: process.env.STRATA_TEST_SLOT ?? '8' });
  Object.assign(process.env, stack.env);
  const admin = new PgClient({ connectionString: stack.env.DATABASE_URL });
  await admin.connect();
  const pool = createAppPool(12, stack.env);
  const workers = await startBenchWorkers(stack.env, pool, HOST_ID);
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE });
  // The workers run in this process (threads included), so its own CPU is theirs.
  const cpu = await cpuProbe(stack.env.DATABASE_URL, stack.env.TEMPORAL_ADDRESS, { node: process.pid });
  try {
    const tenant = { id: randomUUID(), code: `bench-${randomUUID().slice(0, 8)}` };
    await admin.query(`INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'Bench', 'none', 'vault:v1:bench')`, [tenant.id, tenant.code]);
    if (options.noForeignKeys) {
      const keys = await admin.query(`SELECT conname FROM pg_constraint WHERE conrelid = 'file'::regclass AND contype = 'f'`);
      for (const { conname } of keys.rows) await admin.query(`ALTER TABLE file DROP CONSTRAINT ${conname}`);
    }
    await admin.query(`CREATE TABLE peer_file (file_ref bigint, dir_path text, name text, size_bytes bigint, mtime double precision, mode text)`);
    const strata: number[] = [];
    const peer: number[] = [];
    let files = 0;
    let previousScan: number | null = null;
    for (let run = 1; run <= options.runs; run += 1) {
      if (previousScan !== null) await admin.query('DELETE FROM scan WHERE id = $1', [previousScan]);
      await admin.query('TRUNCATE peer_file');
      await admin.query('VACUUM ANALYZE file');
      await admin.query('CHECKPOINT');
      files = warm(tree);
      const strataCpuBefore = await cpu.sample();
      const a = await runStrata(temporal, tenant, tree, options);
      const strataCpuAfter = await cpu.sample();
      previousScan = a.result.scanId;
      if (a.result.entries !== files) throw new Error(`indexed ${a.result.entries} entries, find sees ${files}`);
      await admin.query('CHECKPOINT');
      warm(tree);
      const peerCpuBefore = await cpu.sample();
      const b = runPeer(stack.env.DATABASE_URL, tree);
      const peerPostgres = (await cpu.sample()).postgres - peerCpuBefore.postgres;
      if (b.rows !== files) throw new Error(`peer loaded ${b.rows} rows, find sees ${files}`);
      strata.push(files / a.seconds);
      peer.push(files / b.seconds);
      const descriptors = (await admin.query('SELECT count(*)::int AS n FROM security_descriptor WHERE tenant_id = $1', [tenant.id])).rows[0].n;
      console.log(`[bench] run ${run}: strata ${a.seconds.toFixed(2)} s (${Math.round(files / a.seconds)} entries/s, ${a.result.partitions} partitions, ${descriptors} descriptors), `
        + `find+copy ${b.seconds.toFixed(2)} s (${Math.round(files / b.seconds)} entries/s)`);
      const strataCpu = cpuSeconds(strataCpuBefore, strataCpuAfter);
      console.log(`[bench] run ${run} strata ${cpuDelta(strataCpuBefore, strataCpuAfter)}; find+copy cpu ${(b.cpu + peerPostgres).toFixed(1)} s `
        + `(find, psql ${b.cpu.toFixed(1)}, postgres ${peerPostgres.toFixed(1)}); ${cpuBoundLine(strataCpu, b.seconds)}`);
      if (options.timeline) {
        const id = bootstrapIndexWorkflowId(tenant.code, HOST_ID, tree);
        for (const line of await activityTimeline(temporal, id)) console.log(`[bench] run ${run} timeline: ${line}`);
      }
    }
    const best = (rates: number[]) => Math.round(Math.max(...rates));
    const x = best(strata);
    const y = best(peer);
    console.log(`[bench] best of ${options.runs}: strata ${x} entries/s, find+copy ${y} entries/s, ratio ${(x / y).toFixed(2)}`);
    const variant = options.noForeignKeys ? { variant: 'file without foreign keys' } : {};
    console.log(JSON.stringify({ bench: 'index', files, strata_files_per_s: x, peer: 'find+copy', peer_files_per_s: y, ratio: Number((x / y).toFixed(3)), ...variant }));
  } finally {
    await workers.stop();
    await connection.close();
    await pool.end();
    await admin.end();
    await stack.stop();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
