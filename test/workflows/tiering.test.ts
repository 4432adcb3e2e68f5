// Tiering end to end on a real directory tree with the real stack: plan selects
// exactly the idle files, act leaves verified stubs (and skips changed sources),
// rehydrate restores identical content and metadata, re-warmed files in bulk.
import { appendFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lgetxattr, lsetxattr } from '../../activities/ffi';
import { readStub, STUB_ATTRIBUTE } from '../../activities/stub-format';
import { startHarness, type Harness } from '../support/harness';
import { maybeRecordHistory } from '../support/histories';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import {
  assertNothingLost, buildTree, configureShare, contentOf, loadScan, makeRoots, planShare, scanRowsOf, sha256, startRun, tierRows,
  type Roots, type TreeFile,
} from '../support/tiering-tree';

let harness: Harness;
let tenant: TestTenant;
let roots: Roots;
const SHARE = 'projects';

// Idle: not read for two years; warm: read yesterday. Names exercise quoting and encoding.
const FILES: TreeFile[] = [
  { relPath: 'archive/2019/report.pdf', size: 5000, idleDays: 800, mode: 0o640 },
  { relPath: 'archive/2019/notes, "draft".txt', size: 1200, idleDays: 700, mode: 0o600 },
  { relPath: 'archive/old video #1.mov', size: 70_000, idleDays: 500, mode: 0o644 },
  { relPath: 'media/ünïcödé clip.mp4', size: 300, idleDays: 400 },
  { relPath: 'media/cache/thumb.tmp', size: 100, idleDays: 900 },
  { relPath: 'root-file.iso', size: 2048, idleDays: 1000, mode: 0o400 },
  { relPath: 'archive/recent.doc', size: 800, idleDays: 1 },
  { relPath: 'media/today.mp4', size: 900, idleDays: 0 },
  { relPath: 'media/tiny.bin', size: 0, idleDays: 600 },
];
const IDLE = (file: TreeFile) => file.idleDays >= 365 && !file.relPath.endsWith('.tmp') && file.size > 0;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  roots = makeRoots();
  buildTree(roots.source, FILES);
  lsetxattr(join(roots.source, FILES[0].relPath), 'user.project', Buffer.from('apollo'));
  await loadScan(harness.pool, tenant.tenantId, SHARE, scanRowsOf(roots.source, FILES));
  await configureShare(harness.app, tenant.adminToken, SHARE, { hostId: harness.hostId, roots });
});
afterAll(async () => harness.close());

const statOf = (rel: string) => lstatSync(join(roots.source, rel), { bigint: true });
const waitFor = <T>(workflowId: string) => harness.temporal.workflow.getHandle(workflowId).result() as Promise<T>;

