// Tenant isolation through every route of the app (enumerated from Fastify, so a
// new route is covered the day it lands) and every database role: tenant A, with
// each of its roles, aims every route at tenant B's scan, plan, share, index,
// sanitize and remediation runs and tokens. No answer may carry anything of B's,
// none may be a 5xx, and B's rows stay exactly as they were. In the database, every
// function role with A pinned sees, changes and inserts none of B's rows.
import type { PoolClient } from 'pg';
import { routesOf } from '../../api/route-catalog';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildEstate, type Estate } from '../support/tenant-estate';
import { crossRequest, type Victim } from '../support/cross-tenant-requests';

let harness: Harness;
let a: TestTenant;
let b: TestTenant;
let estate: Estate;
let victim: Victim;
let tables: string[];
const aTokens: Record<string, string> = {};

async function tenantTables(): Promise<string[]> {
  const result = await harness.admin.query(
    `SELECT DISTINCT c.table_name AS t FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.column_name = 'tenant_id' ORDER BY 1`);
  return ['tenant', ...result.rows.map((r) => r.t as string)];
}

/** Row count and content digest of each table, for tenant B only. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of tables) {
    const column = table === 'tenant' ? 'id' : 'tenant_id';
    const result = await harness.admin.query(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest FROM "${table}" x WHERE ${column} = $1`, [b.tenantId]);
    out[table] = `${result.rows[0].n}:${result.rows[0].digest}`;
  }
  return out;
}

beforeAll(async () => {
  harness = await startHarness();
  const install = await installAdminToken();
  a = await onboardViaApi(harness.app, install);
  b = await onboardViaApi(harness.app, install);
  for (const role of ['agent', 'operator', 'viewer', 'approver']) aTokens[role] = await issueTokenViaApi(harness.app, a, `a-${role}`, role);
  aTokens.admin = a.adminToken;
  const bAgent = await harness.app.inject({
    method: 'POST', url: `/api/v1/tenants/${b.code}/tokens`, headers: { authorization: `Bearer ${b.adminToken}` }, payload: { userName: 'b-agent', role: 'agent' },
  });
  estate = await buildEstate(harness, b, install, bAgent.json().token);
  victim = { code: b.code, tenantId: b.tenantId, tokenId: bAgent.json().id, estate, hostId: harness.hostId };
  await harness.app.inject({ method: 'PUT', url: `/api/v1/tenants/${a.code}/limits`, headers: { authorization: `Bearer ${install}` }, payload: { requestsPerSecond: 10_000, burst: 10_000 } });
  tables = await tenantTables();
}, 300_000);
afterAll(async () => harness.close());

describe('tenant isolation through the api', () => {
  it("B's estate has rows in the tables that matter", async () => {
    const filled = Object.entries(await fingerprint()).filter(([, print]) => !print.startsWith('0:')).map(([table]) => table);
    expect(filled).toEqual(expect.arrayContaining([
      'tenant', 'app_user', 'api_token', 'audit_log', 'scan', 'dir', 'file', 'ingest_chunk', 'tier_object', 'tiering_plan', 'tier2_target',
      'security_descriptor', 'share', 'sanitize_run', 'remediation_run', 'tenant_limits',
    ]));
  });

  it("no route answers A with anything of B's, and B's rows do not change", async () => {
    const before = await fingerprint();
    const routes = routesOf(harness.app).filter((route) => !route.url.startsWith('/docs'));
    // Strings of B's that A never sends: any of them in an answer is a leak.
    const secrets = [b.tenantId, `${estate.marker}-file-`, `credential-${estate.marker}`, `${estate.marker}-0.doc`, `${estate.marker}.log`, `${estate.marker}-e1`];
    // B's names and ids that A aims at: a leak unless A itself has already said them (an echo, or A's own object of that name).
    const aimed = [b.code, estate.scanGuid, estate.planId, estate.sanitizeId, estate.remediationId, estate.indexId, estate.volume, estate.shareName];
    const saidByA = new Set<string>();
    const leaks: string[] = [];
    let requests = 0;
    for (const route of routes) {
      const request = crossRequest(route, victim);
      for (const [role, token] of Object.entries(aTokens)) {
        for (const naming of [false, true]) {
          const headers = { authorization: `Bearer ${token}`, ...request.headers, ...(naming ? { 'x-tenant-code': b.code } : {}) };
          const asked = `${decodeURIComponent(request.url)} ${JSON.stringify(request.payload ?? '')} ${JSON.stringify(headers)}`;
          for (const name of aimed) if (asked.includes(name)) saidByA.add(name);
          const response = await harness.app.inject({ method: request.method as 'GET', url: request.url, headers, payload: request.payload as object });
          requests += 1;
          const seen = [...secrets, ...aimed.filter((name) => !saidByA.has(name))].filter((marker) => response.body.includes(marker));
          if (response.statusCode >= 500) leaks.push(`${role} ${route.method} ${route.url}: ${response.statusCode} ${response.body.slice(0, 200)}`);
          if (seen.length > 0) leaks.push(`${role} ${route.method} ${route.url}${naming ? ' (naming B)' : ''}: shows ${seen.join(', ')} in ${response.body.slice(0, 300)}`);
          if (naming && response.statusCode < 400 && route.url.startsWith('/api/v1/')) leaks.push(`${role} ${route.method} ${route.url} naming B: ${response.statusCode}`);
        }
      }
    }
    console.log(`cross-tenant: ${routes.length} routes x ${Object.keys(aTokens).length} roles x 2 = ${requests} requests`);
    expect(leaks).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });
});

const FUNCTION_ROLES = ['strata_api', 'strata_ingest', 'strata_planner', 'strata_actor', 'strata_sanitizer', 'strata_indexer', 'strata_remediator', 'strata_report'];

async function asRole<T>(role: string, tenantId: string | null, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await harness.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${role}`);
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId ?? '']);
    return await work(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** Runs one statement inside a savepoint: its row count, or the error message. */
