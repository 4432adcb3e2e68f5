// The references of tier_object (to its tenant, dir and plan) are checked once per
// statement by triggers instead of per-row foreign keys: what a foreign key refused is
// still refused (SQLSTATE 23503, nothing written), including references across tenants,
// and a referenced dir or plan can be neither deleted nor moved to another tenant.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { FOREIGN_KEY_VIOLATION } from '../../db/sqlstate';
import { startHarness, type Harness } from '../support/harness';

let harness: Harness;
interface Fixture { tenantId: string; dirId: number; planId: string }
let a: Fixture;
let b: Fixture;

async function createTenant(): Promise<Fixture> {
  const tenantId = randomUUID();
  await harness.admin.query(
    `INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'Tier references', 'none', 'vault:v1:test')`,
    [tenantId, `tref-${tenantId.slice(0, 8)}`]);
  const path = `/tier-refs-${tenantId.slice(0, 8)}`;
  const dir = await harness.admin.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path) VALUES ($1, dir_path_hash($2), $2) RETURNING id`, [tenantId, path]);
  const planId = randomUUID();
  await harness.admin.query(
    `INSERT INTO tiering_plan (id, tenant_id, share_name, policy, requested_by, workflow_id) VALUES ($1, $2, 'share', '{}', 'test', 'wf')`,
    [planId, tenantId]);
  return { tenantId, dirId: Number(dir.rows[0].id), planId };
}

/** Plans `rows` objects in one statement as the planner does; `badRow` gets dirOverride/planOverride. */
function planObjects(client: PoolClient, tenant: Fixture, rows: number, prefix: string, bad?: { row: number; dirId?: number; planId?: string }) {
  return client.query(
    `INSERT INTO tier_object (tenant_id, share_name, full_path, rel_path, dir_id, name, target_uri, size_bytes, atime_unix, mtime_unix,
                              state, plan_id, planned_by)
     SELECT $1, 'share', '/share/' || $4 || i, $4 || i, CASE WHEN i = $5 THEN $6::bigint ELSE $2::bigint END, $4 || i,
            'file:///tier2/' || $4 || i, i, 1, 1, 'PLANNED', CASE WHEN i = $5 THEN $7::uuid ELSE $3::uuid END, 'test'
       FROM generate_series(1, $8::int) AS i`,
    [tenant.tenantId, tenant.dirId, tenant.planId, prefix, bad?.row ?? 0, bad?.dirId ?? tenant.dirId, bad?.planId ?? tenant.planId, rows]);
}

const asPlanner = <T>(tenant: Fixture, work: (client: PoolClient) => Promise<T>) =>
  withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_planner' }, work);
const countObjects = async (tenant: Fixture) =>
  (await harness.admin.query('SELECT count(*)::int AS n FROM tier_object WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n as number;

beforeAll(async () => {
  harness = await startHarness({ workers: false });
  a = await createTenant();
  b = await createTenant();
});
afterAll(async () => harness.close());

describe('tier_object references', () => {
  it("accepts a plan's bulk insert whose rows reference the tenant's own dir and plan", async () => {
    await asPlanner(a, (client) => planObjects(client, a, 2_000, 'ok-'));
    expect(await countObjects(a)).toBe(2_000);
  });

  it('refuses a statement with one row pointing at a dir or plan that does not exist, writing none of its rows', async () => {
    const missingDir = a.dirId + 1_000_000;
    await expect(asPlanner(a, (client) => planObjects(client, a, 500, 'dir-', { row: 321, dirId: missingDir })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`dir ${missingDir} of tenant ${a.tenantId} does not exist`) });
    const missingPlan = randomUUID();
    await expect(asPlanner(a, (client) => planObjects(client, a, 500, 'plan-', { row: 7, planId: missingPlan })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`tiering plan ${missingPlan}`) });
    expect(await countObjects(a)).toBe(2_000);
  });

  it("refuses rows of tenant A that point at tenant B's dir or B's plan", async () => {
    await expect(asPlanner(a, (client) => planObjects(client, a, 10, 'xd-', { row: 1, dirId: b.dirId })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`dir ${b.dirId}`) });
    await expect(asPlanner(a, (client) => planObjects(client, a, 10, 'xp-', { row: 1, planId: b.planId })))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`tiering plan ${b.planId}`) });
    expect(await countObjects(a)).toBe(2_000);
  });

  it('checks updates that move a row to another dir or plan, and leaves the act updates alone', async () => {
    const row = (await harness.admin.query('SELECT id FROM tier_object WHERE tenant_id = $1 ORDER BY id LIMIT 1', [a.tenantId])).rows[0].id;
    await expect(asPlanner(a, (client) => client.query('UPDATE tier_object SET plan_id = $2 WHERE id = $1', [row, b.planId])))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    const acted = await withTenant(harness.pool, { tenantId: a.tenantId, role: 'strata_actor' }, (client) =>
      client.query("UPDATE tier_object SET last_outcome = 'skipped:changed', last_outcome_at = now() WHERE id = $1", [row]));
    expect(acted.rowCount).toBe(1);
  });

  it('refuses deleting a referenced dir or plan, or moving either to another tenant', async () => {
    await expect(harness.admin.query('DELETE FROM tiering_plan WHERE id = $1', [a.planId])).rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    await expect(harness.admin.query('DELETE FROM dir WHERE id = $1', [a.dirId])).rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION });
    await expect(harness.admin.query('UPDATE tiering_plan SET tenant_id = $2 WHERE id = $1', [a.planId, b.tenantId]))
      .rejects.toMatchObject({ code: FOREIGN_KEY_VIOLATION, message: expect.stringContaining(`tiering_plan ${a.planId} is still referenced from tier_object`) });
    await harness.admin.query('DELETE FROM tiering_plan WHERE id = $1', [b.planId]);
    expect((await harness.admin.query('SELECT count(*)::int AS n FROM tiering_plan WHERE id = $1', [b.planId])).rows[0].n).toBe(0);
  });
});
