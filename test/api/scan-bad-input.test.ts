// Every bad chunk upload of SPEC §6 that applies gets its 4xx with where and why,
// and leaves nothing behind: no scan row, no file rows, no spool file, no workflow.
// Postgres or Temporal being down answers 503 with Retry-After.
import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { csvRows, getScan, newScanGuid, putChunk, scanRow, seal, SCAN_HEADERS } from '../support/ingest-helpers';
import { scanSpoolDir } from '../../lib/spool';
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

async function expectNothingKept(guid: string): Promise<void> {
  expect(await scanRow(harness.admin, tenant.tenantId, guid)).toBeUndefined();
  let files: string[] = [];
  try { files = readdirSync(scanSpoolDir(TEST_DATA_DIR, tenant.code, guid)); } catch { /* never created */ }
  expect(files).toEqual([]);
  await expect(harness.temporal.workflow.getHandle(scanWorkflowId(tenant.code, guid)).describe()).rejects.toThrow();
}

const row = 'C:\\x,a.txt,1,1700000000,1700000000,1700000000\n';
const bad: [string, string | Buffer, number, Record<string, unknown>?][] = [
  ['malformed CSV (an unterminated quote)', `${row}"C:\\x,b.txt,1,2,3,4\n`, 400, { line: 2 }],
  ['truncated CSV (the last row cut short)', `${row}${row}C:\\x,c.txt,1,17`, 400, { line: 3, reason: 'expected 6 columns, found 4' }],
  ['a wrong column count', `${row}C:\\x,b.txt,1,2,3\n`, 400, { line: 2 }],
  ['a non-numeric size', 'C:\\x,b.txt,ten,2,3,4\n', 400, { line: 1, column: 3, field: 'size_bytes' }],
  ['a negative size', `${row}${row}C:\\x,b.txt,-1,2,3,4\n`, 400, { line: 3, column: 3, reason: 'size_bytes must not be negative' }],
  ['a time out of range', 'C:\\x,b.txt,1,2,99999999999999,4\n', 400, { column: 5, field: 'mtime_unix' }],
  ['invalid UTF-8', Buffer.concat([Buffer.from('C:\\x,b'), Buffer.from([0xc3, 0x28]), Buffer.from('.txt,1,2,3,4\n')]), 400, { column: 2, reason: 'invalid UTF-8' }],
  ['a NUL byte', 'C:\\x\0y,b.txt,1,2,3,4\n', 400, { column: 1, reason: 'NUL byte' }],
  ['an over-long path', `C:\\${'deep\\'.repeat(500)},b.txt,1,2,3,4\n`, 400, { column: 1, field: 'dir_path' }],
];

