// The approvals page in headless Chromium: two approvers sign in with their
// tokens, review the pending run (and download its report) and approve it; the run
// then executes. An approver can also reject a run there. Remediation runs waiting
// for approval are listed beside sanitize runs and approved the same way.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTierFixture } from '../support/tier-fixture';
import { getfaclOf, indexVolume, makeFiles, planViaApi, waitForStatus } from '../support/remediation-fixtures';

let harness: Harness;
let browser: Browser;
let tenant: TestTenant;
let baseUrl: string;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  baseUrl = await harness.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await harness.close();
});

async function runStatus(token: string, id: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/sanitize/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return ((await response.json()) as { status: string }).status;
}

async function decideInPage(token: string, runId: string, decision: 'approve' | 'reject', review?: (page: Page) => Promise<void>): Promise<string> {
  const page = await browser.newPage({ acceptDownloads: true });
  try {
    await page.goto(`${baseUrl}/approvals`);
    await page.fill('#token', token);
    await page.click('#signin button[type=submit]');
    await page.click(`button[data-run="${runId}"]`);
    await page.waitForSelector('#items tr');
    await review?.(page);
    if (decision === 'reject') await page.fill('#reason', 'not this week');
    await page.click(`#${decision}`);
    await page.waitForSelector('#message.ok');
    return (await page.textContent('#message')) ?? '';
  } finally {
    await page.close();
  }
}

async function startPendingRun(operator: string): Promise<string> {
  const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
  const started = await fetch(`${baseUrl}/api/v1/sanitize`, {
    method: 'POST', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ share: fixture.shareName }),
  });
  const { id } = (await started.json()) as { id: string };
  for (let i = 0; i < 120 && (await runStatus(operator, id)) !== 'AWAITING_APPROVAL'; i += 1) await sleep(250);
  return id;
}

describe('approvals page', () => {
  let operator: string;
  let ann: string;
  let bob: string;
  beforeAll(async () => {
    operator = await issueTokenViaApi(harness.app, tenant, 'olga', 'operator');
    ann = await issueTokenViaApi(harness.app, tenant, 'ann', 'approver');
    bob = await issueTokenViaApi(harness.app, tenant, 'bob', 'approver');
  });

  it('lets two approvers review and approve a pending run in the browser, downloading its report', async () => {
    const id = await startPendingRun(operator);
    const expected = await (await fetch(`${baseUrl}/api/v1/sanitize/${id}/report.csv`, { headers: { authorization: `Bearer ${operator}` } })).text();
    let downloaded = '';
    const review = async (page: Page) => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#run-csv')]);
      downloaded = readFileSync(await download.path(), 'utf8');
    };
    expect(await decideInPage(ann, id, 'approve', review)).toContain('PENDING (1/2 approvals)');
    expect(downloaded).toBe(expected);
    expect(downloaded.split('\n')[0]).toContain('category');
    expect(await decideInPage(bob, id, 'approve')).toContain('APPROVED (2/2 approvals)');
    for (let i = 0; i < 120 && (await runStatus(operator, id)) !== 'COMPLETED'; i += 1) await sleep(250);
    expect(await runStatus(operator, id)).toBe('COMPLETED');
  });

  it('lets an approver reject a pending run in the browser, with a reason, and nothing is executed', async () => {
    const id = await startPendingRun(operator);
    expect(await decideInPage(ann, id, 'reject')).toContain('reject recorded: REJECTED');
    for (let i = 0; i < 120 && (await runStatus(operator, id)) !== 'REJECTED'; i += 1) await sleep(250);
    const run = await (await fetch(`${baseUrl}/api/v1/sanitize/${id}`, { headers: { authorization: `Bearer ${operator}` } })).json() as { status: string; items: { outcome: string | null }[] };
    expect(run.status).toBe('REJECTED');
    expect(run.items.every((item) => item.outcome === null)).toBe(true);
    const audit = await harness.admin.query(`SELECT actor, details FROM audit_log WHERE tenant_id = $1 AND action = 'approval.rejected' AND target = $2`, [tenant.tenantId, `sanitize/${id}`]);
    expect(audit.rows).toEqual([expect.objectContaining({ actor: 'ann', details: expect.objectContaining({ reason: 'not this week' }) })]);
  });

  it('lists a remediation run waiting for approval beside sanitize runs; approving it in the browser executes it', async () => {
    const volume = mkdtempSync(join(tmpdir(), 'strata-approvals-'));
    try {
      const files = makeFiles(join(volume, 'world'), 5, 0o644);
      await indexVolume(harness.app, harness.temporal, tenant.adminToken, harness.hostId, volume);
      const id = await planViaApi(harness.app, operator, { scope: { host: harness.hostId, pathPrefix: volume }, policy: { remove: ['other'] }, options: {} });
      await waitForStatus(harness.app, operator, id, ['AWAITING_APPROVAL']);
      let reviewed: { kind: string | null; csvHidden: boolean; paths: string[]; totals: string | null; transforms: string[][] } | undefined;
      const review = async (page: Page) => {
        reviewed = {
          kind: await page.textContent('#run-kind'), csvHidden: await page.isHidden('#run-csv'),
          paths: await page.$$eval('#items tr', (rows) => rows.map((row) => row.lastElementChild?.textContent ?? '')),
          totals: await page.textContent('#report-totals'),
          transforms: await page.$$eval('#transforms tr', (rows) => rows.map((row) => [...row.children].map((td) => td.textContent ?? ''))),
        };
      };
      expect(await decideInPage(ann, id, 'approve', review)).toContain('APPROVED (1/1 approvals)');
      expect(reviewed).toEqual({
        kind: 'Remediation', csvHidden: true, paths: expect.arrayContaining([...files, join(volume, 'world')]),
        totals: '6 of 7 files in scope to change, 1 already compliant',
        transforms: expect.arrayContaining([['5', expect.stringContaining('other::r--'), expect.stringContaining('other::---')]]),
      });
      const done = await waitForStatus(harness.app, operator, id, ['COMPLETED', 'FAILED', 'ROLLED_BACK']);
      expect([done.status, done.counters.applied]).toEqual(['COMPLETED', 6]);
      expect(getfaclOf(files[0])).toBe('user::rw-\ngroup::r--\nother::---');
    } finally {
      rmSync(volume, { recursive: true, force: true });
    }
  });
});
