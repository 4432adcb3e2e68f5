// Sanitize's host activities after a crash: an orphan already moved to quarantine
// (or deleted) before the worker died is recorded once, as done, and never touched
// again; a resumed inventory picks up after its last checkpoint without duplicate rows.
import { existsSync, readdirSync, renameSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSanitizeHostActivities, QUARANTINE_DIR } from '../../activities/sanitize-host';
import { createSanitizeActivities } from '../../activities/sanitize';
import { lsetxattr } from '../../activities/ffi';
import { COPY_OF_ATTRIBUTE, formatCopyOf } from '../../activities/stub-format';
import { decodeKey, objectKey, targetUri } from '../../lib/target-uri';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTierFixture, type TierFixture } from '../support/tier-fixture';

let harness: Harness;
let tenant: TestTenant;
let fixture: TierFixture;
const runId = '6f1c3a52-8d7e-4b0a-9c1d-2e3f4a5b6c7d';

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
});
afterAll(async () => harness.close());

const host = () => createSanitizeHostActivities({ pool: harness.pool });
const central = () => createSanitizeActivities({ pool: harness.pool });
const options = { orphanAction: 'quarantine' as const, idleDays: 365, dryRun: false, maxDeletes: 10 };

describe('sanitize host activities after a crash', () => {
  it('resumes an inventory from its heartbeat and records each object once', async () => {
    fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    await central().createSanitizeRun({ tenantId: tenant.tenantId, runId, shareName: fixture.shareName, requestedBy: 'olga', workflowId: 'test', options });
    const resumed = new MockActivityEnvironment({ heartbeatDetails: { lastKey: fixture.uris.healthy.slice(fixture.rootUri.length + 1), objects: 2, bytes: 0 } });
    await resumed.run(host().inventoryTier2, { tenantId: tenant.tenantId, shareName: fixture.shareName, runId });
    const first = await harness.admin.query('SELECT target_uri FROM tier2_inventory WHERE share_name = $1 ORDER BY target_uri', [fixture.shareName]);
    expect(first.rows.map((r) => r.target_uri)).toEqual([fixture.uris.orphan, fixture.uris.stale]);
    await new MockActivityEnvironment().run(host().inventoryTier2, { tenantId: tenant.tenantId, shareName: fixture.shareName, runId });
    const full = await harness.admin.query('SELECT count(*)::int AS n, count(DISTINCT target_uri)::int AS d FROM tier2_inventory WHERE share_name = $1', [fixture.shareName]);
    expect(full.rows[0]).toEqual({ n: 4, d: 4 });
  });

  it('completes a quarantine that happened just before the worker died, once', async () => {
    await central().reconcileSanitizeRun({ tenantId: tenant.tenantId, runId, shareName: fixture.shareName, options, nowUnix: Math.floor(Date.now() / 1000) });
    const key = fixture.uris.orphan.slice(fixture.rootUri.length + 1);
    const quarantined = join(fixture.tier2Root, QUARANTINE_DIR, runId, key);
    mkdirSync(dirname(quarantined), { recursive: true });
    renameSync(join(fixture.tier2Root, key), quarantined);
    const input = { tenantId: tenant.tenantId, shareName: fixture.shareName, runId, actor: 'olga', maxDeletes: 10 };
    expect(await new MockActivityEnvironment().run(host().executeOrphanItems, input)).toEqual({ done: 1, skipped: 0, more: false });
    expect(await new MockActivityEnvironment().run(host().executeOrphanItems, input)).toEqual({ done: 0, skipped: 0, more: false });
    expect(existsSync(quarantined)).toBe(true);
    expect(readdirSync(join(fixture.tier2Root, QUARANTINE_DIR, runId), { recursive: true }).filter((p) => String(p).endsWith('orphan.bin'))).toHaveLength(1);
    const audit = await harness.admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'sanitize.quarantine_orphan'`, [tenant.tenantId]);
    expect(audit.rows[0].n).toBe(1);
  });

  it('records a delete that happened just before the worker died as done, once; an object gone before any attempt is skipped', async () => {
    const deleting = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const deleteRun = '7a2d4b63-9e8f-4c1b-8d2e-3f4a5b6c7d8e';
    const deleteOptions = { ...options, orphanAction: 'delete' as const };
    await central().createSanitizeRun({ tenantId: tenant.tenantId, runId: deleteRun, shareName: deleting.shareName, requestedBy: 'olga', workflowId: 'test-delete', options: deleteOptions });
    await new MockActivityEnvironment().run(host().inventoryTier2, { tenantId: tenant.tenantId, shareName: deleting.shareName, runId: deleteRun });
    await central().reconcileSanitizeRun({ tenantId: tenant.tenantId, runId: deleteRun, shareName: deleting.shareName, options: deleteOptions, nowUnix: Math.floor(Date.now() / 1000) });
    // The attempt that died had committed its start and unlinked the object.
    await harness.admin.query(`UPDATE sanitize_item SET executed_at = now() WHERE run_id = $1 AND proposed_action = 'delete_orphan'`, [deleteRun]);
    unlinkSync(join(deleting.tier2Root, deleting.uris.orphan.slice(deleting.rootUri.length + 1)));
    const input = { tenantId: tenant.tenantId, shareName: deleting.shareName, runId: deleteRun, actor: 'olga', maxDeletes: 10 };
    expect(await new MockActivityEnvironment().run(host().executeOrphanItems, input)).toEqual({ done: 1, skipped: 0, more: false });
    expect(await new MockActivityEnvironment().run(host().executeOrphanItems, input)).toEqual({ done: 0, skipped: 0, more: false });
    const item = await harness.admin.query(`SELECT outcome, outcome_reason FROM sanitize_item WHERE run_id = $1 AND proposed_action = 'delete_orphan'`, [deleteRun]);
    expect(item.rows).toEqual([{ outcome: 'done', outcome_reason: null }]);

    const vanished = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const vanishedRun = '8b3e5c74-af90-4d2c-9e3f-4a5b6c7d8e9f';
    await central().createSanitizeRun({ tenantId: tenant.tenantId, runId: vanishedRun, shareName: vanished.shareName, requestedBy: 'olga', workflowId: 'test-vanished', options: deleteOptions });
    await new MockActivityEnvironment().run(host().inventoryTier2, { tenantId: tenant.tenantId, shareName: vanished.shareName, runId: vanishedRun });
    await central().reconcileSanitizeRun({ tenantId: tenant.tenantId, runId: vanishedRun, shareName: vanished.shareName, options: deleteOptions, nowUnix: Math.floor(Date.now() / 1000) });
    unlinkSync(join(vanished.tier2Root, vanished.uris.orphan.slice(vanished.rootUri.length + 1)));
    expect(await new MockActivityEnvironment().run(host().executeOrphanItems, { ...input, shareName: vanished.shareName, runId: vanishedRun })).toEqual({ done: 0, skipped: 1, more: false });
    const skipped = await harness.admin.query(`SELECT outcome, outcome_reason FROM sanitize_item WHERE run_id = $1 AND proposed_action = 'delete_orphan'`, [vanishedRun]);
    expect(skipped.rows).toEqual([{ outcome: 'skipped', outcome_reason: 'object is gone' }]);
  });

  it('records the source path of an object under a hashed key from its copy label', async () => {
    const labelled = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const segments = ['deep', ...Array.from({ length: 12 }, (_v, i) => `${'long-name-'.repeat(30)}${i}`)];
    const key = objectKey(labelled.shareName, segments);
    expect(decodeKey(key)).toBeNull();
    const path = join(labelled.tier2Root, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'hashed');
    const source = `/srv/share/${segments.join('/')}`;
    lsetxattr(path, COPY_OF_ATTRIBUTE, formatCopyOf('b'.repeat(64), source));
    const labelRun = '9c4f6d85-b0a1-4e3d-8f4a-5b6c7d8e9fa0';
    await central().createSanitizeRun({ tenantId: tenant.tenantId, runId: labelRun, shareName: labelled.shareName, requestedBy: 'olga', workflowId: 'test-label', options });
    await new MockActivityEnvironment().run(host().inventoryTier2, { tenantId: tenant.tenantId, shareName: labelled.shareName, runId: labelRun });
    const rows = await harness.admin.query('SELECT target_uri, tag_full_path FROM tier2_inventory WHERE share_name = $1 ORDER BY target_uri', [labelled.shareName]);
    expect(rows.rows.find((row) => row.target_uri === targetUri(labelled.rootUri, key))?.tag_full_path).toBe(source);
    expect(rows.rows.find((row) => row.target_uri === labelled.uris.orphan)?.tag_full_path).toBe('projects/orphan.bin');
  });

  it('lets the database hold one unfinished run per share, however two starts race', async () => {
    const raced = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const insert = (id: string, status: string) => harness.admin.query(
      `INSERT INTO sanitize_run (id, tenant_id, share_name, requested_by, workflow_id, options, status) VALUES ($1, $2, $3, 'olga', 'wf', '{}', $4)`,
      [id, tenant.tenantId, raced.shareName, status]);
    await insert('0b5a7e96-c1b2-4f4e-9a5b-6c7d8e9fa0b1', 'COMPLETED');
    await insert('1c6b8fa7-d2c3-4a5f-8b6c-7d8e9fa0b1c2', 'AWAITING_APPROVAL');
    await expect(insert('2d7c9ab8-e3d4-4b6a-9c7d-8e9fa0b1c2d3', 'INVENTORY')).rejects.toMatchObject({ code: '23505', constraint: 'sanitize_run_one_active' });
  });
});
