// Rehydrate where the world moved on since the act: a corrupted or missing Tier-2 copy,
// a stub someone wrote into, a stub owned by another user. Only verified copies come
// back, nothing a user wrote is overwritten, and every outcome is in the audit log.
import { chownSync, lstatSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lgetxattr } from '../../activities/ffi';
import { readStub, STUB_ATTRIBUTE } from '../../activities/stub-format';
import { statusQuery, type TieringRunResult } from '../../workflows/rehydrate.messages';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import {
  buildTree, configureShare, contentOf, loadScan, makeRoots, planShare, scanRowsOf, startRun, tierRows, type Roots, type TreeFile,
} from '../support/tiering-tree';

let harness: Harness;
let tenant: TestTenant;
let roots: Roots;
const SHARE = 'returns';
const OTHER_OWNER = 4242;

const FILES: TreeFile[] = ['corrupted', 'missing', 'written-to', 'intact', 'foreign-owner'].map((name, i) => ({
  relPath: `d/${name}.bin`, size: 2000 + i, idleDays: 500,
}));
const [corrupted, missing, writtenTo, intact, foreignOwner] = FILES;
const pathOf = (file: TreeFile) => join(roots.source, file.relPath);

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  roots = makeRoots('rehydrate');
  buildTree(roots.source, FILES);
  chownSync(pathOf(foreignOwner), OTHER_OWNER, OTHER_OWNER);
  await loadScan(harness.pool, tenant.tenantId, SHARE, scanRowsOf(roots.source, FILES));
  await configureShare(harness.app, tenant.adminToken, SHARE, { hostId: harness.hostId, roots });
});
afterAll(async () => harness.close());

const phaseOf = async (workflowId: string) => (await harness.temporal.workflow.getHandle(workflowId).describe()).searchAttributes.StrataPhase;

describe('rehydrate after the world moved on', () => {
  let planId: string;
  const copyOf = new Map<string, string>();

  it('plans and acts, recording when each file was acted on, and marks the plan workflow planned', async () => {
    const plan = await planShare(harness.app, harness.temporal, tenant.adminToken, SHARE);
    planId = plan.planId;
    expect(await phaseOf(plan.workflowId)).toEqual(['planned']);
    const before = new Date();
    const act = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
    expect(await harness.temporal.workflow.getHandle(act.workflowId).result()).toMatchObject({ status: 'completed', summary: { stubbed: 5 } });
    const rows = await harness.admin.query(`SELECT rel_path, target_uri, planned_at, acted_at FROM tier_object WHERE tenant_id = $1 AND plan_id = $2`, [tenant.tenantId, planId]);
    expect(rows.rows).toHaveLength(5);
    for (const row of rows.rows) {
      expect(row.acted_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
      expect(row.acted_at.getTime()).toBeGreaterThanOrEqual(row.planned_at.getTime());
      copyOf.set(row.rel_path, fileURLToPath(row.target_uri));
    }
    expect(lstatSync(pathOf(foreignOwner)).uid).toBe(OTHER_OWNER);
  });

  it('restores only verified copies, never over what a user wrote into a stub, and audits each outcome', async () => {
    const corruptedCopy = copyOf.get(corrupted.relPath) as string;
    writeFileSync(corruptedCopy, Buffer.alloc(corrupted.size, 0x5a));
    unlinkSync(copyOf.get(missing.relPath) as string);
    const written = Buffer.from('written into the stub after tiering');
    writeFileSync(pathOf(writtenTo), written);

    const run = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate', { planId });
    const handle = harness.temporal.workflow.getHandle(run.workflowId);
    const result = await handle.result() as TieringRunResult;
    expect(result).toMatchObject({ status: 'completed', summary: { rehydrated: 2, failed: 2, skipped: 1 } });
    expect(await phaseOf(run.workflowId)).toEqual(['completed']);
    expect((await handle.query(statusQuery)).counters).toMatchObject({ rehydrated: 2, failed: 2, skipped: 1 });

    for (const file of [intact, foreignOwner]) {
      expect(readFileSync(pathOf(file))).toEqual(contentOf(file));
      expect(lgetxattr(pathOf(file), STUB_ATTRIBUTE)).toBeNull();
    }
    expect(lstatSync(pathOf(foreignOwner))).toMatchObject({ uid: OTHER_OWNER, gid: OTHER_OWNER });
    for (const file of [corrupted, missing]) {
      expect(readStub(pathOf(file))).toMatchObject({ size: file.size });
      expect(lstatSync(pathOf(file)).size).toBe(0);
    }
    expect(readFileSync(pathOf(writtenTo))).toEqual(written);

    const rows = await tierRows(harness.admin, tenant.tenantId, 'plan_id = $2', [planId]);
    expect(Object.fromEntries(rows.map((row) => [row.rel_path, [row.state, row.last_outcome]]))).toEqual({
      [corrupted.relPath]: ['STUBBED', 'failed:copy-mismatch'],
      [missing.relPath]: ['STUBBED', 'failed:copy-missing'],
      [writtenTo.relPath]: ['STUBBED', 'skipped:stub-modified'],
      [intact.relPath]: ['REHYDRATED', 'rehydrated'],
      [foreignOwner.relPath]: ['REHYDRATED', 'rehydrated'],
    });
    const audit = await harness.admin.query(`SELECT action, details FROM audit_log WHERE tenant_id = $1 AND action LIKE 'tier%' AND details->>'actionId' = $2`, [tenant.tenantId, run.actionId]);
    const filesOf = (action: string) => audit.rows.filter((row) => row.action === action).flatMap((row) => row.details.files.map((file: unknown[]) =>
      Object.fromEntries((row.details.fields as string[]).map((field, i) => [field, file[i]]))));
    expect(filesOf('tier.rehydrated').map((file) => file.path).sort()).toEqual([pathOf(intact), pathOf(foreignOwner)].sort());
    expect(filesOf('tier.failed').map((file) => [file.path, file.reason]).sort()).toEqual([[pathOf(corrupted), 'copy-mismatch'], [pathOf(missing), 'copy-missing']]);
    expect(filesOf('tier.skipped').map((file) => [file.path, file.reason])).toEqual([[pathOf(writtenTo), 'stub-modified']]);
    const summary = await harness.admin.query(`SELECT details FROM audit_log WHERE tenant_id = $1 AND action = 'tiering.rehydrate' AND details->>'actionId' = $2`, [tenant.tenantId, run.actionId]);
    expect(summary.rows[0].details).toMatchObject({ status: 'completed', rehydrated: 2, failed: 2, skipped: 1 });
  });
});