async function attempt(client: PoolClient, sql: string, params: unknown[]): Promise<number | string> {
  await client.query('SAVEPOINT try');
  try {
    const result = await client.query(sql, params);
    await client.query('RELEASE SAVEPOINT try');
    return result.rowCount ?? 0;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT try');
    return (error as Error).message;
  }
}

describe('tenant isolation in the database, for every function role', () => {
  it("with A pinned, no role sees, changes, deletes or inserts B's rows in any tenant table", async () => {
    const problems: string[] = [];
    for (const role of FUNCTION_ROLES) {
      await asRole(role, a.tenantId, async (client) => {
        for (const table of tables) {
          const column = table === 'tenant' ? 'id' : 'tenant_id';
          const outcomes = {
            select: await attempt(client, `SELECT 1 FROM "${table}" WHERE ${column} = $1`, [b.tenantId]),
            update: await attempt(client, `UPDATE "${table}" SET ${column} = ${column} WHERE ${column} = $1`, [b.tenantId]),
            delete: await attempt(client, `DELETE FROM "${table}" WHERE ${column} = $1`, [b.tenantId]),
            insert: await attempt(client, `INSERT INTO "${table}" (${column}) VALUES ($1)`, [b.tenantId]),
          };
          for (const [kind, outcome] of Object.entries(outcomes)) {
            const refused = typeof outcome === 'string' && /permission denied|row-level security|append-only/.test(outcome);
            if (!(outcome === 0 || refused)) problems.push(`${role} ${kind} ${table}: ${outcome}`);
          }
        }
      });
    }
    expect(problems).toEqual([]);
  });

  it('with no tenant pinned, no role sees any row of any tenant table', async () => {
    const seen: string[] = [];
    for (const role of FUNCTION_ROLES) {
      await asRole(role, null, async (client) => {
        for (const table of tables) {
          const outcome = await attempt(client, `SELECT 1 FROM "${table}"`, []);
          if (typeof outcome === 'number' && outcome > 0) seen.push(`${role} ${table}: ${outcome} rows`);
        }
      });
    }
    expect(seen).toEqual([]);
  });

  it('the app login role can only become the function roles, none of which bypasses RLS', async () => {
    const result = await harness.pool.query(
      `SELECT r.rolname, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER') AND r.rolname <> current_user ORDER BY 1`);
    expect(result.rows.map((r) => r.rolname).sort()).toEqual([...FUNCTION_ROLES].sort());
    expect(result.rows.filter((r) => r.rolsuper || r.rolbypassrls)).toEqual([]);
  });
});
