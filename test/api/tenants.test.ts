// Tenants, tokens and the api's error contract, against the real stack.
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, uniqueCode } from '../support/tenants';

let harness: Harness;
let installToken: string;

beforeAll(async () => {
  harness = await startHarness();
  installToken = await installAdminToken();
});
afterAll(async () => harness.close());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('tenant onboarding through the api', () => {
  it('onboards a tenant with a transit key, a wrapped data key and a first admin token', async () => {
    const tenant = await onboardViaApi(harness.app, installToken);
    const row = await harness.admin.query('SELECT code, kms_ref, encrypted_dek FROM tenant WHERE id = $1', [tenant.tenantId]);
    expect(row.rows[0]).toMatchObject({ code: tenant.code, kms_ref: `vault:transit/keys/${tenant.code}` });
    expect(row.rows[0].encrypted_dek).toMatch(/^vault:v1:/);
    expect(await harness.vault.latestKeyVersion(tenant.code)).toBe(1);
    const audit = await harness.admin.query('SELECT action FROM audit_log WHERE tenant_id = $1', [tenant.tenantId]);
    expect(audit.rows.map((r) => r.action)).toEqual(['tenant.onboarded']);
  });

  it('answers 409 for a tenant code that exists', async () => {
    const tenant = await onboardViaApi(harness.app, installToken);
    const again = await harness.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: bearer(installToken), payload: { code: tenant.code, name: 'x' } });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
  });

  it('refuses onboarding without a token, with a bad token, and by a tenant admin', async () => {
    const tenant = await onboardViaApi(harness.app, installToken);
    const payload = { code: uniqueCode(), name: 'Nope' };
    const none = await harness.app.inject({ method: 'POST', url: '/api/v1/tenants', payload });
    expect(none.statusCode).toBe(401);
    const bogus = await harness.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: bearer(`strata_${'x'.repeat(43)}`), payload });
    expect(bogus.statusCode).toBe(401);
    const tenantAdmin = await harness.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: bearer(tenant.adminToken), payload });
    expect(tenantAdmin.statusCode).toBe(403);
  });

  it('reports bad input as problem+json naming the field', async () => {
    const response = await harness.app.inject({ method: 'POST', url: '/api/v1/tenants', headers: bearer(installToken), payload: { code: 'Bad Code!', name: '' } });
    expect(response.statusCode).toBe(400);
    const problem = response.json();
    expect(problem.status).toBe(400);
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['body.code', 'body.name']));
  });
});

describe('tokens', () => {
  it('issues a token that authenticates with its role, and revokes it', async () => {
    const tenant = await onboardViaApi(harness.app, installToken);
    const viewer = await issueTokenViaApi(harness.app, tenant, 'vera', 'viewer');
    const events = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/events', headers: bearer(viewer) });
    expect(events.statusCode).toBe(200);
    expect(events.json().events.map((e: { action: string }) => e.action)).toEqual(['token.issued', 'tenant.onboarded']);
    const verify = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: bearer(viewer) });
    expect(verify.statusCode).toBe(403);
    const stored = await harness.admin.query('SELECT token_hash FROM api_token WHERE tenant_id = $1', [tenant.tenantId]);
    for (const row of stored.rows) expect(Buffer.from(row.token_hash).toString('utf8')).not.toContain(viewer);
    const tokenId = (await harness.admin.query(
      `SELECT t.id FROM api_token t JOIN app_user u ON u.id = t.user_id WHERE u.name = 'vera' AND t.tenant_id = $1`, [tenant.tenantId])).rows[0].id;
    const revoke = await harness.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${tokenId}`, headers: bearer(tenant.adminToken) });
    expect(revoke.statusCode).toBe(200);
    const after = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/events', headers: bearer(viewer) });
    expect(after.statusCode).toBe(401);
  });

  it("refuses a token used with another tenant's code, and another tenant's token ids", async () => {
    const a = await onboardViaApi(harness.app, installToken);
    const b = await onboardViaApi(harness.app, installToken);
    const crossHeader = await harness.app.inject({ method: 'GET', url: '/api/v1/audit/events', headers: { ...bearer(a.adminToken), 'x-tenant-code': b.code } });
    expect(crossHeader.statusCode).toBe(403);
    const crossIssue = await harness.app.inject({ method: 'POST', url: `/api/v1/tenants/${b.code}/tokens`, headers: bearer(a.adminToken), payload: { userName: 'eve', role: 'admin' } });
    expect(crossIssue.statusCode).toBe(403);
    const bTokenId = (await harness.admin.query('SELECT id FROM api_token WHERE tenant_id = $1', [b.tenantId])).rows[0].id;
    const crossRevoke = await harness.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${bTokenId}`, headers: bearer(a.adminToken) });
    expect(crossRevoke.statusCode).toBe(404);
    expect((await harness.admin.query('SELECT revoked_at FROM api_token WHERE id = $1', [bTokenId])).rows[0].revoked_at).toBeNull();
  });
});

describe('key rotation', () => {
  it('rotates the transit key and rewraps the stored data key', async () => {
    const tenant = await onboardViaApi(harness.app, installToken);
    const before = (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE id = $1', [tenant.tenantId])).rows[0].encrypted_dek;
    const response = await harness.app.inject({ method: 'POST', url: `/api/v1/tenants/${tenant.code}/rotate-key`, headers: bearer(tenant.adminToken) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ latestVersion: 2, rewrapped: true });
    const after = (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE id = $1', [tenant.tenantId])).rows[0].encrypted_dek;
    expect(after).toMatch(/^vault:v2:/);
    expect(await harness.vault.unwrapDataKey(tenant.code, after)).toEqual(await harness.vault.unwrapDataKey(tenant.code, before));
  });
});

describe('health, readiness, metrics and docs', () => {
  it('serves healthz, readyz with every dependency ok, metrics and OpenAPI', async () => {
    expect((await harness.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await harness.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ ready: true, checks: { postgres: 'ok', temporal: 'ok', vault: 'ok' } });
    const metrics = await harness.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('strata_http_requests_total');
    const openapi = await harness.app.inject({ method: 'GET', url: '/docs/json' });
    expect(Object.keys(openapi.json().paths)).toEqual(expect.arrayContaining(['/api/v1/tenants', '/api/v1/tenants/{code}/tokens']));
  });

  it('answers unknown routes with problem+json 404', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });
});
