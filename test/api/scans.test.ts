// Scan chunk upload through the api into the scan workflow, against the real stack:
// exact counts, duplicates (also concurrent), out-of-order chunks, sealing and
// progress, tenant isolation.
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { countRows, installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import {
  csvRows, fileCount, getScan, newScanGuid, putChunk, scanRow, seal, SCAN_HEADERS, waitForScanEnd,
} from '../support/ingest-helpers';
import { scanSpoolDir, SpoolWriter } from '../../lib/spool';
import { maybeRecordHistory } from '../support/histories';
import { scanWorkflowId } from '../../workflows/scanIngestion.messages';

let harness: Harness;
let tenant: TestTenant;
let agent: string;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  agent = await issueTokenViaApi(harness.app, tenant, 'scanner', 'agent');
});
afterAll(async () => harness.close());

const spoolFiles = (code: string, guid: string) => {
  try { return readdirSync(scanSpoolDir(TEST_DATA_DIR, code, guid)); } catch { return []; }
};

describe('uploading a scan', () => {
  it('ingests chunks (plain, gzip, header, CRLF) with exact row and directory counts, and reports progress', async () => {
    const guid = newScanGuid();
    const first = await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 250, { header: true }) });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ seq: 0, status: 'accepted', rows: 250 });
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(250, 500), gzip: true })).statusCode).toBe(202);
    expect((await putChunk(harness.app, { guid, seq: 2, token: agent, body: csvRows(500, 777, { eol: '\r\n' }) })).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 3)).statusCode).toBe(202);
    const progress = await waitForScanEnd(harness.app, agent, guid);
    expect(progress).toMatchObject({ status: 'OK', sealed: true, totalChunks: 3, chunksIngested: 3, rowsIngested: 777, shareName: 'projects', srcType: 'NTFS' });
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(777);
    const dirs = await harness.admin.query(
      `SELECT count(DISTINCT f.dir_id)::int AS n FROM file f JOIN scan s ON s.id = f.scan_id WHERE s.scan_guid = $1`, [guid]);
    expect(dirs.rows[0].n).toBe(78);
    const row = await scanRow(harness.admin, tenant.tenantId, guid);
    expect(row).toMatchObject({ status: 'OK', total_chunks: 3, share_name: 'projects', src_type: 'NTFS' });
    expect(row!.finished_at).toBeInstanceOf(Date);
    const sample = await harness.admin.query(
      `SELECT d.dir_path, f.name, f.size_bytes, f.atime_unix FROM file f JOIN dir d ON d.id = f.dir_id JOIN scan s ON s.id = f.scan_id
        WHERE s.scan_guid = $1 AND f.name = 'file-612.dat'`, [guid]);
    expect(sample.rows[0]).toEqual({ dir_path: 'C:\\Shares\\Projects\\P6\\Sub 61', name: 'file-612.dat', size_bytes: 6120, atime_unix: 1_600_000_612 });
    expect(spoolFiles(tenant.code, guid)).toEqual([]);
    await maybeRecordHistory('scanIngestion-ok', harness.temporal.workflow.getHandle(scanWorkflowId(tenant.code, guid)));
    const actions = (await harness.admin.query('SELECT action FROM audit_log WHERE tenant_id = $1 AND target LIKE $2', [tenant.tenantId, `%${guid}`])).rows;
    expect(actions.map((a) => a.action).sort()).toEqual(['scan.finished', 'scan.started']);
  });

  it('answers 200 to a repeated chunk, before and after ingestion, and ingests it once', async () => {
    const guid = newScanGuid();
    const body = csvRows(0, 100);
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body })).statusCode).toBe(202);
    const again = await putChunk(harness.app, { guid, seq: 0, token: agent, body });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ seq: 0, status: 'duplicate' });
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(100, 150) })).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 2)).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', rowsIngested: 150 });
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body })).statusCode).toBe(200);
    expect((await seal(harness.app, agent, guid, 2)).statusCode).toBe(200);
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(150);
    const chunks = await harness.admin.query('SELECT seq, row_count FROM ingest_chunk c JOIN scan s ON s.id = c.scan_id WHERE s.scan_guid = $1 ORDER BY seq', [guid]);
    expect(chunks.rows).toEqual([{ seq: 0, row_count: 100 }, { seq: 1, row_count: 50 }]);
  });

  it('takes exactly one of several concurrent uploads of the same chunk', async () => {
    const guid = newScanGuid();
    const body = csvRows(0, 2000);
    const answers = await Promise.all(Array.from({ length: 6 }, () => putChunk(harness.app, { guid, seq: 0, token: agent, body, gzip: true })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 202]);
    expect((await seal(harness.app, agent, guid, 1)).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', rowsIngested: 2000 });
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(2000);
    expect(spoolFiles(tenant.code, guid)).toEqual([]);
  });

  it('accepts chunks out of order and a seal that arrives before the last chunk', async () => {
    const guid = newScanGuid();
    expect((await putChunk(harness.app, { guid, seq: 3, token: agent, body: csvRows(300, 400) })).statusCode).toBe(202);
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(100, 200) })).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 4)).statusCode).toBe(202);
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 100) })).statusCode).toBe(202);
    const running = (await getScan(harness.app, agent, guid)).json();
    expect(running).toMatchObject({ status: 'RUNNING', sealed: true, totalChunks: 4 });
    expect((await putChunk(harness.app, { guid, seq: 2, token: agent, body: csvRows(200, 300) })).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', chunksIngested: 4, rowsIngested: 400 });
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(400);
    await maybeRecordHistory('scanIngestion-out-of-order', harness.temporal.workflow.getHandle(scanWorkflowId(tenant.code, guid)));
  });

  it('ingests a chunk that was spooled but never announced once the scan is sealed', async () => {
    const guid = newScanGuid();
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 40) })).statusCode).toBe(202);
    // As if an api process died after claiming chunk 1 in the spool and before signalling the workflow.
    const writer = await SpoolWriter.create(TEST_DATA_DIR, tenant.code, guid, 1);
    writer.stream.end(Buffer.from(csvRows(40, 90)));
    const { createHash } = await import('node:crypto');
    await writer.commit({ seq: 1, rows: 50, bytes: Buffer.byteLength(csvRows(40, 90)), sha256: createHash('sha256').update(csvRows(40, 90)).digest('hex') });
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(40, 90) })).statusCode).toBe(200);
    expect((await seal(harness.app, agent, guid, 2)).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', rowsIngested: 90 });
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(90);
  });

  it('seals an empty scan given its headers, which ends OK with no files', async () => {
    const guid = newScanGuid();
    expect((await seal(harness.app, agent, guid, 0)).statusCode).toBe(404);
    expect((await seal(harness.app, agent, guid, 0, SCAN_HEADERS)).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', totalChunks: 0, rowsIngested: 0 });
  });

  it('refuses chunks for a finished scan, a different seal, a seal below a received chunk, and other scan headers', async () => {
    const guid = newScanGuid();
    expect((await putChunk(harness.app, { guid, seq: 2, token: agent, body: csvRows(0, 10) })).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 2)).statusCode).toBe(409);
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(10, 20), headers: { 'x-share-name': 'other' } })).statusCode).toBe(409);
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(10, 20) })).statusCode).toBe(202);
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(20, 30) })).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 3)).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 4)).statusCode).toBe(409);
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ status: 'OK', rowsIngested: 30 });
    const late = await putChunk(harness.app, { guid, seq: 3, token: agent, body: csvRows(30, 40) });
    expect(late.statusCode).toBe(409);
    expect(late.headers['content-type']).toContain('application/problem+json');
    expect(await fileCount(harness.admin, tenant.tenantId, guid)).toBe(30);
  });
});

