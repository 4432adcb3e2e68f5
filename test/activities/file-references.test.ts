// The references of `file` (to its scan and its dir) are checked once per statement
// by triggers instead of per-row foreign keys: what a foreign key refused is still
// refused (with SQLSTATE 23503 and nothing written), and deleting a scan still
// deletes its files.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { withTenant, type FunctionRole } from '../../db/tenant-tx';
import { FOREIGN_KEY_VIOLATION } from '../../db/sqlstate';
import { startHarness, type Harness } from '../support/harness';

let harness: Harness;
interface Fixture { tenantId: string; scanId: number; dirId: number }
let a: Fixture;
let b: Fixture;

async function createTenant(): Promise<Fixture> {
  const tenantId = randomUUID();
  await harness.admin.query(
    `INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'References', 'none', 'vault:v1:test')`,
    [tenantId, `ref-${tenantId.slice(0, 8)}`]);
  const scan = await harness.admin.query(
    `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at) VALUES ($1, $2, 'share', 'POSIX', now()) RETURNING id`,
    [tenantId, randomUUID()]);
  const path = `/refs-${tenantId.slice(0, 8)}`;
  const dir = await harness.admin.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path) VALUES ($1, dir_path_hash($2), $2) RETURNING id`, [tenantId, path]);
  return { tenantId, scanId: Number(scan.rows[0].id), dirId: Number(dir.rows[0].id) };
}

const as = <T>(tenant: Fixture, role: FunctionRole, work: (client: PoolClient) => Promise<T>) =>
  withTenant(harness.pool, { tenantId: tenant.tenantId, role }, work);

/** Inserts `rows` file rows in one statement, as a bulk writer does. */
function insertFiles(client: PoolClient, tenantId: string, scanId: number, dirId: number, rows: number, prefix = 'f') {
  return client.query(
    `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix)
     SELECT $1, $2, $3, $5 || i, i, 1, 1, 1 FROM generate_series(1, $4::int) AS i`, [tenantId, scanId, dirId, rows, prefix]);
}

const countFiles = async (scanId: number) =>
  (await harness.admin.query('SELECT count(*)::int AS n FROM file WHERE scan_id = $1', [scanId])).rows[0].n as number;

beforeAll(async () => {
  harness = await startHarness({ workers: false });
  a = await createTenant();
  b = await createTenant();
});
afterAll(async () => harness.close());

describe('file references', () => {
  it('accepts a bulk insert whose rows all reference the tenant’s own scan and dirs', async () => {
    await as(a, 'strata_ingest', (client) => insertFiles(client, a.tenantId, a.scanId, a.dirId, 5_000));
    expect(await countFiles(a.scanId)).toBe(5_000);
  });

  it('refuses a statement with one row pointing at a dir that does not exist, writing none of its rows', async () => {
    const missingDir = a.dirId + 1_000_000;
    const attempt = as(a, 'strata_indexer', (client) => client.query(
      `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix)
       SELECT $1, $2, CASE WHEN i = 700 THEN $4::bigint ELSE $3::bigint END, 'g' || i, 0, 1, 1, 1 FROM generate_series(1, 1000) AS i`,
      [a.tenantId, a.scanId, a.dirId, missingDir]));
    await expect(attempt).rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`dir ${missingDir}`) });
    expect(await countFiles(a.scanId)).toBe(5_000);
  });

  it("refuses rows of tenant A that point at tenant B's scan or B's dir", async () => {
    await expect(as(a, 'strata_ingest', (client) => insertFiles(client, a.tenantId, b.scanId, a.dirId, 10)))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`scan ${b.scanId}`) });
    await expect(as(a, 'strata_ingest', (client) => insertFiles(client, a.tenantId, a.scanId, b.dirId, 10, 'x')))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`dir ${b.dirId}`) });
    expect(await countFiles(b.scanId)).toBe(0);
  });

  it('refuses moving a row to a dir that does not exist, and leaves updates of other columns alone', async () => {
    const row = (await harness.admin.query('SELECT id FROM file WHERE scan_id = $1 ORDER BY id LIMIT 1', [a.scanId])).rows[0].id;
    await expect(as(a, 'strata_indexer', (client) => client.query('UPDATE file SET dir_id = $2 WHERE id = $1', [row, b.dirId])))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    const updated = await as(a, 'strata_remediator', (client) => client.query('UPDATE file SET security_id = 7, mode = 420 WHERE id = $1', [row]));
    expect(updated.rowCount).toBe(1);
  });

  it('refuses deleting a dir, or moving it to another tenant, while file rows still reference it', async () => {
    await expect(harness.admin.query('DELETE FROM dir WHERE id = $1', [a.dirId])).rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    await expect(harness.admin.query('UPDATE dir SET tenant_id = $2 WHERE id = $1', [a.dirId, b.tenantId]))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`dir ${a.dirId} is still referenced`) });
  });

  it("deletes a scan's files with the scan, and only its files", async () => {
    await as(b, 'strata_ingest', (client) => insertFiles(client, b.tenantId, b.scanId, b.dirId, 20));
    await harness.admin.query('DELETE FROM scan WHERE id = $1', [a.scanId]);
    expect(await countFiles(a.scanId)).toBe(0);
    expect(await countFiles(b.scanId)).toBe(20);
  });
});
