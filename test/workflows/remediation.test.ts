// Permission remediation end to end on a real tree with real ACLs (setfacl), indexed by
// bootstrapIndex, through the api and the workflow on the host worker: dry run and
// planning per descriptor, the approval rules of `execute`, apply with a file changed
// after planning skipped and compliant files untouched, drift, and a rollback that
// leaves `getfacl -R` exactly as before; a closed rollback window refuses.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import {
  bearer, ctimes, getfaclOf, getfaclTree, indexVolume, makeFiles, planViaApi, runView, setfacl, waitFor, waitForStatus,
} from '../support/remediation-fixtures';
import { maybeRecordHistory } from '../support/histories';
import { createRemediationActivities } from '../../activities/remediation';
import { driftScheduleId } from '../../workflows/driftCheck.messages';
import { pauseSignal, resumeSignal, statusQuery } from '../../workflows/remediation.messages';

let harness: Harness;
let tenant: TestTenant;
let work: string;
let vol: string;
const tokens: Record<string, string> = {};
const POLICY = { remove: ['other', 'user:1001'], add: [{ principal: 'group:3000', access: 'r' }] };
const main = () => join(vol, 'main');

function buildTree(): void {
  const world = makeFiles(join(main(), 'world'), 40, 0o644);
  setfacl(['-m', 'u:1001:r'], world);
  makeFiles(join(main(), 'world2'), 30, 0o644);
  const ok = makeFiles(join(main(), 'ok'), 30, 0o640);
  setfacl(['-m', 'g:3000:r'], ok);
  chmodSync(join(main(), 'ok'), 0o750);
  setfacl(['-m', 'g:3000:r'], [join(main(), 'ok')]);
  mkdirSync(join(main(), 'dirs', 'd1'), { recursive: true });
  setfacl(['-d', '-m', 'u:1001:r,o::r'], [join(main(), 'dirs', 'd1')]);
  makeFiles(join(main(), 'dirs', 'd1'), 5, 0o644);
  for (const sub of ['approval', 'window']) makeFiles(join(vol, sub), 10, 0o644);
  makeFiles(join(vol, 'pause'), 300, 0o644);
}

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  for (const [name, role] of [['op', 'operator'], ['ap1', 'approver'], ['ap2', 'approver'], ['viewer1', 'viewer']]) {
    tokens[name] = await issueTokenViaApi(harness.app, tenant, name, role);
  }
  work = mkdtempSync(join(tmpdir(), 'strata-remediation-'));
  vol = join(work, 'vol');
  buildTree();
  await indexVolume(harness.app, harness.temporal, tenant.adminToken, harness.hostId, vol);
}, 180_000);

afterAll(async () => {
  await harness.temporal.schedule.getHandle(driftScheduleId(tenant.code)).delete().catch(() => undefined);
  await harness.close();
  rmSync(work, { recursive: true, force: true });
});

const plan = (prefix: string, options: Record<string, unknown> = {}, scope: Record<string, unknown> = {}) =>
  planViaApi(harness.app, tokens.op, { scope: { host: harness.hostId, pathPrefix: prefix, ...scope }, policy: POLICY, options });

const execute = (id: string, user: string, body: Record<string, unknown>) =>
  harness.app.inject({ method: 'POST', url: `/api/v1/remediation/${id}/execute`, headers: bearer(tokens[user]), payload: body });

const rollback = (id: string, user = 'op') =>
  harness.app.inject({ method: 'POST', url: `/api/v1/remediation/${id}/rollback`, headers: bearer(tokens[user]), payload: { reason: 'test' } });

async function actionEvents(id: string): Promise<string[]> {
  const rows = await harness.admin.query(`SELECT to_status FROM action_event WHERE action_id = $1 AND event IN ('created', 'status') ORDER BY id`, [id]);
  return rows.rows.map((r) => r.to_status);
}