describe('bad chunks', () => {
  it.each(bad)('%s gets its 4xx and leaves nothing', async (_name, body, status, where) => {
    const guid = newScanGuid();
    const response = await putChunk(harness.app, { guid, seq: 0, token: agent, body });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const problem = response.json();
    expect(problem.status).toBe(status);
    expect(problem.detail).toMatch(/chunk rejected/);
    expect(problem.errors[0]).toMatchObject(where!);
    await expectNothingKept(guid);
  });

  it('a body that says gzip but is not: 400, nothing kept', async () => {
    const guid = newScanGuid();
    const response = await putChunk(harness.app, { guid, seq: 0, token: agent, body: row, headers: { 'content-encoding': 'gzip' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/not valid gzip/);
    await expectNothingKept(guid);
  });

  it('a truncated gzip body: 400, nothing kept', async () => {
    const guid = newScanGuid();
    const gz = gzipSync(Buffer.from(csvRows(0, 500)));
    const response = await putChunk(harness.app, { guid, seq: 0, token: agent, body: gz.subarray(0, gz.length - 20), headers: { 'content-encoding': 'gzip' } });
    expect(response.statusCode).toBe(400);
    await expectNothingKept(guid);
  });

  describe('with a 64 KiB chunk limit', () => {
    beforeAll(() => { process.env.STRATA_CHUNK_MAX_BYTES = String(64 * 1024); });
    afterAll(() => { delete process.env.STRATA_CHUNK_MAX_BYTES; });

    it('a chunk over the size limit: 413, nothing kept', async () => {
      const guid = newScanGuid();
      const response = await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 2000) });
      expect(response.statusCode).toBe(413);
      await expectNothingKept(guid);
    });

    it('a gzip bomb (tiny body, huge output): 413 once the output passes the limit, nothing kept', async () => {
      const guid = newScanGuid();
      const bomb = gzipSync(Buffer.from(row.repeat(200_000)), { level: 9 });
      expect(bomb.length).toBeLessThan(64 * 1024);
      const response = await putChunk(harness.app, { guid, seq: 0, token: agent, body: bomb, headers: { 'content-encoding': 'gzip' } });
      expect(response.statusCode).toBe(413);
      await expectNothingKept(guid);
    });
  });

  it('an unsupported Content-Encoding or Content-Type: 415', async () => {
    const guid = newScanGuid();
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: row, headers: { 'content-encoding': 'br' } })).statusCode).toBe(415);
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: '{}', headers: { 'content-type': 'application/json' } })).statusCode).toBe(415);
    await expectNothingKept(guid);
  });

  it('missing or bad scan headers, GUID or sequence: 400 naming the field', async () => {
    const guid = newScanGuid();
    const noShare = await putChunk(harness.app, { guid, seq: 0, token: agent, body: row, headers: { 'x-share-name': '' } });
    expect(noShare.statusCode).toBe(400);
    expect(noShare.json().errors.map((e: { field: string }) => e.field)).toContain('headers.x-share-name');
    const source = await putChunk(harness.app, { guid, seq: 0, token: agent, body: row, headers: { 'x-source-type': 'FAT32' } });
    expect(source.json().errors.map((e: { field: string }) => e.field)).toContain('headers.x-source-type');
    const started = await putChunk(harness.app, { guid, seq: 0, token: agent, body: row, headers: { 'x-scan-started': 'yesterday' } });
    expect(started.json().errors.map((e: { field: string }) => e.field)).toContain('headers.x-scan-started');
    expect((await putChunk(harness.app, { guid: 'not-a-guid', seq: 0, token: agent, body: row })).statusCode).toBe(400);
    expect((await putChunk(harness.app, { guid, seq: -1, token: agent, body: row })).statusCode).toBe(400);
    await expectNothingKept(guid);
  });

  it('no token, or a token naming another tenant: 401 and 403', async () => {
    const other = await onboardViaApi(harness.app, await installAdminToken());
    const guid = newScanGuid();
    const anonymous = await harness.app.inject({ method: 'PUT', url: `/api/v1/scans/${guid}/chunks/0`, payload: row, headers: { 'content-type': 'text/csv', ...SCAN_HEADERS } });
    expect(anonymous.statusCode).toBe(401);
    const crossed = await putChunk(harness.app, { guid, seq: 0, token: agent, body: row, headers: { 'x-tenant-code': other.code } });
    expect(crossed.statusCode).toBe(403);
    await expectNothingKept(guid);
  });

  it('an unknown scan: 404 for progress and seal', async () => {
    const guid = newScanGuid();
    expect((await getScan(harness.app, agent, guid)).statusCode).toBe(404);
    expect((await seal(harness.app, agent, guid, 3)).statusCode).toBe(404);
    await expectNothingKept(guid);
  });
});

describe('dependencies down', () => {
  it('answers 503 with Retry-After when Postgres is unreachable, keeping nothing', async () => {
    const deadPool = new Pool({ connectionString: 'postgres://strata_app:x@127.0.0.1:1/strata', connectionTimeoutMillis: 2000 });
    const app = await buildApp({ pool: deadPool, temporal: harness.temporal, temporalConnection: harness.connection, vault: harness.vault, dataDir: TEST_DATA_DIR });
    try {
      const guid = newScanGuid();
      const response = await putChunk(app, { guid, seq: 0, token: agent, body: row });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json().detail).toMatch(/Postgres/);
      await expectNothingKept(guid);
    } finally {
      await app.close();
      await deadPool.end();
    }
  });

  it('answers 503 with Retry-After when Temporal is unreachable, before taking the body', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const app = await buildApp({ pool: harness.pool, temporal: new Client({ connection }), temporalConnection: connection, vault: harness.vault, dataDir: TEST_DATA_DIR });
    try {
      const guid = newScanGuid();
      const response = await putChunk(app, { guid, seq: 0, token: agent, body: row });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json().detail).toMatch(/Temporal/);
      await expectNothingKept(guid);
    } finally {
      await app.close();
      await connection.close();
    }
  });
});
