// The chunk load activity on its own, against real Postgres: a retry after a failure
// at any point gives the same rows, concurrent attempts load a chunk once, and a
// corrupted or missing spool file fails for good without writing anything.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Pool, PoolClient } from 'pg';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { csvRows, newScanGuid } from '../support/ingest-helpers';
import { createIngestActivities, type IngestChunkInput } from '../../activities/ingest';
import { resolveSpoolRef, SpoolWriter } from '../../lib/spool';

let harness: Harness;
let tenant: TestTenant;
let activities: ReturnType<typeof createIngestActivities>;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  activities = createIngestActivities({ pool: harness.pool }, () => TEST_DATA_DIR);
});
afterAll(async () => harness.close());

async function spooledChunk(scanId: number, guid: string, seq: number, csv: string): Promise<IngestChunkInput> {
  const writer = await SpoolWriter.create(TEST_DATA_DIR, tenant.code, guid, seq);
  writer.stream.end(Buffer.from(csv));
  const sha256 = createHash('sha256').update(csv).digest('hex');
  await writer.commit({ seq, rows: csv.split('\n').length - 1, bytes: Buffer.byteLength(csv), sha256 });
  return { tenantId: tenant.tenantId, tenantCode: tenant.code, scanId, seq, spoolRef: writer.spoolRef, rows: 0, sha256 };
}

async function newScan(): Promise<{ scanId: number; guid: string }> {
  const guid = newScanGuid();
  const registered = await activities.registerScan({ tenantId: tenant.tenantId, scanGuid: guid, shareName: 's', srcType: 'POSIX', startedAt: new Date().toISOString() });
  return { scanId: registered.scanId, guid };
}

async function counts(scanId: number): Promise<{ files: number; distinct: number; chunks: number }> {
  const result = await harness.admin.query(
    `SELECT count(*)::int AS files, count(DISTINCT (dir_id, name))::int AS distinct,
            (SELECT count(*)::int FROM ingest_chunk WHERE scan_id = $1) AS chunks FROM file WHERE scan_id = $1`, [scanId]);
  return result.rows[0];
}

/** A pool whose clients fail the first statement matching `pattern`, as a crash at that point would. */
function failingOnce(pool: Pool, pattern: RegExp): Pool {
  let failed = false;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return async () => {
        const client: PoolClient = await target.connect();
        return new Proxy(client, {
          get(inner, name, innerReceiver) {
            if (name !== 'query') return Reflect.get(inner, name, innerReceiver);
            return (config: unknown, ...rest: unknown[]) => {
              const text = typeof config === 'string' ? config : (config as { text?: string }).text ?? '';
              if (!failed && pattern.test(text)) { failed = true; return Promise.reject(new Error(`simulated crash at ${pattern}`)); }
              return (inner.query as (...args: unknown[]) => unknown).call(inner, config, ...rest);
            };
          },
        });
      };
    },
  });
}

