// Tiering plans over scans of several pages: progress is saved in page order (a
// failed page keeps the pages before it, and the retry resumes there with exact counts);
// capped plans fill their caps past paths that other plans hold; a loaded scan's
// statistics are fresh before it is planned.
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTieringPlanActivities } from '../../activities/tiering-plan';
import { withTenant } from '../../db/tenant-tx';
import { candidatesQuery } from '../../db/queries/tiering-plan';
import type { ScanFileRow } from '../../db/queries/tiering-scan-load';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { DAY, NOW, configureShare, loadScan, makeRoots, planShare } from '../support/tiering-tree';

let harness: Harness;
let tenant: TestTenant;
const IDLE_FILES = 12_600;
const FILE_SIZE = 100;

/** Idle files spread over 40 folders, then warm ones; one idle file (its index given) may carry a poisoned name. */
function scanRows(root: string, poisonAt?: number): ScanFileRow[] {
  const now = NOW();
  const idle = Array.from({ length: IDLE_FILES }, (_, i) => ({
    dirPath: `${root}/d${String(i % 40).padStart(2, '0')}`, name: i === poisonAt ? `poison-${i}.dat` : `f${i}.dat`,
    size: FILE_SIZE, atime: now - 800 * DAY, mtime: now - 900 * DAY, ctime: now - 900 * DAY,
  }));
  const warm = Array.from({ length: 500 }, (_, i) => ({ dirPath: `${root}/warm`, name: `w${i}.dat`, size: FILE_SIZE, atime: now - DAY, mtime: now - DAY, ctime: now - DAY }));
  return [...idle, ...warm];
}

async function share(name: string, poisonAt?: number): Promise<void> {
  const roots = makeRoots('plan-pages');
  await loadScan(harness.pool, tenant.tenantId, name, scanRows(roots.source, poisonAt));
  await configureShare(harness.app, tenant.adminToken, name, { hostId: harness.hostId, roots });
}

async function planRows(planId: string): Promise<{ n: number; paths: number }> {
  const result = await harness.admin.query(
    'SELECT count(*)::int AS n, count(DISTINCT full_path)::int AS paths FROM tier_object WHERE tenant_id = $1 AND plan_id = $2', [tenant.tenantId, planId]);
  return result.rows[0];
}

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
});
afterAll(async () => harness.close());