describe('tieringPlan', () => {
  let planId: string;

  it('plans exactly the idle files (policy: 365 days by atime, min size, exclude glob) with deterministic target URIs', async () => {
    const plan = await planShare(harness.app, harness.temporal, tenant.adminToken, SHARE, { minSizeBytes: 1, exclude: ['*.tmp'] });
    planId = plan.planId;
    await maybeRecordHistory('tieringPlan', harness.temporal.workflow.getHandle(plan.workflowId));
    const rows = await tierRows(harness.admin, tenant.tenantId, 'plan_id = $2', [planId]);
    expect(rows.map((r) => r.rel_path)).toEqual(FILES.filter(IDLE).map((f) => f.relPath).sort());
    expect(rows.every((r) => r.state === 'PLANNED')).toBe(true);
    const report = rows.find((r) => r.rel_path.startsWith('archive/2019/report'));
    expect(report?.target_uri).toBe(`${roots.targetUri}/projects/archive/2019/report.pdf`);
    expect(rows.find((r) => r.rel_path.startsWith('media/'))?.target_uri).toBe(`${roots.targetUri}/projects/media/%25C3%25BCn%25C3%25AFc%25C3%25B6d%25C3%25A9%2520clip.mp4`);
    expect(plan.summary).toMatchObject({ files: 5, bytes: 5000 + 1200 + 70_000 + 300 + 2048, filtered: 1, outsideRoot: 0 });
    expect(plan.summary.folders).toEqual([
      { folder: 'archive', files: 3, bytes: 76_200 }, { folder: '', files: 1, bytes: 2048 }, { folder: 'media', files: 1, bytes: 300 },
    ]);
  });

  it('shows the plan and exports its dry-run report as CSV', async () => {
    const response = await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${planId}`, headers: bearer(tenant.adminToken) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'PLANNED', plannedFiles: 5, shareName: SHARE, summary: { files: 5 } });
    const csv = await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${planId}/report.csv`, headers: bearer(tenant.adminToken) });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('full_path,rel_path,size_bytes,atime_unix,mtime_unix,target_uri,state,last_outcome');
    expect(lines).toHaveLength(6);
    expect(csv.body).toContain(`"${join(roots.source, 'archive/2019/notes, ""draft"".txt')}","archive/2019/notes, ""draft"".txt",1200`);
  });

  it('does not plan a path twice', async () => {
    const again = await planShare(harness.app, harness.temporal, tenant.adminToken, SHARE, { minSizeBytes: 1, exclude: ['*.tmp'] });
    expect(again.summary).toMatchObject({ files: 0, alreadyPlanned: 5 });
    expect(await tierRows(harness.admin, tenant.tenantId)).toHaveLength(5);
  });

  describe('tieringAct and rehydrate', () => {
    const changed = FILES[3];
    const originals = new Map<string, { mode: bigint; uid: bigint; gid: bigint; atimeNs: bigint; mtimeNs: bigint }>();

    beforeAll(() => {
      for (const file of FILES) originals.set(file.relPath, statOf(file.relPath));
      appendFileSync(join(roots.source, changed.relPath), 'edited after the scan');
    });

    it('stubs every planned file over a verified Tier-2 copy and skips the one changed after the scan', async () => {
      const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
      const result = await waitFor<{ status: string; summary: Record<string, number> }>(run.workflowId);
      expect(result).toMatchObject({ status: 'completed', summary: { stubbed: 4, skipped: 1, 'skipped.changed': 1, verified: 4 } });
      await maybeRecordHistory('tieringAct', harness.temporal.workflow.getHandle(run.workflowId));
      const rows = await tierRows(harness.admin, tenant.tenantId, 'plan_id = $2', [planId]);
      for (const row of rows) {
        const file = FILES.find((f) => f.relPath === row.rel_path) as TreeFile;
        const path = join(roots.source, row.rel_path);
        if (file === changed) {
          expect(row).toMatchObject({ state: 'PLANNED', last_outcome: 'skipped:changed' });
          expect(lgetxattr(path, STUB_ATTRIBUTE)).toBeNull();
          continue;
        }
        const before = originals.get(row.rel_path);
        const after = statOf(row.rel_path);
        expect(row).toMatchObject({ state: 'STUBBED', content_sha256: sha256(contentOf(file)) });
        expect(readStub(path)).toMatchObject({ uri: row.target_uri, size: file.size, sha256: sha256(contentOf(file)), tierId: Number(row.id) });
        expect(readFileSync(fileURLToPath(row.target_uri))).toEqual(contentOf(file));
        expect([after.mode, after.uid, after.gid, after.mtimeNs, after.atimeNs]).toEqual([before?.mode, before?.uid, before?.gid, before?.mtimeNs, before?.atimeNs]);
        expect(after.size).toBe(0n);
      }
      expect(lgetxattr(join(roots.source, FILES[0].relPath), 'user.project')?.toString()).toBe('apollo');
      expect(readdirSync(roots.source, { recursive: true }).filter((name) => String(name).includes('strata-'))).toEqual([]);
      const action = await harness.admin.query(`SELECT a.status, array_agg(e.to_status ORDER BY e.id) AS statuses FROM action a
        JOIN action_event e ON e.action_id = a.id WHERE a.id = $1 GROUP BY a.status`, [run.actionId]);
      expect(action.rows[0]).toEqual({ status: 'completed', statuses: ['queued', 'preflight', 'in_progress', 'verifying', 'completed'] });
      const audit = await harness.admin.query(`SELECT action, sum(coalesce((details->>'count')::int, 1))::int AS n FROM audit_log
        WHERE tenant_id = $1 AND action LIKE 'tier%' GROUP BY action ORDER BY action`, [tenant.tenantId]);
      expect(audit.rows).toEqual(expect.arrayContaining([{ action: 'tier.stubbed', n: 4 }, { action: 'tier.skipped', n: 1 }, { action: 'tiering.acted', n: 1 }]));
      const skipped = await harness.app.inject({ method: 'GET', url: `/api/v1/audit/events?action=tier.skipped&path=${encodeURIComponent(join(roots.source, 'media'))}`, headers: bearer(tenant.adminToken) });
      const skippedDetails = skipped.json().events[0].details;
      expect(skippedDetails.fields).toEqual(['id', 'path', 'reason', 'detail']);
      expect(skippedDetails.files).toEqual([[expect.any(Number), join(roots.source, changed.relPath), 'changed', expect.stringContaining('now:')]]);
      const stubbed = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/events?action=tier.stubbed', headers: bearer(tenant.adminToken) });
      const stubbedFiles = stubbed.json().events.flatMap((event: { details: { fields: string[]; files: unknown[][] } }) => event.details.files
        .map((file) => Object.fromEntries(event.details.fields.map((field, i) => [field, file[i]]))));
      expect(stubbedFiles).toHaveLength(4);
      for (const row of rows.filter((r) => r.state === 'STUBBED')) {
        expect(stubbedFiles).toContainEqual({ id: Number(row.id), path: join(roots.source, row.rel_path), sha256: row.content_sha256, size: Number(row.size_bytes), uri: row.target_uri });
      }
      const verify = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(tenant.adminToken) });
      expect(verify.json()).toMatchObject({ valid: true });
      expect(assertNothingLost(roots, FILES.filter((f) => f !== changed))).toEqual({ stubs: 4, originals: 4 });
    });

    it('rehydrates one path, then the rest of the plan, restoring identical content and metadata', async () => {
      const one = FILES[0];
      const single = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate', { paths: [join(roots.source, one.relPath)] });
      expect(await waitFor(single.workflowId)).toMatchObject({ status: 'completed', summary: { rehydrated: 1 } });
      const rest = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate', { planId });
      expect(await waitFor(rest.workflowId)).toMatchObject({ status: 'completed', summary: { rehydrated: 3 } });
      await maybeRecordHistory('rehydrate', harness.temporal.workflow.getHandle(rest.workflowId));
      for (const file of FILES.filter(IDLE).filter((f) => f !== changed)) {
        const path = join(roots.source, file.relPath);
        const before = originals.get(file.relPath);
        const after = statOf(file.relPath);
        expect(readFileSync(path)).toEqual(contentOf(file));
        expect([after.mode, after.uid, after.gid, after.mtimeNs, after.atimeNs, after.size]).toEqual([before?.mode, before?.uid, before?.gid, before?.mtimeNs, before?.atimeNs, BigInt(file.size)]);
        expect(lgetxattr(path, STUB_ATTRIBUTE)).toBeNull();
      }
      expect(lgetxattr(join(roots.source, one.relPath), 'user.project')?.toString()).toBe('apollo');
      const states = await tierRows(harness.admin, tenant.tenantId, 'plan_id = $2', [planId]);
      expect(states.map((r) => r.state).sort()).toEqual(['PLANNED', 'REHYDRATED', 'REHYDRATED', 'REHYDRATED', 'REHYDRATED']);
    });
  });
});