describe('loading one chunk', () => {
  it('loads once: a second run finds the chunk marked and skips it, and the spool file is gone', async () => {
    const { scanId, guid } = await newScan();
    const input = await spooledChunk(scanId, guid, 0, csvRows(0, 500));
    const first = await activities.ingestChunk(input);
    expect(first).toMatchObject({ skipped: false, rows: 500, filesInserted: 500, dirsNew: 50 });
    expect(existsSync(resolveSpoolRef(TEST_DATA_DIR, input.spoolRef))).toBe(false);
    expect(await activities.ingestChunk(input)).toMatchObject({ skipped: true });
    expect(await counts(scanId)).toEqual({ files: 500, distinct: 500, chunks: 1 });
  });

  it.each([
    ['after the COPY, before normalizing', /^CREATE TEMP TABLE chunk_dir/],
    ['after the directories, before the files', /^INSERT INTO file/],
    ['after the files, before marking the chunk', /^INSERT INTO ingest_chunk/],
    ['at commit', /^COMMIT/],
  ])('gives the same rows when retried after a failure %s', async (_where, pattern) => {
    const { scanId, guid } = await newScan();
    const input = await spooledChunk(scanId, guid, 0, csvRows(0, 300));
    const crashing = createIngestActivities({ pool: failingOnce(harness.pool, pattern) }, () => TEST_DATA_DIR);
    await expect(crashing.ingestChunk(input)).rejects.toThrow(/simulated crash/);
    expect(await counts(scanId)).toEqual({ files: 0, distinct: 0, chunks: 0 });
    expect(await activities.ingestChunk(input)).toMatchObject({ skipped: false, filesInserted: 300 });
    expect(await counts(scanId)).toEqual({ files: 300, distinct: 300, chunks: 1 });
  });

  it('skips a chunk whose spool file survived a crash after the commit, and removes the file', async () => {
    const { scanId, guid } = await newScan();
    const input = await spooledChunk(scanId, guid, 0, csvRows(0, 100));
    await activities.ingestChunk(input);
    const again = await spooledChunk(scanId, guid, 0, csvRows(0, 100));
    expect(await activities.ingestChunk(again)).toMatchObject({ skipped: true });
    expect(existsSync(resolveSpoolRef(TEST_DATA_DIR, again.spoolRef))).toBe(false);
    expect(await counts(scanId)).toEqual({ files: 100, distinct: 100, chunks: 1 });
  });

  it('loads a chunk once when several attempts run at the same time, and chunks of one scan one after another', async () => {
    const { scanId, guid } = await newScan();
    const zero = await spooledChunk(scanId, guid, 0, csvRows(0, 3000));
    const one = await spooledChunk(scanId, guid, 1, csvRows(3000, 6000));
    const results = await Promise.allSettled([zero, zero, zero, one, one].map((input) => activities.ingestChunk(input)));
    const loaded = results.filter((r) => r.status === 'fulfilled' && !r.value.skipped);
    expect(loaded).toHaveLength(2);
    // An attempt that finds the file already removed by the winner fails and would be retried; the retry skips.
    for (const input of [zero, one]) expect(await activities.ingestChunk(input)).toMatchObject({ skipped: true });
    expect(await counts(scanId)).toEqual({ files: 6000, distinct: 6000, chunks: 2 });
  });

  it('fails for good on a spool file that does not match its hash, writing nothing', async () => {
    const { scanId, guid } = await newScan();
    const input = await spooledChunk(scanId, guid, 0, csvRows(0, 50));
    await expect(activities.ingestChunk({ ...input, sha256: 'f'.repeat(64) })).rejects.toMatchObject({ name: 'ChecksumMismatchError' });
    expect(await counts(scanId)).toEqual({ files: 0, distinct: 0, chunks: 0 });
  });

  it("refuses a spool reference outside the tenant's own spool", async () => {
    const { scanId, guid } = await newScan();
    const input = await spooledChunk(scanId, guid, 0, csvRows(0, 5));
    await expect(activities.ingestChunk({ ...input, spoolRef: input.spoolRef.replace(tenant.code, 'other-tenant') }))
      .rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(await counts(scanId)).toEqual({ files: 0, distinct: 0, chunks: 0 });
  });

  it('fails for good on a chunk that is neither ingested nor spooled', async () => {
    const { scanId, guid } = await newScan();
    const input = await spooledChunk(scanId, guid, 0, csvRows(0, 50));
    await activities.removeScanSpool({ tenantCode: tenant.code, scanGuid: guid });
    await expect(activities.ingestChunk(input)).rejects.toMatchObject({ name: 'SpoolMissingError' });
  });

  it('keeps the first of a file listed twice in a chunk, and skips files an earlier chunk of the scan already had', async () => {
    const { scanId, guid } = await newScan();
    const twice = csvRows(80_000, 80_010) + csvRows(80_005, 80_006).replace(',800050,', ',1,');
    expect(await activities.ingestChunk(await spooledChunk(scanId, guid, 0, twice))).toMatchObject({ rows: 11, filesInserted: 10 });
    const size = await harness.admin.query(`SELECT size_bytes FROM file WHERE scan_id = $1 AND name = 'file-80005.dat'`, [scanId]);
    expect(size.rows).toEqual([{ size_bytes: 800050 }]);
    const overlapping = await activities.ingestChunk(await spooledChunk(scanId, guid, 1, csvRows(80_008, 80_020)));
    expect(overlapping).toMatchObject({ skipped: false, rows: 12, filesInserted: 10 });
    expect(await counts(scanId)).toEqual({ files: 20, distinct: 20, chunks: 2 });
  });

  it('shares directories across scans of a tenant and keeps rows of each scan apart', async () => {
    const a = await newScan();
    const b = await newScan();
    await activities.ingestChunk(await spooledChunk(a.scanId, a.guid, 0, csvRows(90_000, 90_200)));
    const second = await activities.ingestChunk(await spooledChunk(b.scanId, b.guid, 0, csvRows(90_100, 90_300)));
    expect(second).toMatchObject({ filesInserted: 200, dirsNew: 10 });
    expect((await counts(a.scanId)).files).toBe(200);
    expect((await counts(b.scanId)).files).toBe(200);
  });
});
