// Tier-2 target credentials: sealed with the tenant data key by the api, opened only
// by the host activity that acts. The plaintext appears nowhere: not in any database
// column, not in the api's, the host worker's or the stack's logs, not in workflow history.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp } from '../../api/app';
import { openCredentials } from '../../lib/tier2-credentials';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTree, configureShare, loadScan, makeRoots, planShare, scanRowsOf, startRun, type Roots, type TreeFile } from '../support/tiering-tree';
import { HostWorkerProcess, requireCurrentBuild } from '../support/tiering-worker';

let harness: Harness;
let tenant: TestTenant;
let roots: Roots;
const secret = `pw-${randomBytes(12).toString('hex')}`;
const apiLog: string[] = [];
const SHARE = 'secured';

beforeAll(async () => {
  requireCurrentBuild();
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  roots = makeRoots('secrets');
});
afterAll(async () => harness.close());

/** Every occurrence form a secret could take in stored bytes: as text and as base64 at each alignment. */
function forms(text: string): string[] {
  const raw = Buffer.from(text);
  return [text, ...[0, 1, 2].map((shift) => Buffer.concat([Buffer.alloc(shift), raw]).toString('base64').slice(4, -4))];
}

function expectAbsent(where: string, haystack: string): void {
  for (const form of forms(secret)) {
    if (haystack.includes(form)) throw new Error(`the credential appears in ${where} (as ${form === secret ? 'plaintext' : 'base64'})`);
  }
}

/** History payloads are bytes: rendered as text so a plaintext secret would show. */
function historyText(history: unknown): string {
  return JSON.stringify(history, (_key, value) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
    if (value && value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data).toString('latin1');
    return value;
  });
}

describe('Tier-2 credentials', () => {
  it('are sealed at rest, used by the host activity, and never appear in plaintext anywhere', async () => {
    const logged = new Writable({ write(chunk, _encoding, done) { apiLog.push(String(chunk)); done(); } });
    const app = await buildApp({ pool: harness.pool, temporal: harness.temporal, temporalConnection: harness.connection, vault: harness.vault, dataDir: TEST_DATA_DIR },
      { logger: { level: 'trace', stream: logged } });
    const hostId = `secrets-${randomBytes(3).toString('hex')}`;
    const worker = new HostWorkerProcess(hostId, join(roots.base, 'host-worker.log'), { STRATA_LOG_LEVEL: 'DEBUG' });
    worker.start();
    try {
      const files: TreeFile[] = [0, 1, 2, 3].map((i) => ({ relPath: `d/f${i}`, size: 10 + i, idleDays: 400 }));
      buildTree(roots.source, files);
      await loadScan(harness.pool, tenant.tenantId, SHARE, scanRowsOf(roots.source, files));
      await configureShare(app, tenant.adminToken, SHARE, { hostId, roots, credentials: { username: 'svc-tier2', password: secret } });
      const shown = await app.inject({ method: 'GET', url: `/api/v1/tiering/shares/${SHARE}`, headers: { authorization: `Bearer ${tenant.adminToken}` } });
      expect(shown.json()).toMatchObject({ hasCredentials: true, targetUri: roots.targetUri });
      expect(shown.body).not.toContain(secret);
      const { planId } = await planShare(app, harness.temporal, tenant.adminToken, SHARE);
      const run = await startRun(app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, {});
      expect(await harness.temporal.workflow.getHandle(run.workflowId).result()).toMatchObject({ status: 'completed', summary: { stubbed: 4 } });
      const back = await startRun(app, tenant.adminToken, '/api/v1/tiering/rehydrate', { planId });
      expect(await harness.temporal.workflow.getHandle(back.workflowId).result()).toMatchObject({ status: 'completed', summary: { rehydrated: 4 } });

      const sealed = (await harness.admin.query('SELECT sealed_credentials FROM tier2_target WHERE tenant_id = $1', [tenant.tenantId])).rows[0].sealed_credentials;
      expect(sealed).toMatch(/^env1\./);
      const encryptedDek = (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE id = $1', [tenant.tenantId])).rows[0].encrypted_dek;
      expect(openCredentials(await harness.vault.unwrapDataKey(tenant.code, encryptedDek), tenant.tenantId, SHARE, sealed)).toEqual({ username: 'svc-tier2', password: secret });

      await expectNotInDatabase();
      for (const workflowId of [`tiering-plan/${tenant.code}/${planId}`, run.workflowId, back.workflowId]) {
        expectAbsent(`history of ${workflowId}`, historyText(await harness.temporal.workflow.getHandle(workflowId).fetchHistory()));
      }
      expect(apiLog.join('').length).toBeGreaterThan(100);
      expectAbsent('api log', apiLog.join(''));
    } finally {
      await worker.stop();
      await app.close();
    }
    expectAbsent('host worker log', readFileSync(join(roots.base, 'host-worker.log'), 'utf8'));
    for (const name of readdirSync(join(TEST_DATA_DIR, 'logs'))) expectAbsent(`stack log ${name}`, readFileSync(join(TEST_DATA_DIR, 'logs', name), 'latin1'));
  });
});

async function expectNotInDatabase(): Promise<void> {
  const columns = await harness.admin.query(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'jsonb', 'character varying', 'json')`);
  expect(columns.rowCount).toBeGreaterThan(20);
  for (const { table_name: table, column_name: column, data_type: type } of columns.rows) {
    for (const form of forms(secret)) {
      const found = type === 'bytea'
        ? await harness.admin.query(`SELECT count(*)::int AS n FROM "${table}" WHERE position($1::bytea IN "${column}") > 0`, [Buffer.from(form)])
        : await harness.admin.query(`SELECT count(*)::int AS n FROM "${table}" WHERE "${column}"::text LIKE '%' || $1 || '%'`, [form]);
      if (found.rows[0].n > 0) throw new Error(`the credential appears in ${table}.${column}`);
    }
  }
}