/** A share of its own with three idle files of about `size` bytes, scanned, configured and planned. */
async function planSmallShare(share: string, size: number): Promise<{ own: Roots; files: TreeFile[]; planId: string }> {
  const own = makeRoots(share);
  const files: TreeFile[] = [0, 1, 2].map((i) => ({ relPath: `d/f${i}.bin`, size: size + i, idleDays: 500 }));
  buildTree(own.source, files);
  await loadScan(harness.pool, tenant.tenantId, share, scanRowsOf(own.source, files));
  await configureShare(harness.app, tenant.adminToken, share, { hostId: harness.hostId, roots: own });
  const { planId } = await planShare(harness.app, harness.temporal, tenant.adminToken, share);
  return { own, files, planId };
}

describe('re-warmed files', () => {
  it('rehydrates in bulk only the stubbed files that access updates flagged as re-warmed', async () => {
    const share = 'rewarm';
    const { own, files, planId } = await planSmallShare(share, 100);
    const act = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
    expect(await waitFor(act.workflowId)).toMatchObject({ status: 'completed', summary: { stubbed: 3 } });
    await harness.admin.query(`INSERT INTO rewarmed_file (tenant_id, full_path, dir_id, name, volume_id, last_accessed, audit_event_id)
      SELECT tenant_id, full_path, dir_id, name, 'vol-1', extract(epoch FROM now())::bigint, 'evt-1' FROM tier_object
       WHERE tenant_id = $1 AND share_name = $2 AND name = 'f1.bin'`, [tenant.tenantId, share]);
    const run = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate', { rewarmed: true, shareName: share });
    expect(await waitFor(run.workflowId)).toMatchObject({ status: 'completed', summary: { rehydrated: 1 } });
    const rows = await tierRows(harness.admin, tenant.tenantId, 'share_name = $2', [share]);
    expect(rows.map((r) => [r.rel_path, r.state])).toEqual([['d/f0.bin', 'STUBBED'], ['d/f1.bin', 'REHYDRATED'], ['d/f2.bin', 'STUBBED']]);
    expect(readFileSync(join(own.source, 'd/f1.bin'))).toEqual(contentOf(files[1]));
    const handled = await harness.admin.query('SELECT handled_at FROM rewarmed_file WHERE tenant_id = $1 AND name = $2', [tenant.tenantId, 'f1.bin']);
    expect(handled.rows[0].handled_at).not.toBeNull();
  });
});

describe('objects a crash left under their final names', () => {
  it('are replaced by verified copies: objects are not durable before the flush, so one may hold partial content', async () => {
    const share = 'leftovers';
    const { own, files, planId } = await planSmallShare(share, 3000);
    const planned = await tierRows(harness.admin, tenant.tenantId, 'share_name = $2', [share]);
    const finalOf = (rel: string) => fileURLToPath((planned.find((row) => row.rel_path === rel) as { target_uri: string }).target_uri);
    mkdirSync(dirname(finalOf('d/f0.bin')), { recursive: true });
    writeFileSync(finalOf('d/f0.bin'), Buffer.alloc(files[0].size, 0xee));
    writeFileSync(finalOf('d/f1.bin'), contentOf(files[1]).subarray(0, 100));
    const act = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
    expect(await waitFor(act.workflowId)).toMatchObject({ status: 'completed', summary: { stubbed: 3, failed: 0, skipped: 0 } });
    for (const file of files) {
      expect(readFileSync(finalOf(file.relPath))).toEqual(contentOf(file));
      expect(readStub(join(own.source, file.relPath))).toMatchObject({ sha256: sha256(contentOf(file)), size: file.size });
    }
    expect(assertNothingLost(own, files)).toEqual({ stubs: 3, originals: 0 });
  });
});
