// The abuse corpus (test/fixtures/abuse-corpus.json): hundreds of malformed and
// hostile requests across every /api/v1 route. Each must get a 4xx problem+json
// answer that says what was wrong (and where, when the case names it); none may get
// a 5xx or hang; and afterwards no tenant table holds a row more or less, and the
// spool holds no file. Runs with a 4 MiB chunk limit and short body timeouts.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { routesOf } from '../../api/route-catalog';
import { issueToken } from '../../lib/tokens';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { SCAN_HEADERS } from '../support/ingest-helpers';
import { asRawRequest, bodyOf, fillPlaceholders, rawRequest, type AbuseCase, type Answer } from '../support/abuse-requests';

const corpus = JSON.parse(readFileSync(join(__dirname, '../fixtures/abuse-corpus.json'), 'utf8')).cases as AbuseCase[];
const ENV = { STRATA_CHUNK_MAX_BYTES: String(4 * 1024 * 1024), STRATA_BODY_IDLE_MS: '1500', STRATA_BODY_GRACE_MS: '1000', STRATA_BODY_MIN_BYTES_PER_SECOND: '200' };

let harness: Harness;
let port: number;
let a: TestTenant;
let b: TestTenant;
const tokens: Record<string, string> = {};
const values: Record<string, string> = {};

async function tokenWithId(tenant: TestTenant, userName: string, role: string): Promise<{ id: string; token: string }> {
  const response = await harness.app.inject({
    method: 'POST', url: `/api/v1/tenants/${tenant.code}/tokens`, headers: { authorization: `Bearer ${tenant.adminToken}` }, payload: { userName, role },
  });
  return response.json();
}

async function expiredToken(tenant: TestTenant): Promise<string> {
  const token = issueToken();
  const user = await harness.admin.query(`SELECT id FROM app_user WHERE tenant_id = $1 AND role = 'admin' LIMIT 1`, [tenant.tenantId]);
  await harness.admin.query(`INSERT INTO api_token (id, tenant_id, user_id, token_hash, label, expires_at) VALUES ($1, $2, $3, $4, 'expired', now() - interval '1 day')`,
    [token.id, tenant.tenantId, user.rows[0].id, token.hash]);
  return token.token;
}

