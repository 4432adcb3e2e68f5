// Access-time updates from LucidLink audit events through the api and the
// per-volume accessUpdates workflow: each event applies once, atime only moves
// forward (in every scan holding the file), changes are audited and re-warmed
// files flagged; bad batches get a 4xx.
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { csvRows, newScanGuid, putChunk, seal, waitForScanEnd, waitUntil } from '../support/ingest-helpers';
import { accessWorkflowId, statusQuery } from '../../workflows/accessUpdates.messages';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { maybeRecordHistory } from '../support/histories';

let harness: Harness;
let tenant: TestTenant;
let agent: string;

const dirOf = (i: number) => `C:\\Shares\\Projects\\P${Math.floor(i / 100)}\\Sub ${Math.floor(i / 10)}`;
const pathOf = (i: number) => `${dirOf(i)}\\file-${i}.dat`;
const event = (i: number, atime: number, id: string) => ({ file_path: pathOf(i), new_last_accessed: atime, audit_file: '.lucid_audit/2025/03/01.active', audit_event_id: id });

async function ingestScan(who: TestTenant, token: string, from: number, to: number): Promise<string> {
  const guid = newScanGuid();
  expect((await putChunk(harness.app, { guid, seq: 0, token, body: csvRows(from, to) })).statusCode).toBe(202);
  expect((await seal(harness.app, token, guid, 1)).statusCode).toBe(202);
  expect(await waitForScanEnd(harness.app, token, guid)).toMatchObject({ status: 'OK' });
  return guid;
}

function post(token: string, volume: string | undefined, body: unknown) {
  return harness.app.inject({
    method: 'POST', url: '/api/v1/audit-updates', payload: body as object,
    headers: { authorization: `Bearer ${token}`, ...(volume ? { 'x-volume-id': volume } : {}) },
  });
}

async function waitForApplied(who: TestTenant, volume: string, batches: number): Promise<Record<string, number>> {
  const handle = harness.temporal.workflow.getHandle(accessWorkflowId(who.code, volume));
  let status: Record<string, number> = {};
  await waitUntil(`${batches} access batches applied`, async () => {
    status = (await handle.query(statusQuery)) as unknown as Record<string, number>;
    return status.batchesApplied >= batches && status.pendingBatches === 0;
  });
  return status;
}

async function atimes(who: TestTenant, i: number): Promise<number[]> {
  const result = await harness.admin.query(
    `SELECT f.atime_unix FROM file f JOIN dir d ON d.id = f.dir_id WHERE f.tenant_id = $1 AND d.dir_path = $2 AND f.name = $3 ORDER BY f.scan_id`,
    [who.tenantId, dirOf(i), `file-${i}.dat`]);
  return result.rows.map((row) => row.atime_unix);
}

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  agent = await issueTokenViaApi(harness.app, tenant, 'scanner', 'agent');
  await ingestScan(tenant, agent, 0, 100);
});
afterAll(async () => harness.close());

