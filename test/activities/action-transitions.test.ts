// An action's status moves through transitionAction: each move merges its summary patch
// and logs one event; asked for it, the move returns the summary it leaves behind.
import { randomUUID } from 'node:crypto';
import { withTenant } from '../../db/tenant-tx';
import { getAction, insertAction, listActionEvents, transitionAction } from '../../db/queries/actions';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';

let harness: Harness;
let tenant: TestTenant;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
});
afterAll(async () => harness.close());

const asActor = <T>(work: Parameters<typeof withTenant<T>>[2]) => withTenant(harness.pool, { tenantId: tenant.tenantId, role: 'strata_actor' }, work);

describe('transitionAction', () => {
  it('returns the merged summary only when asked, and logs each move once', async () => {
    const id = randomUUID();
    await asActor((client) => insertAction(client, tenant.tenantId, { id, kind: 'tiering.act', subject: 'plan', requestedBy: 'tester', workflowId: 'wf', summary: { planId: 'plan' } }));
    const plain = await asActor((client) => transitionAction(client, tenant.tenantId, id, 'preflight', { summaryPatch: { hostId: 'h1' } }));
    expect(plain).toEqual({ from: 'queued', to: 'preflight', changed: true });
    const asked = await asActor((client) => transitionAction(client, tenant.tenantId, id, 'in_progress', { summaryPatch: { stubbed: 0 }, returnSummary: true }));
    expect(asked).toEqual({ from: 'preflight', to: 'in_progress', changed: true, summary: { planId: 'plan', hostId: 'h1', stubbed: 0 } });
    const again = await asActor((client) => transitionAction(client, tenant.tenantId, id, 'in_progress', { summaryPatch: { failed: 0 }, returnSummary: true }));
    expect(again.changed).toBe(false);
    expect(again.summary).toEqual({ planId: 'plan', hostId: 'h1', stubbed: 0, failed: 0 });
    const stored = await asActor(async (client) => ({ action: await getAction(client, id), events: await listActionEvents(client, id) }));
    expect(stored.action?.summary).toEqual(again.summary);
    expect(stored.events.filter((event) => event.event === 'status').map((event) => event.toStatus)).toEqual(['preflight', 'in_progress']);
  });
});
