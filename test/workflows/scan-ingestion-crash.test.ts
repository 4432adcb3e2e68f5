// Kills the central worker process (SIGKILL) while it normalizes a chunk; a new
// worker takes over and the scan still ends OK with exact counts and no duplicates.
// The worker runs as a child process from dist/ (npm test builds it first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackEnv, startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi } from '../support/tenants';
import { csvRows, fileCount, newScanGuid, putChunk, seal, waitForScanEnd, waitUntil } from '../support/ingest-helpers';
import { projectRoot } from '../../lib/paths';

const WORKER = join(projectRoot(), 'dist', 'workers', 'central.js');
let harness: Harness;
const children: ChildProcess[] = [];

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [WORKER], { env: { ...process.env, ...loadStackEnv() }, stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (data: Buffer) => { errors = (errors + data.toString()).slice(-4000); });
  child.once('exit', (code, signal) => { if (code && code !== 0) console.error(`worker exited ${code} ${signal}: ${errors}`); });
  children.push(child);
  return child;
}

beforeAll(async () => {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build first`);
  harness = await startHarness({ workers: false });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((r) => child.once('exit', r)))));
  await harness.close();
});

const activeFileInsert = async () => (await harness.admin.query(
  `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO file%'`)).rowCount! > 0;

it('ends OK with exact counts when the worker is killed in the middle of normalizing', async () => {
  const first = startWorker();
  const tenant = await onboardViaApi(harness.app, await installAdminToken());
  const agent = await issueTokenViaApi(harness.app, tenant, 'scanner', 'agent');
  const guid = newScanGuid();
  const perChunk = 120_000;
  for (let seq = 0; seq < 2; seq++) {
    const answer = await putChunk(harness.app, { guid, seq, token: agent, body: csvRows(seq * perChunk, (seq + 1) * perChunk), gzip: true });
    expect(answer.statusCode).toBe(202);
  }
  expect((await seal(harness.app, agent, guid, 2)).statusCode).toBe(202);

  await waitUntil('a chunk being normalized', activeFileInsert, 90_000);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  // The killed worker's transaction is rolled back by Postgres once it notices the client is gone.
  await waitUntil('the killed session to end', async () => !(await activeFileInsert()), 60_000);
  const before = await harness.admin.query('SELECT count(*)::int AS n FROM ingest_chunk c JOIN scan s ON s.id = c.scan_id WHERE s.scan_guid = $1', [guid]);
  expect(before.rows[0].n).toBeLessThan(2);

  startWorker();
  const end = await waitForScanEnd(harness.app, agent, guid, 180_000);
  expect(end).toMatchObject({ status: 'OK', chunksIngested: 2, rowsIngested: 2 * perChunk });
  expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(2 * perChunk);
  const distinct = await harness.admin.query(
    `SELECT count(DISTINCT (f.dir_id, f.name))::int AS n FROM file f JOIN scan s ON s.id = f.scan_id WHERE s.scan_guid = $1`, [guid]);
  expect(distinct.rows[0].n).toBe(2 * perChunk);
}, 300_000);
