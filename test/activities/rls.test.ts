// Row-level security: with tenant A pinned, no statement reaches tenant B's rows,
// and with no tenant pinned nothing is visible. Also checks who owns what.
import { randomUUID } from 'node:crypto';
import { withTenant, type FunctionRole } from '../../db/tenant-tx';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';

let harness: Harness;
let a: TestTenant;
let b: TestTenant;
let bScanId: number;

beforeAll(async () => {
  harness = await startHarness();
  const token = await installAdminToken();
  a = await onboardViaApi(harness.app, token);
  b = await onboardViaApi(harness.app, token);
  for (const tenant of [a, b]) {
    await withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_ingest' }, async (client) => {
      const scan = await client.query(
        `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at) VALUES ($1, $2, 'share', 'POSIX', now()) RETURNING id`,
        [tenant.tenantId, randomUUID()]);
      const dir = await client.query(`INSERT INTO dir (tenant_id, path_hash, dir_path) VALUES ($1, 1, '/d') RETURNING id`, [tenant.tenantId]);
      await client.query(
        `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix) VALUES ($1, $2, $3, 'f', 1, 1, 1, 1)`,
        [tenant.tenantId, scan.rows[0].id, dir.rows[0].id]);
      if (tenant === b) bScanId = scan.rows[0].id;
    });
  }
});
afterAll(async () => harness.close());

const tables = ['tenant', 'app_user', 'api_token', 'audit_log', 'scan', 'dir', 'file'];

describe('row-level security', () => {
  it('shows only the pinned tenant to every function role', async () => {
    const roles: FunctionRole[] = ['strata_api', 'strata_ingest', 'strata_report', 'strata_planner'];
    for (const role of roles) {
      await withTenant(harness.pool, { tenantId: a.tenantId, role }, async (client) => {
        for (const table of tables) {
          const allowed = await client.query(`SELECT has_table_privilege($1, 'SELECT') AS ok`, [table]);
          if (!allowed.rows[0].ok) continue;
          const column = table === 'tenant' ? 'id' : 'tenant_id';
          const rows = await client.query(`SELECT DISTINCT ${column}::text AS t FROM ${table}`);
          expect(rows.rows.map((r) => r.t)).toEqual(rows.rowCount ? [a.tenantId] : []);
        }
      });
    }
  });

  it("cannot update, delete or insert tenant B's rows while A is pinned", async () => {
    await withTenant(harness.pool, { tenantId: a.tenantId, role: 'strata_ingest' }, async (client) => {
      const updated = await client.query(`UPDATE file SET size_bytes = 999 WHERE tenant_id = $1`, [b.tenantId]);
      expect(updated.rowCount).toBe(0);
      const scans = await client.query(`UPDATE scan SET status = 'ERROR' WHERE id = $1`, [bScanId]);
      expect(scans.rowCount).toBe(0);
    });
    await expect(withTenant(harness.pool, { tenantId: a.tenantId, role: 'strata_ingest' }, (client) =>
      client.query(`INSERT INTO dir (tenant_id, path_hash, dir_path) VALUES ($1, 2, '/evil')`, [b.tenantId])))
      .rejects.toThrow(/row-level security/);
    await withTenant(harness.pool, { tenantId: a.tenantId, role: 'strata_ingest' }, async (client) => {
      const deleted = await client.query(`DELETE FROM staging_file WHERE tenant_id = $1`, [b.tenantId]);
      expect(deleted.rowCount).toBe(0);
    });
    const bFile = await harness.admin.query('SELECT size_bytes FROM file WHERE tenant_id = $1', [b.tenantId]);
    expect(bFile.rows).toEqual([{ size_bytes: 1 }]);
    const bScan = await harness.admin.query('SELECT status FROM scan WHERE id = $1', [bScanId]);
    expect(bScan.rows[0].status).toBe('RUNNING');
  });

  it('shows nothing when no tenant is pinned', async () => {
    await withTenant(harness.pool, { tenantId: null, role: 'strata_report' }, async (client) => {
      for (const table of ['tenant', 'scan', 'dir', 'file', 'audit_log']) {
        expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
      }
    });
  });

  it('runs the app as a login role that owns nothing and cannot bypass RLS', async () => {
    const app = await harness.pool.query(
      `SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = current_user`);
    expect(app.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, rolinherit: false });
    const owners = await harness.admin.query(
      `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'`);
    expect(owners.rows.map((r) => r.tableowner)).toEqual(['strata_owner']);
    const unforced = await harness.admin.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT IN ('schema_version', 'install_admin_token')
          AND NOT (c.relrowsecurity AND c.relforcerowsecurity)`);
    expect(unforced.rows).toEqual([]);
    await expect(harness.pool.query('SELECT count(*) FROM tenant')).rejects.toThrow(/permission denied/);
  });
});
