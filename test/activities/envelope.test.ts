// Envelope encryption with tenant data keys: unit round trips and, against the
// real Vault, key isolation between tenants, rotation, and no plaintext DEK at rest.
import { randomBytes } from 'node:crypto';
import { dataKeyId, open, seal, sealedKeyId } from '../../lib/envelope';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';

describe('envelope helper', () => {
  const dek = randomBytes(32);

  it('round-trips and records the key id with the ciphertext', () => {
    const sealed = seal(dek, 'smb-password: hunter2', 'tier2_target/1');
    expect(sealed).not.toContain('hunter2');
    expect(sealedKeyId(sealed)).toBe(dataKeyId(dek));
    expect(open(dek, sealed, 'tier2_target/1').toString()).toBe('smb-password: hunter2');
  });

  it('refuses a tampered ciphertext, another key, and other associated data', () => {
    const sealed = seal(dek, 'secret', 'a');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[0] ^= 1;
    expect(() => open(dek, [...parts.slice(0, 3), body.toString('base64url')].join('.'), 'a')).toThrow();
    expect(() => open(randomBytes(32), sealed, 'a')).toThrow(/sealed with data key/);
    expect(() => open(dek, sealed, 'b')).toThrow();
  });
});

describe('tenant data keys in Vault', () => {
  let harness: Harness;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    harness = await startHarness({ workers: true });
    const token = await installAdminToken();
    a = await onboardViaApi(harness.app, token);
    b = await onboardViaApi(harness.app, token);
  });
  afterAll(async () => harness.close());

  const wrapped = async (tenant: TestTenant) =>
    (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE id = $1', [tenant.tenantId])).rows[0].encrypted_dek as string;

  it("does not unwrap tenant A's data key with tenant B's transit key", async () => {
    const aDek = await wrapped(a);
    expect((await harness.vault.unwrapDataKey(a.code, aDek)).length).toBe(32);
    await expect(harness.vault.unwrapDataKey(b.code, aDek)).rejects.toThrow();
  });

  it('stores no plaintext data key in any table', async () => {
    for (const tenant of [a, b]) {
      const dek = await harness.vault.unwrapDataKey(tenant.code, await wrapped(tenant));
      const columns = await harness.admin.query(
        `SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'jsonb', 'character varying')`);
      expect(columns.rowCount).toBeGreaterThan(10);
      for (const { table_name: table, column_name: column, data_type: type } of columns.rows) {
        const found = type === 'bytea'
          ? await harness.admin.query(`SELECT count(*)::int AS n FROM "${table}" WHERE position($1::bytea IN "${column}") > 0`, [dek])
          : await harness.admin.query(`SELECT count(*)::int AS n FROM "${table}" WHERE strpos("${column}"::text, $1) > 0 OR strpos("${column}"::text, $2) > 0`,
            [dek.toString('base64'), dek.toString('hex')]);
        expect({ table, column, n: found.rows[0].n }).toEqual({ table, column, n: 0 });
      }
    }
  });

  it('keeps sealed secrets readable across a key rotation', async () => {
    const before = await wrapped(a);
    const sealed = seal(await harness.dataKeys.dataKey(a.code, before), 'tier-2 credentials');
    const rotate = await harness.app.inject({ method: 'POST', url: `/api/v1/tenants/${a.code}/rotate-key`, headers: { authorization: `Bearer ${a.adminToken}` } });
    expect(rotate.statusCode).toBe(200);
    const after = await wrapped(a);
    expect(after).not.toBe(before);
    harness.dataKeys.clear();
    expect(open(await harness.dataKeys.dataKey(a.code, after), sealed).toString()).toBe('tier-2 credentials');
  });
});