beforeAll(async () => {
  Object.assign(process.env, ENV);
  harness = await startHarness();
  const install = await installAdminToken();
  a = await onboardViaApi(harness.app, install);
  b = await onboardViaApi(harness.app, install);
  for (const role of ['agent', 'operator', 'viewer', 'approver']) tokens[role] = await issueTokenViaApi(harness.app, a, `${role}-user`, role);
  const revoked = await tokenWithId(a, 'leaver', 'operator');
  await harness.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${revoked.id}`, headers: { authorization: `Bearer ${a.adminToken}` } });
  const other = await tokenWithId(b, 'other-agent', 'agent');
  Object.assign(tokens, {
    admin: a.adminToken, install, revoked: revoked.token, expired: await expiredToken(a), otherAgent: other.token, otherAdmin: b.adminToken,
  });
  Object.assign(values, { tenantA: a.code, tenantB: b.code, otherTokenId: other.id });
  // The corpus is fired as fast as possible; tenant A's own limits must not be what answers.
  await harness.app.inject({ method: 'PUT', url: `/api/v1/tenants/${a.code}/limits`, headers: { authorization: `Bearer ${install}` }, payload: { requestsPerSecond: 100_000, burst: 100_000 } });
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  port = (harness.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const key of Object.keys(ENV)) delete process.env[key];
  await harness.close();
});

function authorization(kind: string): Record<string, string> {
  const special: Record<string, string | undefined> = {
    none: undefined, malformed: 'Bearer abc', basic: 'Basic dXNlcjpwYXNz', 'double-space': `Bearer  ${tokens.agent}`,
    unknown: `Bearer strata_${randomBytes(32).toString('base64url')}`, 'lowercase-bearer': `bearer ${tokens.agent}`, 'otherAgent+header': `Bearer ${tokens.otherAgent}`,
  };
  const value = kind in special ? special[kind] : `Bearer ${tokens[kind]}`;
  const headers: Record<string, string> = value ? { authorization: value } : {};
  if (kind === 'otherAgent+header') headers['x-tenant-code'] = a.code;
  return headers;
}

async function send(c: AbuseCase): Promise<Answer> {
  if (c.raw !== undefined) {
    return rawRequest(port, fillPlaceholders(c.raw, values, tokens), { trickle: c.trickle, timeoutMs: 15_000 });
  }
  const url = fillPlaceholders(c.url, values, tokens);
  const headers: Record<string, string> = { ...(url.includes('/chunks/') ? { ...SCAN_HEADERS, 'content-type': 'text/csv' } : {}), ...authorization(c.token ?? 'agent') };
  let payload = bodyOf(c.body);
  if (c.json !== undefined) { payload = Buffer.from(JSON.stringify(c.json)); headers['content-type'] = 'application/json'; }
  for (const [name, value] of Object.entries(c.headers ?? {})) {
    if (value === null) delete headers[name]; else headers[name] = fillPlaceholders(value, values, tokens);
  }
  if (c.socket) return rawRequest(port, asRawRequest(c.method, url, headers, payload), { timeoutMs: 15_000 });
  const response = await harness.app.inject({ method: c.method as 'GET', url, headers, payload });
  return { status: response.statusCode, contentType: String(response.headers['content-type'] ?? ''), body: response.body };
}

/** Why an answer is not acceptable for its case, or undefined. */
function complaint(c: AbuseCase, answer: Answer): string | undefined {
  const expected = [c.expect].flat();
  if (answer.status >= 500) return `got ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (!expected.includes(answer.status)) return `expected ${expected.join('/')}, got ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (!answer.contentType.includes('application/problem+json')) return `not problem+json (${answer.contentType}): ${answer.body.slice(0, 200)}`;
  let problem: { status?: number; title?: string; detail?: string; errors?: unknown };
  try { problem = JSON.parse(answer.body); } catch { return `unparseable body ${answer.body.slice(0, 200)}`; }
  if (problem.status !== answer.status || typeof problem.title !== 'string') return `problem without status/title: ${answer.body.slice(0, 200)}`;
  if (typeof problem.detail !== 'string' || problem.detail.length < 10) return `no clear detail: ${answer.body.slice(0, 200)}`;
  if (c.detail && !new RegExp(c.detail, 'i').test(`${problem.detail} ${JSON.stringify(problem.errors ?? [])}`)) {
    return `detail does not say /${c.detail}/: ${problem.detail.slice(0, 300)}`;
  }
  return undefined;
}

async function tenantRowCounts(): Promise<Record<string, number>> {
  const tables = await harness.admin.query(
    `SELECT DISTINCT c.table_name FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND (c.column_name = 'tenant_id' OR c.table_name = 'tenant') ORDER BY 1`);
  const counts: Record<string, number> = {};
  for (const { table_name: table } of tables.rows) counts[table] = (await harness.admin.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n;
  return counts;
}

function spoolFiles(dir = join(TEST_DATA_DIR, 'spool')): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.flatMap((name) => (statSync(join(dir, name)).isDirectory() ? spoolFiles(join(dir, name)) : [join(dir, name)]));
}

/**
 * Spool files left by refused requests. A request whose connection the parser already
 * closed (a lying length) may still be finishing; its temp file must be gone within seconds.
 */
async function leftInSpool(before: string[]): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = spoolFiles().filter((file) => !before.includes(file));
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}

describe('abuse corpus', () => {
  it('has at least 150 cases and covers every /api/v1 route', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    const targeted = corpus.map((c) => (c.raw !== undefined ? c.raw.split(' ').slice(0, 2).join(' ') : `${c.method} ${c.url}`).split('?')[0]);
    const uncovered = routesOf(harness.app).filter((route) => route.url.startsWith('/api/v1/')).filter((route) => {
      const pattern = new RegExp(`^${route.method} ${route.url.replace(/:[A-Za-z]+/g, '[^/]+')}$`);
      return !targeted.some((target) => pattern.test(target));
    });
    expect(uncovered).toEqual([]);
  });

  it('answers every case with a clear 4xx, no 5xx, no hang, and writes nothing', async () => {
    const before = await tenantRowCounts();
    const spoolBefore = spoolFiles();
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (const c of corpus) {
      try {
        const answer = await send(c);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const why = complaint(c, answer);
        if (why) failures.push(`${c.name}: ${why}`);
      } catch (error) {
        failures.push(`${c.name}: ${(error as Error).message}`);
      }
    }
    console.log(`abuse corpus: ${corpus.length} cases, answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(failures).toEqual([]);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(await leftInSpool(spoolBefore)).toEqual([]);
    expect(await tenantRowCounts()).toEqual(before);
  });
});
