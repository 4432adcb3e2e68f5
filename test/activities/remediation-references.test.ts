// The references of remediation_item and remediation_snapshot (to their tenant and run)
// are checked once per statement by triggers instead of per-row foreign keys: what a
// foreign key refused is still refused (SQLSTATE 23503, nothing written), including a
// run of another tenant, and a referenced run can be neither deleted nor moved.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { FOREIGN_KEY_VIOLATION } from '../../db/sqlstate';
import { startHarness, type Harness } from '../support/harness';
import { createRunRow } from '../support/remediation-fixtures';

let harness: Harness;
interface Fixture { tenantId: string; runId: string }
let a: Fixture;
let b: Fixture;

const createRun = (tenantId: string) => createRunRow(harness.admin, tenantId);

async function createTenant(): Promise<Fixture> {
  const tenantId = randomUUID();
  await harness.admin.query(
    `INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'Remediation references', 'none', 'vault:v1:test')`,
    [tenantId, `rref-${tenantId.slice(0, 8)}`]);
  return { tenantId, runId: await createRun(tenantId) };
}

/** Items first..first+rows-1 of a run in one statement, as the planner writes them; row `bad.row` names bad.runId. */
function insertItems(client: PoolClient, tenant: Fixture, first: number, rows: number, bad?: { row: number; runId: string }) {
  return client.query(
    `INSERT INTO remediation_item (tenant_id, run_id, item_no, file_id, file_ref, is_dir, path, source_sd_id, target_sd_id, target_acl)
     SELECT $1, CASE WHEN i = $4 THEN $5::uuid ELSE $2::uuid END, i, i, i, false, '/f' || i, 1, 2, '\\x02000000'
       FROM generate_series($3::int, $3::int + $6::int - 1) AS i`,
    [tenant.tenantId, tenant.runId, first, bad?.row ?? 0, bad?.runId ?? tenant.runId, rows]);
}

function insertSnapshots(client: PoolClient, tenant: Fixture, rows: number, bad?: { row: number; runId: string }) {
  return client.query(
    `INSERT INTO remediation_snapshot (tenant_id, run_id, item_no, state, file_ref, mode, uid, gid)
     SELECT $1, CASE WHEN i = $3 THEN $4::uuid ELSE $2::uuid END, i, 'ok', i, 33188, 0, 0 FROM generate_series(1, $5::int) AS i
     ON CONFLICT DO NOTHING`,
    [tenant.tenantId, tenant.runId, bad?.row ?? 0, bad?.runId ?? tenant.runId, rows]);
}

const asRemediator = <T>(tenant: Fixture, work: (client: PoolClient) => Promise<T>) =>
  withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_remediator' }, work);
const count = async (table: string, tenant: Fixture) =>
  (await harness.admin.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant.tenantId])).rows[0].n as number;

beforeAll(async () => {
  harness = await startHarness({ workers: false });
  a = await createTenant();
  b = await createTenant();
});
afterAll(async () => harness.close());

describe('remediation item and snapshot references', () => {
  it("accepts a plan's items and a snapshot slice that reference the tenant's own run", async () => {
    await asRemediator(a, (client) => insertItems(client, a, 1, 2_000));
    await asRemediator(a, (client) => insertSnapshots(client, a, 1_000));
    expect([await count('remediation_item', a), await count('remediation_snapshot', a)]).toEqual([2_000, 1_000]);
  });

  it('refuses a statement with one row naming a run that does not exist, writing none of its rows', async () => {
    const missing = randomUUID();
    await expect(asRemediator(a, (client) => insertItems(client, a, 5_001, 500, { row: 5_321, runId: missing })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`remediation run ${missing} of tenant ${a.tenantId} does not exist`) });
    await expect(asRemediator(a, (client) => insertSnapshots(client, a, 1_500, { row: 1_200, runId: missing })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`remediation run ${missing}`) });
    expect([await count('remediation_item', a), await count('remediation_snapshot', a)]).toEqual([2_000, 1_000]);
  });

  it("refuses rows of tenant A that name tenant B's run", async () => {
    await expect(asRemediator(a, (client) => insertItems(client, a, 9_001, 10, { row: 9_001, runId: b.runId })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`remediation run ${b.runId} of tenant ${a.tenantId}`) });
    expect(await count('remediation_item', a)).toBe(2_000);
  });

  it('checks updates that move a row to another run, and leaves outcome updates alone', async () => {
    await expect(asRemediator(a, (client) => client.query('UPDATE remediation_item SET run_id = $2 WHERE run_id = $1 AND item_no = 1', [a.runId, b.runId])))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    const recorded = await asRemediator(a, (client) => client.query(
      `UPDATE remediation_item SET outcome = 'applied', verified = true WHERE run_id = $1 AND item_no = ANY($2::integer[])`, [a.runId, [1, 2, 3]]));
    expect(recorded.rowCount).toBe(3);
  });

  it('refuses deleting a referenced run or moving it to another tenant; an unreferenced run can go', async () => {
    await expect(harness.admin.query('DELETE FROM remediation_run WHERE id = $1', [a.runId])).rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    await expect(harness.admin.query('UPDATE remediation_run SET tenant_id = $2 WHERE id = $1', [a.runId, b.tenantId]))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`remediation_run ${a.runId} is still referenced`) });
    await harness.admin.query('DELETE FROM remediation_run WHERE id = $1', [b.runId]);
    expect((await harness.admin.query('SELECT count(*)::int AS n FROM remediation_run WHERE id = $1', [b.runId])).rows[0].n).toBe(0);
  });
});
