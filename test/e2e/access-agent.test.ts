// The reference agent's LucidLink audit tailer against the real api: events of
// `.lucid_audit/**/*.active` files move access times, corrupt lines are skipped with
// a warning, the cursor sends each line once, and a rotated file is not applied twice.
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { waitUntil } from '../support/ingest-helpers';
import { runScanAgent } from '../../scripts/agent-scan';
import { lucidTailPass } from '../../scripts/agent-lucid';
import { closeConnections, type ApiTarget } from '../../scripts/agent-client';
import { accessWorkflowId, statusQuery } from '../../workflows/accessUpdates.messages';

let harness: Harness;
let tenant: TestTenant;
let target: ApiTarget;
const volume = mkdtempSync(join(tmpdir(), 'strata-lucid-'));
const audit = join(volume, '.lucid_audit', '2025', '03');
const cursorFile = join(volume, '..', `${volume.split('/').pop()}.cursor.json`);

const line = (path: string, time: string | number, id?: string) => `${JSON.stringify({ timestamp: time, path, event: 'read', ...(id ? { id } : {}) })}\n`;

async function atime(path: string): Promise<number> {
  const cut = path.lastIndexOf('/');
  const result = await harness.admin.query(
    `SELECT f.atime_unix FROM file f JOIN dir d ON d.id = f.dir_id WHERE f.tenant_id = $1 AND d.dir_path = $2 AND f.name = $3`,
    [tenant.tenantId, path.slice(0, cut), path.slice(cut + 1)]);
  return result.rows[0].atime_unix;
}

async function applied(batches: number): Promise<void> {
  const handle = harness.temporal.workflow.getHandle(accessWorkflowId(tenant.code, 'll-vol'));
  await waitUntil(`${batches} batches applied`, async () => {
    const status = await handle.query(statusQuery);
    return status.batchesApplied >= batches && status.pendingBatches === 0;
  });
}

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  target = { api: await harness.app.listen({ host: '127.0.0.1', port: 0 }), token: await issueTokenViaApi(harness.app, tenant, 'agent-1', 'agent') };
  for (const name of ['a.txt', 'b.txt', 'c.txt']) {
    mkdirSync(join(volume, 'Projects'), { recursive: true });
    writeFileSync(join(volume, 'Projects', name), name);
  }
  mkdirSync(audit, { recursive: true });
  const scan = await runScanAgent({ root: volume, share: 'll-vol', srcType: 'LucidLink', target, chunkRows: 100, queueDir: join(volume, '..', 'q-lucid'), wait: true, quiet: true });
  expect(scan.status).toBe('OK');
});
afterAll(async () => { closeConnections(); await harness.close(); rmSync(volume, { recursive: true, force: true }); });

it('sends new audit events once, skips corrupt lines with a warning, and follows rotation', async () => {
  const log = join(audit, 'node-1.active');
  writeFileSync(log, line('/Projects/a.txt', '2030-01-01T00:00:00Z', 'ev-1') + 'this is not json\n'
    + line('/Projects/b.txt', 1_900_000_000) + '{"path": "/Projects/c.txt"}\n');
  writeFileSync(join(volume, '.lucid_audit', 'ignored.log'), line('/Projects/c.txt', 1_950_000_000));
  const warnings: string[] = [];
  const options = { volumeRoot: volume, volumeId: 'll-vol', target, cursorFile, warn: (m: string) => warnings.push(m) };
  expect(await lucidTailPass(options)).toEqual({ auditFiles: 1, events: 2, batches: 1, corrupt: 2 });
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toMatch(/unreadable audit line skipped: this is not json/);
  await applied(1);
  expect(await atime(`${volume}/Projects/a.txt`)).toBe(1_893_456_000);
  expect(await atime(`${volume}/Projects/b.txt`)).toBe(1_900_000_000);

  appendFileSync(log, line('/Projects/c.txt', 1_910_000_000, 'ev-3') + '{"timestamp": 1920000000, "pa');
  expect(await lucidTailPass(options)).toMatchObject({ events: 1, corrupt: 0 });
  appendFileSync(log, 'th": "/Projects/a.txt", "id": "ev-4"}\n');
  expect(await lucidTailPass(options)).toMatchObject({ events: 1, corrupt: 0 });
  expect(await lucidTailPass(options)).toMatchObject({ events: 0, batches: 0 });
  await applied(3);
  expect(await atime(`${volume}/Projects/c.txt`)).toBe(1_910_000_000);
  expect(await atime(`${volume}/Projects/a.txt`)).toBe(1_920_000_000);

  // Rotation: the file is replaced; its events are read again, and the server applies none twice.
  const auditRows = async () => (await harness.admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'file.access-updated'`, [tenant.tenantId])).rows[0].n;
  const before = await auditRows();
  writeFileSync(`${log}.new`, line('/Projects/c.txt', 1_910_000_000, 'ev-3') + line('/Projects/a.txt', 1_800_000_000, 'ev-5'));
  renameSync(`${log}.new`, log);
  expect(await lucidTailPass(options)).toMatchObject({ events: 2 });
  await applied(4);
  expect(await auditRows()).toBe(before);
  expect(await atime(`${volume}/Projects/a.txt`)).toBe(1_920_000_000);
});