describe('access updates', () => {
  it('applies a batch once: forward only, duplicates and unknown paths skipped, audited, re-warmed files flagged', async () => {
    const volume = 'vol-main';
    const batch = [
      event(5, 1_700_000_000, 'e1'), event(6, 1_500_000_000, 'e2'), { ...event(0, 1_700_000_000, 'e3'), file_path: 'C:\\nowhere\\x.dat' },
      event(5, 1_800_000_000, 'e1'), event(8, 1_650_000_000, 'e6a'), event(8, 1_660_000_000, 'e6b'),
    ];
    const first = await post(agent, volume, batch);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ volumeId: volume, events: 6, status: 'accepted' });
    const status = await waitForApplied(tenant, volume, 1);
    expect(status).toMatchObject({ batchesApplied: 1, eventsReceived: 6, eventsDuplicate: 1, eventsUnmatched: 1, eventsStale: 2, pathsUpdated: 2 });
    expect(await atimes(tenant, 5)).toEqual([1_700_000_000]);
    expect(await atimes(tenant, 6)).toEqual([1_600_000_006]);
    expect(await atimes(tenant, 8)).toEqual([1_660_000_000]);

    const audited = await harness.admin.query(
      `SELECT target, details FROM audit_log WHERE tenant_id = $1 AND action = 'file.access-updated' ORDER BY target`, [tenant.tenantId]);
    expect(audited.rows.map((r) => r.target)).toEqual([pathOf(5), pathOf(8)]);
    expect(audited.rows[0].details).toMatchObject({ volumeId: volume, auditEventId: 'e1', oldAtime: 1_600_000_005, newAtime: 1_700_000_000 });
    const flagged = await harness.admin.query('SELECT full_path, last_accessed, handled_at FROM rewarmed_file WHERE tenant_id = $1 ORDER BY full_path', [tenant.tenantId]);
    expect(flagged.rows).toEqual([
      { full_path: pathOf(5), last_accessed: 1_700_000_000, handled_at: null },
      { full_path: pathOf(8), last_accessed: 1_660_000_000, handled_at: null },
    ]);
    const processed = await harness.admin.query('SELECT audit_event_id FROM lucid_audit_processed WHERE tenant_id = $1 ORDER BY 1', [tenant.tenantId]);
    expect(processed.rows.map((r) => r.audit_event_id)).toEqual(['e1', 'e2', 'e3', 'e6a', 'e6b']);

    const again = await post(agent, volume, batch);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate' });
    const replay = await post(agent, volume, { events: [event(5, 1_900_000_000, 'e1'), event(8, 1_600_000_000, 'e9')] });
    expect(replay.statusCode).toBe(202);
    await waitForApplied(tenant, volume, 2);
    expect(await atimes(tenant, 5)).toEqual([1_700_000_000]);
    expect(await atimes(tenant, 8)).toEqual([1_660_000_000]);
    const count = await harness.admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'file.access-updated'`, [tenant.tenantId]);
    expect(count.rows[0].n).toBe(2);
    const staged = await harness.admin.query('SELECT count(*)::int AS n FROM staging_lucid_audit WHERE tenant_id = $1', [tenant.tenantId]);
    expect(staged.rows[0].n).toBe(0);
    await maybeRecordHistory('accessUpdates', harness.temporal.workflow.getHandle(accessWorkflowId(tenant.code, volume)));
  });

  it('moves atime forward in every scan that holds the file, and only for its own tenant', async () => {
    const other = await onboardViaApi(harness.app, await installAdminToken());
    const otherAgent = await issueTokenViaApi(harness.app, other, 'scanner', 'agent');
    await ingestScan(other, otherAgent, 200, 260);
    await ingestScan(tenant, agent, 200, 260);
    await ingestScan(tenant, agent, 250, 300);
    expect((await post(agent, 'vol-two', [event(255, 1_750_000_000, 'x1')])).statusCode).toBe(202);
    const status = await waitForApplied(tenant, 'vol-two', 1);
    expect(status).toMatchObject({ pathsUpdated: 1, fileRowsUpdated: 2 });
    expect(await atimes(tenant, 255)).toEqual([1_750_000_000, 1_750_000_000]);
    expect(await atimes(other, 255)).toEqual([1_600_000_255]);
  });

  it('continues as new carrying its counters, and keeps applying', async () => {
    const volume = 'vol-long';
    const handle = await harness.temporal.workflow.start('accessUpdates', {
      taskQueue: CORE_TASK_QUEUE, workflowId: accessWorkflowId(tenant.code, volume),
      args: [{ tenantId: tenant.tenantId, tenantCode: tenant.code, volumeId: volume, historyLimit: 25 }],
    });
    for (let i = 0; i < 8; i++) {
      expect((await post(agent, volume, [event(40 + i, 1_800_000_000 + i, `long-${i}`)])).statusCode).toBe(202);
      await waitForApplied(tenant, volume, i + 1);
    }
    const first = await harness.temporal.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    expect(await waitForApplied(tenant, volume, 8)).toMatchObject({ batchesApplied: 8, pathsUpdated: 8, eventsReceived: 8 });
    expect(await atimes(tenant, 47)).toEqual([1_800_000_007]);
  });

  it('refuses bad batches with a 4xx naming the field, and readers without an agent role', async () => {
    expect((await post(agent, undefined, [event(1, 1, 'a')])).statusCode).toBe(400);
    expect((await post(agent, 'bad volume!', [event(1, 1, 'a')])).statusCode).toBe(400);
    const noTime = await post(agent, 'v', [{ file_path: 'C:\\a', audit_file: 'f', audit_event_id: 'a' }]);
    expect(noTime.statusCode).toBe(400);
    expect(noTime.json().errors.map((e: { field: string }) => e.field).join(' ')).toMatch(/new_last_accessed/);
    expect((await post(agent, 'v', [event(1, 99_999_999_999_999, 'a')])).statusCode).toBe(400);
    expect((await post(agent, 'v', [{ ...event(1, 1, 'a'), file_path: 'C:\\a\0b' }])).statusCode).toBe(400);
    expect((await post(agent, 'v', [])).statusCode).toBe(400);
    expect((await post(agent, 'v', Array.from({ length: 10_001 }, (_, i) => event(1, 1, `id-${i}`)))).statusCode).toBe(400);
    const viewer = await issueTokenViaApi(harness.app, tenant, 'watcher', 'viewer');
    expect((await post(viewer, 'v', [event(1, 1, 'a')])).statusCode).toBe(403);
    const staged = await harness.admin.query(`SELECT count(*)::int AS n FROM staging_lucid_audit WHERE volume_id IN ('v', 'bad volume!')`);
    expect(staged.rows[0].n).toBe(0);
  });
});
