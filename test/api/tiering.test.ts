// The tiering api's contract: who may do what, bad input answered as problem+json
// naming the field, state conflicts as 409, and tenant isolation of plans.
import { randomUUID } from 'node:crypto';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTree, configureShare, loadScan, makeRoots, planShare, scanRowsOf, startRun, type Roots } from '../support/tiering-tree';

let harness: Harness;
let tenant: TestTenant;
let other: TestTenant;
let operator: string;
let viewer: string;
let roots: Roots;
let planId: string;

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  harness = await startHarness();
  const install = await installAdminToken();
  tenant = await onboardViaApi(harness.app, install);
  other = await onboardViaApi(harness.app, install);
  operator = await issueTokenViaApi(harness.app, tenant, 'olga', 'operator');
  viewer = await issueTokenViaApi(harness.app, tenant, 'vic', 'viewer');
  roots = makeRoots('api');
  const files = Array.from({ length: 40 }, (_v, i) => ({ relPath: `f${i}.txt`, size: 20, idleDays: 400 }));
  buildTree(roots.source, files);
  await loadScan(harness.pool, tenant.tenantId, 'docs', scanRowsOf(roots.source, files));
  await configureShare(harness.app, tenant.adminToken, 'docs', { hostId: harness.hostId, roots });
  planId = (await planShare(harness.app, harness.temporal, operator, 'docs')).planId;
});
afterAll(async () => harness.close());

describe('share configuration', () => {
  const body = () => ({ source: { hostId: harness.hostId, rootPath: roots.source }, target: { uri: roots.targetUri } });

  it('is for admins, validates the target URI and root path, and never echoes credentials', async () => {
    const asOperator = await harness.app.inject({ method: 'PUT', url: '/api/v1/tiering/shares/x', headers: auth(operator), payload: body() });
    expect(asOperator.statusCode).toBe(403);
    const s3 = await harness.app.inject({ method: 'PUT', url: '/api/v1/tiering/shares/x', headers: auth(tenant.adminToken), payload: { ...body(), target: { uri: 's3://bucket/x' } } });
    expect(s3.statusCode).toBe(400);
    expect(s3.json().errors.map((e: { field: string }) => e.field)).toContain('body.target.uri');
    const nested = await harness.app.inject({ method: 'PUT', url: '/api/v1/tiering/shares/x', headers: auth(tenant.adminToken), payload: { ...body(), target: { uri: `${roots.targetUri.replace(/tier2$/, 'share')}/tier2` } } });
    expect(nested.statusCode).toBe(400);
    const relative = await harness.app.inject({ method: 'PUT', url: '/api/v1/tiering/shares/x', headers: auth(tenant.adminToken), payload: { ...body(), source: { hostId: 'h', rootPath: '/srv/../etc' } } });
    expect(relative.statusCode).toBe(400);
    expect(relative.headers['content-type']).toContain('application/problem+json');
    const saved = await harness.app.inject({ method: 'PUT', url: '/api/v1/tiering/shares/x', headers: auth(tenant.adminToken), payload: { ...body(), target: { uri: `${roots.targetUri}/`, credentials: { token: 'abc' } } } });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toEqual({ shareName: 'x', hostId: harness.hostId, rootPath: roots.source, scanPathPrefix: '', targetUri: roots.targetUri, hasCredentials: true });
    expect(saved.body).not.toContain('abc');
    const unknown = await harness.app.inject({ method: 'GET', url: '/api/v1/tiering/shares/nope', headers: auth(viewer) });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('plans', () => {
  it('refuses plans for unconfigured or unscanned shares, bad globs, and viewers', async () => {
    const unconfigured = await harness.app.inject({ method: 'POST', url: '/api/v1/tiering/plans', headers: auth(operator), payload: { shareName: 'nowhere' } });
    expect(unconfigured.statusCode).toBe(409);
    const unscanned = await harness.app.inject({ method: 'POST', url: '/api/v1/tiering/plans', headers: auth(operator), payload: { shareName: 'x' } });
    expect(unscanned.statusCode).toBe(409);
    expect(unscanned.json().detail).toMatch(/no scan with status OK/);
    const glob = await harness.app.inject({ method: 'POST', url: '/api/v1/tiering/plans', headers: auth(operator), payload: { shareName: 'docs', policy: { include: ['{a,b'] } } });
    expect(glob.statusCode).toBe(400);
    expect(glob.json().errors[0].field).toBe('body.policy.include.0');
    const unknownField = await harness.app.inject({ method: 'POST', url: '/api/v1/tiering/plans', headers: auth(operator), payload: { shareName: 'docs', policy: { idleDay: 3 } } });
    expect(unknownField.statusCode).toBe(400);
    const byViewer = await harness.app.inject({ method: 'POST', url: '/api/v1/tiering/plans', headers: auth(viewer), payload: { shareName: 'docs' } });
    expect(byViewer.statusCode).toBe(403);
  });

  it('shows plans to their tenant only', async () => {
    expect((await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${planId}`, headers: auth(viewer) })).statusCode).toBe(200);
    const listed = await harness.app.inject({ method: 'GET', url: '/api/v1/tiering/plans?limit=5', headers: auth(viewer) });
    expect(listed.json().plans.map((p: { planId: string }) => p.planId)).toEqual([planId]);
    expect((await harness.app.inject({ method: 'GET', url: '/api/v1/tiering/plans', headers: auth(other.adminToken) })).json()).toEqual({ plans: [] });
    expect((await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${planId}`, headers: auth(other.adminToken) })).statusCode).toBe(404);
    expect((await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${planId}/report.csv`, headers: auth(other.adminToken) })).statusCode).toBe(404);
    expect((await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/plans/${randomUUID()}`, headers: auth(viewer) })).statusCode).toBe(404);
    expect((await harness.app.inject({ method: 'GET', url: '/api/v1/tiering/plans/not-a-uuid', headers: auth(viewer) })).statusCode).toBe(400);
    const docs = await harness.app.inject({ method: 'GET', url: '/docs/json' });
    expect(Object.keys(docs.json().paths)).toEqual(expect.arrayContaining(['/api/v1/tiering/plans', '/api/v1/tiering/plans/{planId}/act', '/api/v1/tiering/rehydrate']));
  });
});

