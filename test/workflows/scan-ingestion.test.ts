// The scanIngestion workflow's own rules against the real stack: a deadline ends an
// unfinished scan as ERROR keeping what it has, and continue-as-new carries the
// bookkeeping so a long scan still ends OK with exact counts.
import { existsSync } from 'node:fs';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { csvRows, fileCount, getScan, newScanGuid, putChunk, seal, waitForScanEnd } from '../support/ingest-helpers';
import { scanSpoolDir } from '../../lib/spool';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { scanWorkflowId, type ScanIngestionInput } from '../../workflows/scanIngestion.messages';
import { maybeRecordHistory } from '../support/histories';
import { lastAnalyzed } from '../support/statistics';

let harness: Harness;
let tenant: TestTenant;
let agent: string;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  agent = await issueTokenViaApi(harness.app, tenant, 'scanner', 'agent');
});
afterAll(async () => harness.close());

async function withDeadline<T>(seconds: number, work: () => Promise<T>): Promise<T> {
  process.env.STRATA_SCAN_DEADLINE_SECONDS = String(seconds);
  try { return await work(); } finally { delete process.env.STRATA_SCAN_DEADLINE_SECONDS; }
}

describe('scan deadline', () => {
  it('ends a scan never sealed as ERROR at its deadline, keeping the chunks it has', async () => {
    const guid = newScanGuid();
    await withDeadline(4, async () => {
      expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 100) })).statusCode).toBe(202);
      expect((await putChunk(harness.app, { guid, seq: 2, token: agent, body: csvRows(200, 250) })).statusCode).toBe(202);
    });
    const end = await waitForScanEnd(harness.app, agent, guid);
    expect(end).toMatchObject({ status: 'ERROR', sealed: false, chunksIngested: 2, rowsIngested: 150 });
    expect(end.reason).toMatch(/not sealed before the deadline; 2 chunks ingested \(150 rows\)/);
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(150);
    const result = await harness.temporal.workflow.getHandle(scanWorkflowId(tenant.code, guid)).result();
    expect(result).toMatchObject({ status: 'ERROR', chunksIngested: 2, rowsIngested: 150 });
    // The run's last step removes the scan's spool directory.
    expect(existsSync(scanSpoolDir(TEST_DATA_DIR, tenant.code, guid))).toBe(false);
    await maybeRecordHistory('scanIngestion-deadline', harness.temporal.workflow.getHandle(scanWorkflowId(tenant.code, guid)));
    const audit = await harness.admin.query(`SELECT details FROM audit_log WHERE tenant_id = $1 AND action = 'scan.finished' AND target LIKE $2`, [tenant.tenantId, `%${guid}`]);
    expect(audit.rows[0].details).toMatchObject({ status: 'ERROR', chunks: 2, rows: 150 });
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(100, 200) })).statusCode).toBe(409);
  });

  it('ends a sealed scan still missing chunks at its deadline as ERROR naming them', async () => {
    const guid = newScanGuid();
    await withDeadline(4, async () => {
      expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 10) })).statusCode).toBe(202);
      expect((await putChunk(harness.app, { guid, seq: 3, token: agent, body: csvRows(30, 40) })).statusCode).toBe(202);
    });
    expect((await seal(harness.app, agent, guid, 4)).statusCode).toBe(202);
    const end = await waitForScanEnd(harness.app, agent, guid);
    expect(end).toMatchObject({ status: 'ERROR', sealed: true, totalChunks: 4, rowsIngested: 20 });
    expect(end.reason).toMatch(/chunks missing \(1, 2\)/);
  });
});

describe('long scans', () => {
  it('continues as new carrying its bookkeeping, answers progress throughout, and ends OK with exact counts', async () => {
    const analyzedBefore = await lastAnalyzed(harness.admin);
    const guid = newScanGuid();
    const input: ScanIngestionInput = {
      tenantId: tenant.tenantId, tenantCode: tenant.code, scanGuid: guid, shareName: 'projects', srcType: 'NTFS',
      startedAt: '2025-03-01T08:00:00.000Z', historyLimit: 40,
    };
    // Started directly so the test can choose a small history limit; chunks then arrive through the api.
    const handle = await harness.temporal.workflow.start('scanIngestion', {
      taskQueue: CORE_TASK_QUEUE, workflowId: scanWorkflowId(tenant.code, guid), args: [input],
      memo: { shareName: 'projects', srcType: 'NTFS', startedAt: input.startedAt },
    });
    const chunks = 16;
    for (let seq = 0; seq < chunks; seq++) {
      expect((await putChunk(harness.app, { guid, seq, token: agent, body: csvRows(seq * 50, seq * 50 + 50) })).statusCode).toBe(202);
      if (seq === 8) expect((await getScan(harness.app, agent, guid)).json()).toMatchObject({ status: 'RUNNING', chunksReceived: expect.any(Number) });
    }
    expect((await seal(harness.app, agent, guid, chunks)).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', chunksIngested: chunks, rowsIngested: chunks * 50 });
    const first = await harness.temporal.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(chunks * 50);
    await maybeRecordHistory('scanIngestion-continued', handle);
    const chunkRows = await harness.admin.query('SELECT count(*)::int AS n FROM ingest_chunk c JOIN scan s ON s.id = c.scan_id WHERE s.scan_guid = $1', [guid]);
    expect(chunkRows.rows[0].n).toBe(chunks);
    // The finished scan refreshed the statistics of file and dir, so plans over it see its real size.
    await harness.temporal.workflow.getHandle(handle.workflowId).result();
    const analyzedAfter = await lastAnalyzed(harness.admin);
    for (const table of ['file', 'dir'] as const) expect(analyzedAfter[table]).toBeGreaterThan(analyzedBefore[table]);
  });
});