describe('tieringPlan over several pages', () => {
  it('plans every idle file of a scan exactly once, counts exact', async () => {
    await share('pages');
    const plan = await planShare(harness.app, harness.temporal, tenant.adminToken, 'pages');
    expect(plan.summary).toMatchObject({ files: IDLE_FILES, bytes: IDLE_FILES * FILE_SIZE, candidates: IDLE_FILES, alreadyPlanned: 0, capped: false });
    expect(await planRows(plan.planId)).toEqual({ n: IDLE_FILES, paths: IDLE_FILES });
  });

  it('fills a cap past the paths another plan holds, by files and by bytes', async () => {
    await share('capped');
    const first = await planShare(harness.app, harness.temporal, tenant.adminToken, 'capped', { maxFiles: 3000 });
    expect(first.summary).toMatchObject({ files: 3000, capped: true });
    const second = await planShare(harness.app, harness.temporal, tenant.adminToken, 'capped', { maxFiles: 7000 });
    expect(second.summary).toMatchObject({ files: 7000, alreadyPlanned: 3000 });
    const third = await planShare(harness.app, harness.temporal, tenant.adminToken, 'capped', { maxBytes: 1500 * FILE_SIZE });
    expect(third.summary).toMatchObject({ files: 1500, bytes: 1500 * FILE_SIZE, alreadyPlanned: 10_000, capped: true });
    const rest = await planShare(harness.app, harness.temporal, tenant.adminToken, 'capped');
    expect(rest.summary).toMatchObject({ files: IDLE_FILES - 11_500, alreadyPlanned: 11_500, capped: false });
    for (const plan of [first, second, third, rest]) expect((await planRows(plan.planId)).n).toBe(plan.summary.files);
  });

  it('plans candidates for the scan\'s real size: loading a scan refreshes the statistics', async () => {
    await loadScan(harness.pool, tenant.tenantId, 'before-stats', scanRows(makeRoots('plan-stats').source));
    await harness.admin.query('ANALYZE file');
    await harness.admin.query('ANALYZE dir');
    const fresh = await onboardViaApi(harness.app, await installAdminToken());
    const scanId = await loadScan(harness.pool, fresh.tenantId, 'stale-stats', scanRows(makeRoots('plan-stale').source));
    const plan = await withTenant(harness.pool, { tenantId: fresh.tenantId, role: 'strata_planner' }, async (client) =>
      (await client.query(`EXPLAIN ${candidatesQuery('atime')}`, [scanId, 0, NOW(), 0])).rows.map((row) => row['QUERY PLAN']).join('\n'));
    // Planned as one row, the join became a nested loop whose inner side read every dir of the tenant for each file.
    expect(plan).not.toContain('Join Filter');
  });

  it('keeps only the pages before a failed one, and resumes there with exact counts', async () => {
    // The poisoned file is in the second half of the second page (5,000 candidates each, written as two halves).
    await share('poisoned', 7_500);
    await harness.admin.query(`CREATE OR REPLACE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned row %', NEW.name; END $$`);
    await harness.admin.query(`CREATE TRIGGER test_refuse_poison BEFORE INSERT ON tier_object FOR EACH ROW
      WHEN (NEW.name LIKE 'poison-%') EXECUTE FUNCTION test_refuse_poison()`);
    const planId = randomUUID();
    await harness.admin.query(
      `INSERT INTO tiering_plan (id, tenant_id, share_name, policy, requested_by, workflow_id) VALUES ($1, $2, 'poisoned', '{}', 'test', 'test')`,
      [planId, tenant.tenantId]);
    const activities = createTieringPlanActivities({ pool: harness.pool });
    const input = { tenantId: tenant.tenantId, planId, actor: 'test' };
    try {
      await expect(new MockActivityEnvironment().run(activities.buildTieringPlan, input)).rejects.toThrow(/poisoned row/);
    } finally {
      await harness.admin.query('DROP TRIGGER test_refuse_poison ON tier_object');
    }
    // Progress stops before the failed page; the page after it may have committed its rows, which the retry counts once.
    const stored = await harness.admin.query('SELECT progress FROM tiering_plan WHERE id = $1', [planId]);
    expect(stored.rows[0].progress).toMatchObject({ planned: 5000, candidates: 5000, done: false });
    const pages = await harness.admin.query(
      `SELECT (substring(name FROM '[0-9]+')::int / 5000) AS page, count(*)::int AS n FROM tier_object
        WHERE plan_id = $1 GROUP BY 1 ORDER BY 1`, [planId]);
    expect(pages.rows[0]).toEqual({ page: 0, n: 5000 });
    // Of the failed page, at most its other half committed, whole; the poisoned half left nothing.
    const failedPage = await harness.admin.query(
      `SELECT count(*)::int AS n FROM tier_object WHERE plan_id = $1 AND substring(name FROM '[0-9]+')::int BETWEEN 5000 AND 9999`, [planId]);
    expect([0, 2500]).toContain(failedPage.rows[0].n);
    const poisonedHalf = await harness.admin.query(
      `SELECT count(*)::int AS n FROM tier_object WHERE plan_id = $1 AND substring(name FROM '[0-9]+')::int BETWEEN 7500 AND 9999`, [planId]);
    expect(poisonedHalf.rows[0].n).toBe(0);
    // Make sure the page after the failed one is there (as when its write committed first), placeholders the retry overwrites.
    await harness.admin.query(
      `INSERT INTO tier_object (tenant_id, share_name, full_path, rel_path, dir_id, name, target_uri, size_bytes, atime_unix, mtime_unix, state, plan_id, planned_by)
       SELECT f.tenant_id, 'poisoned', d.dir_path || '/' || f.name, 'placeholder', f.dir_id, f.name, 'file:///placeholder', 0, 0, 0, 'PLANNED', $2, 'test'
         FROM file f JOIN dir d ON d.id = f.dir_id JOIN scan s ON s.id = f.scan_id
        WHERE s.tenant_id = $1 AND s.share_name = 'poisoned' AND f.name ~ '^f[0-9]+[.]dat$' AND substring(f.name FROM '[0-9]+')::int >= 10000
       ON CONFLICT (tenant_id, full_path) DO NOTHING`, [tenant.tenantId, planId]);
    const lastPage = await harness.admin.query(
      `SELECT count(*)::int AS n FROM tier_object WHERE plan_id = $1 AND substring(name FROM '[0-9]+')::int >= 10000`, [planId]);
    expect(lastPage.rows[0].n).toBe(IDLE_FILES - 10_000);

    const resumed = await new MockActivityEnvironment().run(activities.buildTieringPlan, input);
    expect(resumed).toMatchObject({ planned: IDLE_FILES, candidates: IDLE_FILES, alreadyPlanned: 0, done: true });
    expect(await planRows(planId)).toEqual({ n: IDLE_FILES, paths: IDLE_FILES });
    const placeholders = await harness.admin.query(`SELECT count(*)::int AS n FROM tier_object WHERE plan_id = $1 AND rel_path = 'placeholder'`, [planId]);
    expect(placeholders.rows[0].n).toBe(0);
    expect(await activities.finishTieringPlan(input)).toMatchObject({ files: IDLE_FILES, alreadyPlanned: 0 });
  });
});
