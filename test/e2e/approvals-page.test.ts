// The approvals page in headless Chromium: two approvers sign in with their
// tokens, review the pending run and approve it; the run then executes.
import { chromium, type Browser } from 'playwright-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTierFixture } from '../support/tier-fixture';

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

async function approveInPage(token: string, runId: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(`${baseUrl}/approvals`);
    await page.fill('#token', token);
    await page.click('#signin button[type=submit]');
    await page.click(`button[data-run="${runId}"]`);
    await page.waitForSelector('#items tr');
    await page.click('#approve');
    await page.waitForSelector('#message.ok');
    return (await page.textContent('#message')) ?? '';
  } finally {
    await page.close();
  }
}

describe('approvals page', () => {
  it('lets two approvers review and approve a pending run in the browser', async () => {
    const operator = await issueTokenViaApi(harness.app, tenant, 'olga', 'operator');
    const ann = await issueTokenViaApi(harness.app, tenant, 'ann', 'approver');
    const bob = await issueTokenViaApi(harness.app, tenant, 'bob', 'approver');
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const started = await fetch(`${baseUrl}/api/v1/sanitize`, {
      method: 'POST', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ share: fixture.shareName }),
    });
    const { id } = (await started.json()) as { id: string };
    for (let i = 0; i < 120 && (await runStatus(operator, id)) !== 'AWAITING_APPROVAL'; i += 1) await sleep(250);

    expect(await approveInPage(ann, id)).toContain('PENDING (1/2 approvals)');
    expect(await approveInPage(bob, id)).toContain('APPROVED (2/2 approvals)');
    for (let i = 0; i < 120 && (await runStatus(operator, id)) !== 'COMPLETED'; i += 1) await sleep(250);
    expect(await runStatus(operator, id)).toBe('COMPLETED');
  });
});
