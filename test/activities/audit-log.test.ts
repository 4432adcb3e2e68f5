// The audit trail is append-only in the database and its hash chain detects tampering.
import { withTenant } from '../../db/tenant-tx';
import { appendAudit, verifyAudit } from '../../db/queries/audit';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';

let harness: Harness;
let tenant: TestTenant;

beforeAll(async () => {
  harness = await startHarness({ workers: true });
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  await withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_api' }, async (client) => {
    for (let i = 0; i < 5; i += 1) await appendAudit(client, tenant.tenantId, { actor: 'tester', action: 'test.event', target: `/p/${i}`, details: { i } });
    await appendAudit(client, tenant.tenantId, { actor: 'tester', action: 'test.once', eventKey: 'once' });
    await appendAudit(client, tenant.tenantId, { actor: 'tester', action: 'test.once', eventKey: 'once' });
  });
});
afterAll(async () => harness.close());

const verify = () => withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_report' }, verifyAudit);

describe('audit log', () => {
  it('chains entries per tenant and verifies; an event key is recorded once', async () => {
    const result = await verify();
    expect(result).toEqual({ entries: 7, valid: true, firstBadSeq: null, reason: null });
    const rows = await harness.admin.query('SELECT seq, prev_hash, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq', [tenant.tenantId]);
    expect(rows.rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (let i = 1; i < rows.rows.length; i += 1) expect(rows.rows[i].prev_hash).toEqual(rows.rows[i - 1].hash);
  });

  it('refuses UPDATE, DELETE and TRUNCATE, even for the superuser', async () => {
    await expect(harness.admin.query(`UPDATE audit_log SET actor = 'x' WHERE tenant_id = $1`, [tenant.tenantId])).rejects.toThrow(/append-only/);
    await expect(harness.admin.query(`DELETE FROM audit_log WHERE tenant_id = $1`, [tenant.tenantId])).rejects.toThrow(/append-only/);
    await expect(harness.admin.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    await expect(withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_api' }, (client) =>
      client.query(`UPDATE audit_log SET actor = 'x'`))).rejects.toThrow(/permission denied/);
  });

  it('detects a tampered entry through /audit/verify', async () => {
    const client = await harness.admin.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
      await client.query(`UPDATE audit_log SET details = '{"i": 42}' WHERE tenant_id = $1 AND seq = 3`, [tenant.tenantId]);
      await client.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const response = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ valid: false, firstBadSeq: 3, reason: 'hash does not match the entry content' });
  });
});
