// Operating an act run: pause, resume and cancel through the api (signals to the
// workflow), the per-run maximum, and the automatic stop when too many files fail.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STRATA_PHASE } from '../../temporal-config/search-attributes';
import { startHarness, type Harness } from '../support/harness';
import { maybeRecordHistory } from '../support/histories';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import {
  assertNothingLost, buildTree, configureShare, loadScan, makeRoots, planShare, scanRowsOf, startRun, tierRows, type Roots, type TreeFile,
} from '../support/tiering-tree';
import { objectKey } from '../../lib/target-uri';

let harness: Harness;
let tenant: TestTenant;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
});
afterAll(async () => harness.close());

const bearer = () => ({ authorization: `Bearer ${tenant.adminToken}` });
const tree = (count: number): TreeFile[] => Array.from({ length: count }, (_v, i) => ({ relPath: `dir${i % 4}/f${i}.dat`, size: 50 + i, idleDays: 600 }));

async function plannedShare(share: string, files: TreeFile[]): Promise<{ roots: Roots; planId: string }> {
  const roots = makeRoots(share);
  buildTree(roots.source, files);
  await loadScan(harness.pool, tenant.tenantId, share, scanRowsOf(roots.source, files));
  await configureShare(harness.app, tenant.adminToken, share, { hostId: harness.hostId, roots });
  return { roots, planId: (await planShare(harness.app, harness.temporal, tenant.adminToken, share)).planId };
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const stubbedCount = async (share: string) => (await tierRows(harness.admin, tenant.tenantId, "share_name = $2 AND state = 'STUBBED'", [share])).length;
const signal = (actionId: string, name: string) => harness.app.inject({ method: 'POST', url: `/api/v1/tiering/actions/${actionId}/${name}`, headers: bearer(), payload: { reason: `test ${name}` } });

describe('run control', () => {
  it('pauses (nothing moves), resumes, and cancels a paced run; a new run finishes the plan', async () => {
    const files = tree(200);
    const { roots, planId } = await plannedShare('control', files);
    const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`,
      { options: { pacing: { filesPerSecond: 10 }, waveSize: 5, heartbeatTimeoutSeconds: 5 } });
    const handle = harness.temporal.workflow.getHandle(run.workflowId);
    await until('some files stubbed', () => stubbedCount('control'), (n) => n >= 10);
    expect((await signal(run.actionId, 'pause')).statusCode).toBe(202);
    await until('paused', () => handle.query<{ phase: string }>('status'), (s) => s.phase === 'paused');
    const whilePaused = await stubbedCount('control');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await stubbedCount('control')).toBe(whilePaused);
    const view = await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/actions/${run.actionId}`, headers: bearer() });
    expect(view.json()).toMatchObject({ status: 'in_progress', live: { phase: 'paused', paused: true } });
    expect((await harness.temporal.workflow.getHandle(run.workflowId).describe()).typedSearchAttributes.get(STRATA_PHASE)).toBe('paused');
    expect((await signal(run.actionId, 'resume')).statusCode).toBe(202);
    await until('moving again', () => stubbedCount('control'), (n) => n > whilePaused + 5);
    expect((await signal(run.actionId, 'cancel')).statusCode).toBe(202);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'failed', stopReason: 'cancelled' });
    await maybeRecordHistory('tieringAct-paused-cancelled', handle);
    const stubbed = await stubbedCount('control');
    expect(stubbed).toBeGreaterThan(whilePaused);
    expect(stubbed).toBeLessThan(files.length);
    expect(assertNothingLost(roots, files)).toEqual({ stubs: stubbed, originals: files.length - stubbed });
    const events = await harness.admin.query('SELECT event, to_status FROM action_event WHERE action_id = $1 ORDER BY id', [run.actionId]);
    expect(events.rows.map((r) => `${r.event}:${r.to_status}`)).toEqual([
      'created:queued', 'status:preflight', 'status:in_progress', 'paused:in_progress', 'resumed:in_progress',
      'cancel-requested:in_progress', 'status:verifying', 'status:failed',
    ]);
    expect((await harness.temporal.workflow.getHandle(run.workflowId).describe()).typedSearchAttributes.get(STRATA_PHASE)).toBe('cancelled');
    expect((await signal(run.actionId, 'pause')).statusCode).toBe(409);

    const again = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
    expect(await harness.temporal.workflow.getHandle(again.workflowId).result()).toMatchObject({ status: 'completed', summary: { stubbed: files.length - stubbed } });
    expect(assertNothingLost(roots, files)).toEqual({ stubs: files.length, originals: 0 });
  });

  it('continues as new on long runs (act and rehydrate) and still finishes exactly once per file', async () => {
    const files = tree(30);
    const { roots, planId } = await plannedShare('long', files);
    const options = { batchSize: 2, waveSize: 1, historyLimit: 60 };
    const act = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options });
    const handle = harness.temporal.workflow.getHandle(act.workflowId);
    const firstRunId = (await handle.describe()).runId;
    expect(await handle.result()).toMatchObject({ status: 'completed', summary: { stubbed: 30, failed: 0 } });
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    expect(assertNothingLost(roots, files)).toEqual({ stubs: 30, originals: 0 });
    const back = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate', { planId, options });
    const rehydrated = harness.temporal.workflow.getHandle(back.workflowId);
    const firstRehydrateRun = (await rehydrated.describe()).runId;
    expect(await rehydrated.result()).toMatchObject({ status: 'completed', summary: { rehydrated: 30, failed: 0 } });
    expect((await rehydrated.describe()).runId).not.toBe(firstRehydrateRun);
    expect(assertNothingLost(roots, files)).toEqual({ stubs: 0, originals: 30 });
  });

  it('stops at the per-run maximum as completed', async () => {
    const files = tree(12);
    const { planId } = await plannedShare('capped', files);
    const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options: { maxFiles: 5, waveSize: 2 } });
    expect(await harness.temporal.workflow.getHandle(run.workflowId).result()).toMatchObject({ status: 'completed', stopReason: 'max-per-run', summary: { stubbed: 5 } });
    expect(await stubbedCount('capped')).toBe(5);
  });

  it('stops at the per-run byte maximum, moving only the files that fit in order', async () => {
    const files = tree(12);
    const { planId } = await plannedShare('byte-capped', files);
    const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options: { maxBytes: 200, waveSize: 2 } });
    expect(await harness.temporal.workflow.getHandle(run.workflowId).result()).toMatchObject({ status: 'completed', stopReason: 'max-per-run', summary: { stubbed: 3 } });
    const stubbed = await tierRows(harness.admin, tenant.tenantId, "share_name = $2 AND state = 'STUBBED'", ['byte-capped']);
    expect(stubbed.map((row) => Number(row.size_bytes)).sort()).toEqual([50, 51, 52]);
  });

  it('holds a bytes-per-second rate: after a one-second burst, each file waits for the bucket', async () => {
    const files = Array.from({ length: 6 }, (_v, i) => ({ relPath: `paced/f${i}.dat`, size: 1000, idleDays: 600 }));
    const { roots, planId } = await plannedShare('byte-paced', files);
    const started = Date.now();
    const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options: { pacing: { bytesPerSecond: 2000 }, waveSize: 1 } });
    expect(await harness.temporal.workflow.getHandle(run.workflowId).result()).toMatchObject({ status: 'completed', summary: { stubbed: 6 } });
    // A file may start while the bucket is positive: three start at once (the 2,000-byte burst, then 1,000 bytes of
    // debt), the others at 0.5, 1.0 and 1.5 s. Unpaced, six small files take a fraction of that.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(assertNothingLost(roots, files)).toEqual({ stubs: 6, originals: 0 });
  });

  it('fails at preflight, naming the host, when no worker of the share\'s host picks the run up', async () => {
    const roots = makeRoots('unhosted');
    const files = tree(3);
    buildTree(roots.source, files);
    await loadScan(harness.pool, tenant.tenantId, 'unhosted', scanRowsOf(roots.source, files));
    await configureShare(harness.app, tenant.adminToken, 'unhosted', { hostId: 'tier-host-not-connected', roots });
    const { planId } = await planShare(harness.app, harness.temporal, tenant.adminToken, 'unhosted');
    const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options: { hostWaitSeconds: 2 } });
    expect(await harness.temporal.workflow.getHandle(run.workflowId).result()).toMatchObject({
      status: 'failed', stopReason: 'preflight',
      summary: { problems: ['host tier-host-not-connected did not pick up the work within 2 s: no strata host worker polls strata-host.tier-host-not-connected'] },
    });
    expect(await stubbedCount('unhosted')).toBe(0);
  });

  it('fails a rehydrate, naming the host, when the share has moved to a host with no worker; the stubs stay', async () => {
    const files = tree(4);
    const { roots, planId } = await plannedShare('moved', files);
    const act = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
    expect(await harness.temporal.workflow.getHandle(act.workflowId).result()).toMatchObject({ status: 'completed', summary: { stubbed: 4 } });
    await configureShare(harness.app, tenant.adminToken, 'moved', { hostId: 'rehydrate-host-not-connected', roots });
    const back = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate', { planId, options: { hostWaitSeconds: 2 } });
    await expect(harness.temporal.workflow.getHandle(back.workflowId).result()).rejects.toMatchObject({ cause: { type: 'HostNotConnected' } });
    const action = await harness.admin.query('SELECT status, summary FROM action WHERE id = $1', [back.actionId]);
    expect(action.rows[0]).toMatchObject({ status: 'failed', summary: {
      error: 'host rehydrate-host-not-connected did not pick up the work within 2 s: no strata host worker polls strata-host.rehydrate-host-not-connected',
    } });
    expect(await stubbedCount('moved')).toBe(4);
  });

  it('stops by itself when the failure ratio passes the threshold', async () => {
    const files = tree(60);
    const { roots, planId } = await plannedShare('failing', files);
    // A directory where a copy's final name should be makes its copy fail: three of every four files fail.
    files.filter((_f, i) => i % 4 !== 0).forEach((file) => mkdirSync(join(roots.target, objectKey('failing', file.relPath.split('/'))), { recursive: true }));
    const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`,
      { options: { failureRatio: 0.2, minSample: 10, waveSize: 4, batchSize: 8 } });
    const result = await harness.temporal.workflow.getHandle(run.workflowId).result();
    expect(result).toMatchObject({ status: 'failed', stopReason: 'failure-ratio' });
    const summary = result.summary as Record<string, number>;
    expect(summary.failed / (summary.stubbed + summary.failed)).toBeGreaterThan(0.2);
    expect(summary.stubbed + summary.failed).toBeLessThan(files.length);
    expect(summary['failed.copy']).toBe(summary.failed);
    assertNothingLost(roots, files);
  });
});
