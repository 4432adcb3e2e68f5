// Bootstrap indexing with host workers in their own processes (dist/ must be built,
// as `npm test` does): a kill -9 mid-walk resumes from the last committed
// checkpoint with exact counts, and a directory the walker cannot open is reported
// and skipped. Root ignores permissions, so that worker runs without
// CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (setpriv), like an unprivileged agent.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { expectedEntries, spawnHostWorker, waitForPoller } from '../support/index-fixtures';
import { CORE_TASK_QUEUE, hostTaskQueue } from '../../temporal-config/task-queues';
import { bootstrapIndexWorkflowId, type BootstrapIndexInput, type BootstrapIndexResult } from '../../workflows/bootstrapIndex.messages';
import { FLAG_UNREADABLE } from '../../activities/index-rows';
import { escapeName } from '../../activities/index-names';

let harness: Harness;
let tenant: TestTenant;
let work: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  work = mkdtempSync(join(tmpdir(), 'strata-resume-'));
});

afterAll(async () => {
  await Promise.all(children.map(stopChild));
  await harness.close();
  chmodSync(work, 0o755);
  rmSync(work, { recursive: true, force: true });
});

/** SIGTERM (the worker shuts down gracefully), and SIGKILL if it is still there after a few seconds. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function startWorker(hostId: string, dropDac = false): Promise<ChildProcess> {
  const child = spawnHostWorker(harness.env, hostId, { dropDac });
  children.push(child);
  await waitForPoller(harness.temporal, hostTaskQueue(hostId));
  return child;
}

function startBootstrap(hostId: string, volume: string, extra: Partial<BootstrapIndexInput> = {}) {
  const input: BootstrapIndexInput = {
    tenantId: tenant.tenantId, tenantCode: tenant.code, hostId, volume, requestedBy: 'test',
    shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null }, ...extra,
  };
  return harness.temporal.workflow.start('bootstrapIndex', {
    workflowId: bootstrapIndexWorkflowId(tenant.code, hostId, volume), taskQueue: CORE_TASK_QUEUE, args: [input],
  });
}

async function committed(scanGuid: string | null): Promise<{ batches: number; entries: number }> {
  const result = await harness.admin.query(
    `SELECT coalesce(sum(p.batches), 0)::int AS batches, coalesce(sum(p.entries), 0)::int AS entries
       FROM index_partition p JOIN scan s ON s.id = p.scan_id WHERE s.tenant_id = $1 AND ($2::uuid IS NULL OR s.scan_guid = $2)`,
    [tenant.tenantId, scanGuid]);
  return result.rows[0];
}

describe('bootstrap indexing across host worker crashes', () => {
  it('resumes after kill -9 of the host worker and ends with exact counts', async () => {
    const volume = join(work, 'big');
    for (let top = 0; top < 3; top += 1) {
      for (let dir = 0; dir < 60; dir += 1) {
        const path = join(volume, `top${top}`, `dir${dir}`);
        mkdirSync(path, { recursive: true });
        for (let file = 0; file < 100; file += 1) writeFileSync(join(path, `file${file}.dat`), String(file));
      }
    }
    const expected = expectedEntries(volume);
    const first = await startWorker('crash-host');
    const handle = await startBootstrap('crash-host', volume, { batchRows: 400, parallelism: 2, heartbeatTimeoutSeconds: 3 });
    let atKill = { batches: 0, entries: 0 };
    while (atKill.batches < 6) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      atKill = await committed(null);
    }
    first.kill('SIGKILL');
    expect(atKill.entries).toBeLessThan(expected.size);
    const progress = await harness.app.inject({
      method: 'GET', url: `/api/v1/index/${encodeURIComponent(handle.workflowId)}`, headers: { authorization: `Bearer ${tenant.adminToken}` },
    });
    expect(progress.json()).toMatchObject({ runStatus: 'RUNNING', phase: 'walking', scan: { status: 'RUNNING' } });
    expect(progress.json().progress.entries).toBeGreaterThanOrEqual(atKill.entries);
    expect(progress.json().progress.estimatedEntries).toBeGreaterThan(0);
    await startWorker('crash-host');
    const result: BootstrapIndexResult = await handle.result();
    expect(result.entries).toBe(expected.size);
    const rows = await harness.admin.query(
      `SELECT count(*)::int AS n, count(DISTINCT file_ref)::int AS refs FROM file WHERE scan_id = $1`, [result.scanId]);
    expect(rows.rows[0]).toEqual({ n: expected.size, refs: expected.size });
    const partitions = await harness.admin.query(`SELECT count(*) FILTER (WHERE status <> 'DONE')::int AS open FROM index_partition WHERE scan_id = $1`, [result.scanId]);
    expect(partitions.rows[0].open).toBe(0);
    const history = await handle.fetchHistory();
    const retried = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried.length).toBeGreaterThan(0);
  }, 240_000);

  it('reports and skips a directory it cannot open, indexing everything else', async () => {
    const volume = join(work, 'locked-volume');
    mkdirSync(join(volume, 'open', 'inner'), { recursive: true });
    writeFileSync(join(volume, 'open', 'inner', 'readable.txt'), 'ok');
    mkdirSync(join(volume, 'locked'));
    writeFileSync(join(volume, 'locked', 'hidden.txt'), 'hidden');
    chmodSync(join(volume, 'locked'), 0o000);
    await startWorker('nocap-host', true);
    const handle = await startBootstrap('nocap-host', volume);
    const result: BootstrapIndexResult = await handle.result();
    expect(result).toMatchObject({ status: 'WARN', issues: 1, entries: 5 });
    const issues = await harness.admin.query('SELECT path, code FROM index_issue WHERE scan_id = $1', [result.scanId]);
    expect(issues.rows).toEqual([{ path: escapeName(Buffer.from(join(volume, 'locked'))), code: 'EACCES' }]);
    const locked = await harness.admin.query(
      `SELECT f.flags FROM file f JOIN dir d ON d.id = f.dir_id WHERE f.scan_id = $1 AND d.dir_path = $2 AND f.name = 'locked'`, [result.scanId, volume]);
    expect(locked.rows[0].flags & FLAG_UNREADABLE).toBe(FLAG_UNREADABLE);
    const scan = await harness.admin.query('SELECT status, status_reason FROM scan WHERE id = $1', [result.scanId]);
    expect(scan.rows[0]).toMatchObject({ status: 'WARN', status_reason: expect.stringMatching(/could not be read/) });
    const progress = await harness.app.inject({
      method: 'GET', url: `/api/v1/index/${encodeURIComponent(handle.workflowId)}`, headers: { authorization: `Bearer ${tenant.adminToken}` },
    });
    expect(progress.json().issues).toEqual([expect.objectContaining({ code: 'EACCES', message: expect.stringMatching(/Permission denied/) })]);
  }, 120_000);
});
