// The plan's idle basis and include globs on a real tree: by default a file is idle
// when it has not been read (atime), whatever its mtime; `basis: 'mtime'` asks for
// files not written; include globs narrow the plan, and the plan shows its folders.
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTree, configureShare, DAY, loadScan, makeRoots, NOW, planShare, scanRowsOf, tierRows, type Roots, type TreeFile } from '../support/tiering-tree';

let harness: Harness;
let tenant: TestTenant;
let roots: Roots;
const SHARE = 'policies';

interface AgedFile extends TreeFile { readDaysAgo: number; writtenDaysAgo: number }
const FILES: AgedFile[] = [
  { relPath: 'docs/read-recently.pdf', size: 100, idleDays: 0, readDaysAgo: 2, writtenDaysAgo: 900 },
  { relPath: 'docs/untouched.pdf', size: 200, idleDays: 0, readDaysAgo: 800, writtenDaysAgo: 800 },
  { relPath: 'docs/edited-yesterday.txt', size: 300, idleDays: 0, readDaysAgo: 700, writtenDaysAgo: 1 },
  { relPath: 'media/clip.mp4', size: 400, idleDays: 0, readDaysAgo: 600, writtenDaysAgo: 600 },
];

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  roots = makeRoots('policy');
  buildTree(roots.source, FILES);
  for (const file of FILES) utimesSync(join(roots.source, file.relPath), NOW() - file.readDaysAgo * DAY, NOW() - file.writtenDaysAgo * DAY);
  await loadScan(harness.pool, tenant.tenantId, SHARE, scanRowsOf(roots.source, FILES));
  await configureShare(harness.app, tenant.adminToken, SHARE, { hostId: harness.hostId, roots });
});
afterAll(async () => harness.close());

const plannedIn = async (planId: string) => (await tierRows(harness.admin, tenant.tenantId, 'plan_id = $2', [planId])).map((row) => row.rel_path);

describe('tieringPlan policies', () => {
  it('plans by last read by default, whatever the last write, within the include globs, and shows the plan by folder', async () => {
    const plan = await planShare(harness.app, harness.temporal, tenant.adminToken, SHARE, { include: ['docs/**'] });
    expect(await plannedIn(plan.planId)).toEqual(['docs/edited-yesterday.txt', 'docs/untouched.pdf']);
    expect(plan.summary).toMatchObject({ files: 2, bytes: 500, candidates: 3, filtered: 1 });
    const shown = await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${plan.planId}`, headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ policy: { basis: 'atime', include: ['docs/**'] }, summary: { folders: [{ folder: 'docs', files: 2, bytes: 500 }], folderCount: 1 } });
  });

  it('plans by last write when the policy says mtime, leaving paths another plan holds', async () => {
    const plan = await planShare(harness.app, harness.temporal, tenant.adminToken, SHARE, { basis: 'mtime' });
    expect(await plannedIn(plan.planId)).toEqual(['docs/read-recently.pdf', 'media/clip.mp4']);
    expect(plan.summary).toMatchObject({ files: 2, bytes: 500, candidates: 3, alreadyPlanned: 1 });
    expect(plan.summary.folders).toEqual([{ folder: 'media', files: 1, bytes: 400 }, { folder: 'docs', files: 1, bytes: 100 }]);
  });
});