describe('remediation of a real tree', () => {
  it('dry run: one transformation per descriptor, the files needing change selected, nothing touched', async () => {
    const before = getfaclTree(main());
    const id = await plan(main(), { dryRun: true });
    const view = await waitForStatus(harness.app, tokens.op, id, ['DRY_RUN', 'FAILED']);
    expect(view.status).toBe('DRY_RUN');
    const report = view.report;
    // 40 world + 30 world2 + 5 d1 files, dirs main, world, world2, dirs, d1 change; 30 ok files and dir ok comply.
    expect(report).toMatchObject({ filesInScope: 111, alreadyCompliant: 31, toChange: 80, selected: 80, truncated: false });
    const transforms = await harness.admin.query('SELECT count(*)::int AS n FROM remediation_transform WHERE run_id = $1', [id]);
    expect(transforms.rows[0].n).toBe(report.uniqueDescriptors);
    expect(report.transformations).toBeLessThan(report.uniqueDescriptors);
    // world2's plain 0644 files become exactly what the compliant ok/ files already have.
    const world2 = report.transforms.find((t: { before: string }) => t.before === 'user::rw-,group::r--,other::r--');
    expect(world2).toMatchObject({ outcome: 'existing', after: 'user::rw-,group::r--,group:3000:r--,mask::r--,other::---' });
    expect(view.reportHash).toMatch(/^[0-9a-f]{64}$/);
    expect(view.action.status).toBe('completed');
    expect(await actionEvents(id)).toEqual(['queued', 'preflight', 'completed']);
    expect(getfaclTree(main())).toBe(before);
    const handle = harness.temporal.workflow.getHandle(view.workflowId);
    await handle.result();
    await maybeRecordHistory('remediation-dry-run', handle);
  });

  it('plans 10 transformations, not 10,000, for 10 descriptors over 10,000 files', async () => {
    const big = join(work, 'big');
    for (let d = 0; d < 10; d += 1) setfacl(['-m', `u:${2000 + d}:r,o::r`], makeFiles(join(big, `acl${d}`), 1_000, 0o644));
    await indexVolume(harness.app, harness.temporal, tenant.adminToken, harness.hostId, big);
    const id = await plan(big, { dryRun: true }, { type: 'file' });
    const view = await waitForStatus(harness.app, tokens.op, id, ['DRY_RUN', 'FAILED']);
    expect(view.report).toMatchObject({ filesInScope: 10_000, toChange: 10_000, uniqueDescriptors: 10, transformations: 10, newDescriptors: 10 });
    const rows = await harness.admin.query('SELECT count(*)::int AS n FROM remediation_transform WHERE run_id = $1', [id]);
    const items = await harness.admin.query('SELECT count(*)::int AS n FROM remediation_item WHERE run_id = $1', [id]);
    expect([rows.rows[0].n, items.rows[0].n]).toEqual([10, 10_000]);
  });

  it('enforces the approval rules on execute and ends REJECTED on a rejection', async () => {
    const before = getfaclTree(join(vol, 'approval'));
    const id = await plan(join(vol, 'approval'), { approvalsRequired: 2 });
    const view = await waitForStatus(harness.app, tokens.op, id, ['AWAITING_APPROVAL']);
    const hash = view.reportHash as string;
    expect((await execute(id, 'viewer1', { reportHash: hash })).statusCode).toBe(403);
    const self = await execute(id, 'op', { reportHash: hash });
    expect([self.statusCode, self.json().detail]).toEqual([422, expect.stringContaining('role operator may not approve')]);
    const stale = await execute(id, 'ap1', { reportHash: 'a'.repeat(64) });
    expect([stale.statusCode, stale.json().detail]).toEqual([422, expect.stringContaining('is not the current report')]);
    expect((await rollback(id)).statusCode).toBe(409);
    const first = await execute(id, 'ap1', { reportHash: hash });
    expect([first.statusCode, first.json()]).toEqual([200, { status: 'PENDING', approvals: 1, required: 2 }]);
    const twice = await execute(id, 'ap1', { reportHash: hash });
    expect([twice.statusCode, twice.json().detail]).toEqual([422, expect.stringContaining('ap1 has already approved')]);
    expect((await execute(id, 'ap2', { reportHash: hash, decision: 'reject', reason: 'not now' })).statusCode).toBe(200);
    const ended = await waitForStatus(harness.app, tokens.op, id, ['REJECTED']);
    expect(ended.action.status).toBe('failed');
    const refused = await harness.admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'approval.refused' AND target = $2`, [tenant.tenantId, `remediation/${id}`]);
    expect(refused.rows[0].n).toBe(3);
    expect(getfaclTree(join(vol, 'approval'))).toBe(before);
  });

  it('applies, skips a file changed after planning, leaves compliant files alone, reports drift, and rolls back bit-for-bit', async () => {
    const id = await plan(main(), { batchSize: 20, parallelism: 3 });
    const planned = await waitForStatus(harness.app, tokens.op, id, ['AWAITING_APPROVAL']);
    const changed = join(main(), 'world', 'f00003');
    setfacl(['-m', 'u:1002:r'], [changed]);
    const before = getfaclTree(main());
    const ctimeBefore = ctimes(main());
    expect((await execute(id, 'ap1', { reportHash: planned.reportHash })).statusCode).toBe(200);
    const done = await waitForStatus(harness.app, tokens.op, id, ['COMPLETED', 'FAILED', 'ROLLED_BACK']);
    expect(done.status).toBe('COMPLETED');
    expect(done.counters).toMatchObject({ items: 80, applied: 79, skippedChanged: 1, verified: 79, failed: 0 });
    expect(done.fsSnapshot).toMatchObject({ kind: 'none', taken: false });
    expect(await actionEvents(id)).toEqual(['queued', 'preflight', 'in_progress', 'verifying', 'completed']);
    const skipped = await runView(harness.app, tokens.op, id, '?outcome=skipped_changed');
    expect(skipped.items).toEqual([expect.objectContaining({ path: changed, outcome: 'skipped_changed', detail: expect.stringContaining('changed since planning') })]);
    const after = ctimes(main());
    for (const path of [...ctimeBefore.keys()].filter((p) => p.includes('/ok/') || p === changed)) expect(after.get(path)).toBe(ctimeBefore.get(path));
    expect(getfaclOf(join(main(), 'world', 'f00001'))).toBe('user::rw-\ngroup::r--\ngroup:3000:r--\nmask::r--\nother::---');
    const d1 = getfaclOf(join(main(), 'dirs', 'd1'));
    expect([d1.includes('default:group:3000:r--'), d1.includes('default:other::---'), d1.includes('user:1001')]).toEqual([true, true, false]);
    const stale = await harness.admin.query(
      `SELECT count(*)::int AS n FROM remediation_item i JOIN file f ON f.id = i.file_id WHERE i.run_id = $1 AND i.outcome = 'applied' AND f.security_id <> i.target_sd_id`, [id]);
    expect(stale.rows[0].n).toBe(0);

    setfacl(['-m', 'o::r'], [join(main(), 'world2', 'f00007')]);
    await harness.temporal.schedule.getHandle(driftScheduleId(tenant.code)).trigger();
    const drift = await waitFor(async () => {
      const response = await harness.app.inject({ method: 'GET', url: `/api/v1/audit/drift?run=${id}`, headers: bearer(tokens.viewer1) });
      const body = response.json();
      return body.lastCheck && body.entries.length > 0 ? body : undefined;
    }, 'a drift check to report');
    expect(drift.entries).toEqual([expect.objectContaining({ path: join(main(), 'world2', 'f00007'), state: 'drifted', found: expect.stringContaining('other::r--') })]);
    expect((await runView(harness.app, tokens.op, id)).drift.open).toBe(1);

    const accepted = await rollback(id);
    expect([accepted.statusCode, accepted.json().status]).toEqual([202, 'ROLLING_BACK']);
    const rolled = await waitForStatus(harness.app, tokens.op, id, ['ROLLED_BACK', 'FAILED']);
    expect(rolled.status).toBe('ROLLED_BACK');
    expect(getfaclTree(main())).toBe(before);
    expect(await actionEvents(id)).toEqual(['queued', 'preflight', 'in_progress', 'verifying', 'completed', 'rolled_back']);
    const back = await harness.admin.query(
      `SELECT count(*)::int AS n FROM remediation_item i JOIN file f ON f.id = i.file_id WHERE i.run_id = $1 AND i.outcome = 'applied' AND f.security_id <> i.source_sd_id`, [id]);
    expect(back.rows[0].n).toBe(0);
    const handle = harness.temporal.workflow.getHandle(rolled.workflowId);
    await handle.result();
    // Every slice moved its own index rows, so neither set-based pass over the items ran.
    expect(rolled.counters).toMatchObject({ applyIndexed: 79, rollbackIndexed: rolled.counters.restored + rolled.counters.rollbackUnchanged });
    const activities = (await handle.fetchHistory()).events?.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(activities).toEqual(expect.arrayContaining(['remediationApplyBatch', 'remediationRollbackBatch']));
    expect(activities).not.toEqual(expect.arrayContaining(['finalizeRemediationIndex']));
    expect(activities).not.toEqual(expect.arrayContaining(['restoreRemediationIndex']));
    await maybeRecordHistory('remediation-rolled-back-index-by-slices', handle);
    expect((await rollback(id)).statusCode).toBe(409);

    // The snapshot was saved packed, a row per slice of a batch, covering every item once.
    const slices = await harness.admin.query(
      `SELECT count(*)::int AS rows, sum(items)::int AS items, sum(not_ok)::int AS "notOk",
              (SELECT count(*)::int FROM remediation_snapshot WHERE run_id = $1) AS "perFile"
         FROM remediation_snapshot_slice WHERE run_id = $1`, [id]);
    expect(slices.rows[0]).toEqual({ rows: 4, items: 80, notOk: 1, perFile: 0 });
    // The set-based restore (for batches that did not move their rows) takes each file's mode from its slice.
    await harness.admin.query(
      `UPDATE file f SET security_id = i.target_sd_id, mode = f.mode # 4 FROM remediation_item i WHERE i.run_id = $1 AND i.outcome = 'applied' AND f.id = i.file_id`, [id]);
    const restored = await createRemediationActivities({ pool: harness.pool }).restoreRemediationIndex({ tenantId: tenant.tenantId, runId: id });
    expect(restored.updated).toBe(79);
    const indexRows = await harness.admin.query(
      `SELECT d.dir_path || '/' || f.name AS path, f.mode, f.security_id = i.source_sd_id AS "onSource"
         FROM remediation_item i JOIN file f ON f.id = i.file_id JOIN dir d ON d.id = f.dir_id WHERE i.run_id = $1 AND i.outcome = 'applied'`, [id]);
    for (const row of indexRows.rows) expect([row.path, row.mode, row.onSource]).toEqual([row.path, lstatSync(row.path).mode, true]);
  });

  it('holds the apply phase while paused and finishes after resume', async () => {
    const id = await plan(join(vol, 'pause'), { maxFilesPerSecond: 100, batchSize: 50, parallelism: 1 });
    const planned = await waitForStatus(harness.app, tokens.op, id, ['AWAITING_APPROVAL']);
    expect((await execute(id, 'ap1', { reportHash: planned.reportHash })).statusCode).toBe(200);
    const handle = harness.temporal.workflow.getHandle(planned.workflowId);
    const applied = async () => (await harness.admin.query(`SELECT count(*)::int AS n FROM remediation_item WHERE run_id = $1 AND outcome IS NOT NULL`, [id])).rows[0].n as number;
    await waitFor(async () => (await applied()) > 0, 'the first files to be applied');
    await handle.signal(pauseSignal, { by: 'op' });
    await waitFor(async () => (await handle.query(statusQuery)).activity === 'paused', 'the run to pause');
    const held = await applied();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await applied()).toBe(held);
    expect(held).toBeLessThan(301);
    // The index follows each recorded slice: applied files already point at their target, the rest still at their source.
    const indexed = await harness.admin.query(
      `SELECT count(*) FILTER (WHERE i.outcome = 'applied' AND f.security_id = i.target_sd_id)::int AS moved,
              count(*) FILTER (WHERE i.outcome IS NULL AND f.security_id = i.source_sd_id)::int AS waiting
         FROM remediation_item i JOIN file f ON f.id = i.file_id WHERE i.run_id = $1`, [id]);
    expect(indexed.rows[0]).toEqual({ moved: held, waiting: 301 - held });
    await handle.signal(resumeSignal, { by: 'op' });
    const done = await waitForStatus(harness.app, tokens.op, id, ['COMPLETED', 'FAILED', 'ROLLED_BACK']);
    expect([done.status, done.counters.applied]).toEqual(['COMPLETED', 301]);
  });

  it('lets the requester execute when no approval is required, and refuses a rollback once the window has closed', async () => {
    const id = await plan(join(vol, 'window'), { rollbackWindowHours: 0.0005, approvalsRequired: 0 });
    const planned = await waitForStatus(harness.app, tokens.op, id, ['AWAITING_APPROVAL']);
    expect((await execute(id, 'viewer1', { reportHash: planned.reportHash })).statusCode).toBe(403);
    expect((await execute(id, 'op', { reportHash: planned.reportHash })).json()).toEqual({ status: 'APPROVED', approvals: 1, required: 0 });
    const done = await waitForStatus(harness.app, tokens.op, id, ['COMPLETED']);
    await harness.temporal.workflow.getHandle(done.workflowId).result();
    const refused = await rollback(id);
    expect([refused.statusCode, refused.json().detail]).toEqual([409, expect.stringContaining('has ended')]);
    expect(getfaclOf(join(vol, 'window', 'f00000'))).toContain('other::---');
  });
});