describe('runs', () => {
  it('refuses acting on a plan that is not PLANNED, a second concurrent act, and bad rehydrate selections', async () => {
    const planning = randomUUID();
    await harness.admin.query(`INSERT INTO tiering_plan (id, tenant_id, share_name, policy, requested_by, workflow_id) VALUES ($1, $2, 'docs', '{}', 't', 'w')`, [planning, tenant.tenantId]);
    expect((await harness.app.inject({ method: 'POST', url: `/api/v1/tiering/plans/${planning}/act`, headers: auth(operator), payload: {} })).statusCode).toBe(409);
    const first = await startRun(harness.app, operator, `/api/v1/tiering/plans/${planId}/act`, { options: { pacing: { filesPerSecond: 2 } } });
    const second = await harness.app.inject({ method: 'POST', url: `/api/v1/tiering/plans/${planId}/act`, headers: auth(operator), payload: {} });
    expect(second.statusCode).toBe(409);
    const orphan = await harness.admin.query(`SELECT status, summary->>'error' AS error FROM action WHERE tenant_id = $1 AND subject = $2 AND id <> $3`, [tenant.tenantId, planId, first.actionId]);
    expect(orphan.rows).toEqual([{ status: 'failed', error: expect.stringMatching(/could not start/) }]);
    expect((await harness.app.inject({ method: 'POST', url: `/api/v1/tiering/actions/${first.actionId}/cancel`, headers: auth(viewer), payload: {} })).statusCode).toBe(403);
    expect((await harness.app.inject({ method: 'POST', url: `/api/v1/tiering/actions/${first.actionId}/cancel`, headers: auth(operator), payload: {} })).statusCode).toBe(202);
    expect(await harness.temporal.workflow.getHandle(first.workflowId).result()).toMatchObject({ status: 'failed', stopReason: 'cancelled' });
    const view = await harness.app.inject({ method: 'GET', url: `/api/v1/tiering/actions/${first.actionId}`, headers: auth(viewer) });
    expect(view.json()).toMatchObject({ kind: 'tiering.act', status: 'failed', subject: planId, live: null });
    expect(view.json().events.map((e: { event: string }) => e.event)).toContain('cancel-requested');

    for (const payload of [{}, { planId, rewarmed: true }, { paths: [] }]) {
      const bad = await harness.app.inject({ method: 'POST', url: '/api/v1/tiering/rehydrate', headers: auth(operator), payload });
      expect(bad.statusCode).toBe(400);
    }
  });
});
