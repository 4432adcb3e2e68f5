// Per-tenant rate limits and quotas (seed 001) on the real stack: defaults, set by
// an install admin and stored in Postgres; over a limit the api answers 429 with
// Retry-After as problem+json naming the limit; one tenant's limit never slows
// another; and a full daily rows quota refuses chunks until midnight UTC.
import { PassThrough } from 'node:stream';
import { DEFAULT_TENANT_LIMITS } from '../../lib/tenant-limits';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { csvRows, newScanGuid, putChunk, seal, SCAN_HEADERS, waitForScanEnd } from '../support/ingest-helpers';

let harness: Harness;
let install: string;
let tenant: TestTenant;
let other: TestTenant;
let agent: string;

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  harness = await startHarness();
  install = await installAdminToken();
  tenant = await onboardViaApi(harness.app, install);
  other = await onboardViaApi(harness.app, install);
  agent = await issueTokenViaApi(harness.app, tenant, 'scanner', 'agent');
});
afterAll(async () => harness.close());

function setLimits(code: string, limits: Record<string, number | null>) {
  return harness.app.inject({ method: 'PUT', url: `/api/v1/tenants/${code}/limits`, headers: auth(install), payload: limits });
}

const listShares = (token: string) => harness.app.inject({ method: 'GET', url: '/api/v1/shares', headers: auth(token) });

describe('tenant limits', () => {
  it('start at the install defaults and are read by the tenant admin', async () => {
    const response = await harness.app.inject({ method: 'GET', url: `/api/v1/tenants/${tenant.code}/limits`, headers: auth(tenant.adminToken) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      tenantCode: tenant.code, limits: DEFAULT_TENANT_LIMITS, defaults: DEFAULT_TENANT_LIMITS,
      overrides: { requestsPerSecond: null, burst: null, maxConcurrentUploads: null, maxRowsPerDay: null }, usage: { rowsToday: 0 },
    });
  });

  it('over the request rate: 429 with Retry-After naming the limit; another tenant is not slowed', async () => {
    const set = await setLimits(tenant.code, { requestsPerSecond: 1, burst: 3 });
    expect(set.statusCode).toBe(200);
    expect(set.json().limits).toMatchObject({ requestsPerSecond: 1, burst: 3 });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await listShares(tenant.adminToken));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 429, 429]);
    const refused = answers[3];
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toMatchObject({ status: 429, title: 'Too Many Requests', errors: [{ field: 'limits.requestsPerSecond' }] });
    expect(refused.json().detail).toMatch(new RegExp(`tenant ${tenant.code}: more than 1 requests/s \\(burst 3\\); retry after \\d+ s`));
    for (let i = 0; i < 10; i++) expect((await listShares(other.adminToken)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await listShares(tenant.adminToken)).statusCode).toBe(200);
    expect((await setLimits(tenant.code, { requestsPerSecond: null, burst: null })).json().limits.requestsPerSecond).toBe(DEFAULT_TENANT_LIMITS.requestsPerSecond);
  });

  it('over the uploads at once: 429 until the running upload is done', async () => {
    await setLimits(tenant.code, { maxConcurrentUploads: 1 });
    const guid = newScanGuid();
    const slow = new PassThrough();
    const first = harness.app.inject({
      method: 'PUT', url: `/api/v1/scans/${guid}/chunks/0`, payload: slow,
      headers: { ...auth(agent), 'content-type': 'text/csv', ...SCAN_HEADERS },
    });
    slow.write(csvRows(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(5, 10) });
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json()).toMatchObject({ errors: [{ field: 'limits.maxConcurrentUploads' }] });
    slow.end(csvRows(5, 10).replace(/file-/g, 'other-'));
    expect((await first).statusCode).toBe(202);
    expect((await putChunk(harness.app, { guid, seq: 1, token: agent, body: csvRows(10, 20) })).statusCode).toBe(202);
    await setLimits(tenant.code, { maxConcurrentUploads: null });
  });

  it('over the daily rows quota: chunks are refused until midnight UTC, other calls still work', async () => {
    await setLimits(tenant.code, { maxRowsPerDay: 25 });
    const guid = newScanGuid();
    expect((await putChunk(harness.app, { guid, seq: 0, token: agent, body: csvRows(0, 30) })).statusCode).toBe(202);
    expect((await seal(harness.app, agent, guid, 1)).statusCode).toBe(202);
    await waitForScanEnd(harness.app, agent, guid);
    const limits = await harness.app.inject({ method: 'GET', url: `/api/v1/tenants/${tenant.code}/limits`, headers: auth(tenant.adminToken) });
    expect(limits.json().usage.rowsToday).toBeGreaterThanOrEqual(30);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const refused = await putChunk(harness.app, { guid: newScanGuid(), seq: 0, token: agent, body: csvRows(0, 5) });
    expect(refused.statusCode).toBe(429);
    const untilMidnight = Math.ceil((new Date().setUTCHours(24, 0, 0, 0) - Date.now()) / 1000);
    expect(Math.abs(Number(refused.headers['retry-after']) - untilMidnight)).toBeLessThan(10);
    expect(refused.json()).toMatchObject({ errors: [{ field: 'limits.maxRowsPerDay' }] });
    expect(refused.json().detail).toMatch(/daily quota is 25/);
    expect((await listShares(agent)).statusCode).not.toBe(429);
    await setLimits(tenant.code, { maxRowsPerDay: null });
  });

  it('are set only by install admins, validated, and every change is audited', async () => {
    const byTenantAdmin = await harness.app.inject({ method: 'PUT', url: `/api/v1/tenants/${tenant.code}/limits`, headers: auth(tenant.adminToken), payload: { burst: 10 } });
    expect(byTenantAdmin.statusCode).toBe(403);
    expect((await setLimits(tenant.code, { burst: 0 })).statusCode).toBe(400);
    const audited = await harness.admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'tenant.limits.set'`, [tenant.tenantId]);
    expect(audited.rows[0].n).toBe(6);
    const stored = await harness.admin.query('SELECT requests_per_second, burst, max_concurrent_uploads, max_rows_per_day FROM tenant_limits WHERE tenant_id = $1', [tenant.tenantId]);
    expect(stored.rows).toEqual([{ requests_per_second: null, burst: null, max_concurrent_uploads: null, max_rows_per_day: null }]);
  });
});
