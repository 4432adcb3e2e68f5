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

const FUNCTION_ROLES = ['strata_api', 'strata_ingest', 'strata_planner', 'strata_actor', 'strata_sanitizer', 'strata_indexer', 'strata_remediator', 'strata_report'] as const;

/** A fresh tenant whose chain holds `entries` test events. */
async function chainedTenant(entries: number): Promise<TestTenant> {
  const fresh = await onboardViaApi(harness.app, await installAdminToken());
  await withTenant(harness.pool, { tenantId: fresh.tenantId, role: 'strata_api' }, async (client) => {
    for (let i = 0; i < entries; i += 1) await appendAudit(client, fresh.tenantId, { actor: 'tester', action: 'test.event', target: `/q/${i}`, details: { i } });
  });
  return fresh;
}

/** What an attacker with the superuser's rights would do: switch the guard off, change rows, switch it on. */
async function tamper(statements: string[], params: unknown[]): Promise<void> {
  const client = await harness.admin.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
    for (const sql of statements) await client.query(sql, params);
    await client.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function verifyViaApi(who: TestTenant): Promise<Record<string, unknown>> {
  const response = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: { authorization: `Bearer ${who.adminToken}` } });
  expect(response.statusCode).toBe(200);
  return response.json();
}

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

describe('audit log, every role and every way of tampering', () => {
  it('refuses every function role changing, deleting or truncating entries, or switching the guard off', async () => {
    const statements = [
      `UPDATE audit_log SET actor = 'x'`, 'DELETE FROM audit_log', 'TRUNCATE audit_log',
      'ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update', 'DROP TRIGGER audit_log_no_update ON audit_log',
    ];
    for (const role of FUNCTION_ROLES) {
      for (const sql of statements) {
        await expect(withTenant(harness.pool, { tenantId: tenant.tenantId, role }, (client) => client.query(sql)))
          .rejects.toThrow(/permission denied|append-only|must be owner/);
      }
    }
  });

  it('ignores a forged sequence number and hashes on insert: the database computes the chain', async () => {
    const fresh = await chainedTenant(2);
    await withTenant(harness.pool, { tenantId: fresh.tenantId, role: 'strata_api' }, (client) => client.query(
      `INSERT INTO audit_log (tenant_id, seq, actor, action, prev_hash, hash) VALUES ($1, 999, 'forger', 'forged', '\\xdead', '\\xbeef')`, [fresh.tenantId]));
    const rows = await harness.admin.query(`SELECT seq, actor FROM audit_log WHERE tenant_id = $1 ORDER BY seq`, [fresh.tenantId]);
    expect(rows.rows.at(-1)).toEqual({ seq: rows.rows.length, actor: 'forger' });
    expect(await verifyViaApi(fresh)).toMatchObject({ valid: true, entries: rows.rows.length });
  });

  it.each([
    ['a deleted entry', ['DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 3'], { firstBadSeq: 4, reason: 'sequence gap: expected 3' }],
    ['a changed actor', [`UPDATE audit_log SET actor = 'someone else' WHERE tenant_id = $1 AND seq = 2`], { firstBadSeq: 2, reason: 'hash does not match the entry content' }],
    ['a back-dated entry', [`UPDATE audit_log SET at = at - interval '1 day' WHERE tenant_id = $1 AND seq = 4`], { firstBadSeq: 4, reason: 'hash does not match the entry content' }],
    ['a changed entry whose own hash was recomputed', [
      `UPDATE audit_log SET details = '{"i": 99}' WHERE tenant_id = $1 AND seq = 2`,
      'UPDATE audit_log SET hash = audit_entry_hash(prev_hash, audit_log) WHERE tenant_id = $1 AND seq = 2',
    ], { firstBadSeq: 3, reason: 'prev_hash does not match the previous entry' }],
    ['a renumbered entry', ['UPDATE audit_log SET seq = seq + 100 WHERE tenant_id = $1 AND seq = 5'], { firstBadSeq: 6, reason: 'sequence gap: expected 5' }],
    ['a broken link', [`UPDATE audit_log SET prev_hash = '\\x00' WHERE tenant_id = $1 AND seq = 3`], { firstBadSeq: 3, reason: 'prev_hash does not match the previous entry' }],
  ])('detects %s through /audit/verify', async (_name, statements, expected) => {
    const fresh = await chainedTenant(6);
    expect(await verifyViaApi(fresh)).toMatchObject({ valid: true });
    await tamper(statements, [fresh.tenantId]);
    expect(await verifyViaApi(fresh)).toMatchObject({ valid: false, ...expected });
  });
});