describe('tenant isolation', () => {
  it("does not let tenant A's token upload into or read tenant B's scan", async () => {
    const other = await onboardViaApi(harness.app, await installAdminToken());
    const otherAgent = await issueTokenViaApi(harness.app, other, 'scanner', 'agent');
    const guid = newScanGuid();
    expect((await putChunk(harness.app, { guid, seq: 0, token: otherAgent, body: csvRows(0, 30) })).statusCode).toBe(202);
    expect((await seal(harness.app, otherAgent, guid, 1)).statusCode).toBe(202);
    expect(await waitForScanEnd(harness.app, otherAgent, guid)).toMatchObject({ status: 'OK', rowsIngested: 30 });

    expect((await getScan(harness.app, agent, guid)).statusCode).toBe(404);
    const named = await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(30, 40), headers: { 'x-tenant-code': other.code } });
    expect(named.statusCode).toBe(403);
    expect((await seal(harness.app, agent, guid, 1)).statusCode).toBe(404);
    const viewer = await issueTokenViaApi(harness.app, other, 'watcher', 'viewer');
    expect((await putChunk(harness.app, { guid, seq: 1, token: viewer, body: csvRows(30, 40) })).statusCode).toBe(403);
    expect((await getScan(harness.app, viewer, guid)).json()).toMatchObject({ status: 'OK', rowsIngested: 30 });
    expect(await fileCount(harness.admin, other.tenantId, guid)).toBe(30);
    expect(await countRows(harness.admin, 'scan', tenant.tenantId)).toBeGreaterThan(0);
    expect(await scanRow(harness.admin, tenant.tenantId, guid)).toBeUndefined();
  });

  it('scopes the same scan GUID per tenant: uploads under it by another tenant make that tenant its own scan', async () => {
    const other = await onboardViaApi(harness.app, await installAdminToken());
    const otherAgent = await issueTokenViaApi(harness.app, other, 'scanner', 'agent');
    const guid = newScanGuid();
    const gz = gzipSync(Buffer.from(csvRows(0, 5)));
    expect((await putChunk(harness.app, { guid, seq: 0, token: otherAgent, body: gz, headers: { 'content-encoding': 'gzip' } })).statusCode).toBe(202);
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 7) })).statusCode).toBe(202);
    await seal(harness.app, otherAgent, guid, 1);
    await seal(harness.app, agent, guid, 1);
    expect(await waitForScanEnd(harness.app, otherAgent, guid)).toMatchObject({ rowsIngested: 5 });
    expect(await waitForScanEnd(harness.app, agent, guid)).toMatchObject({ rowsIngested: 7 });
  });
});
