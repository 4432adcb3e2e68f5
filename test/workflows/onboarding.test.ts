// onboardTenant and rotateTenantKey against the real Temporal server, Postgres and Vault.
import { randomUUID } from 'node:crypto';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { onboardTenantWorkflowId, type OnboardTenantInput } from '../../workflows/onboardTenant.messages';
import { rotateTenantKeyWorkflowId } from '../../workflows/rotateTenantKey.messages';
import { hashToken } from '../../lib/tokens';
import { createTenantActivities, type RegisterTenantInput } from '../../activities/tenants';
import { startHarness, type Harness } from '../support/harness';
import { maybeRecordHistory } from '../support/histories';
import { uniqueCode } from '../support/tenants';

let harness: Harness;
beforeAll(async () => { harness = await startHarness(); });
afterAll(async () => harness.close());

function onboardingInput(code: string): OnboardTenantInput {
  return {
    code, name: `Tenant ${code}`, requestedBy: 'test',
    firstUsers: [{ name: 'root', role: 'admin', tokenId: randomUUID(), tokenHashHex: hashToken(randomUUID()).toString('hex') }],
  };
}

describe('onboardTenant workflow', () => {
  it('is harmless to re-run: one tenant, one key, same data key', async () => {
    const code = uniqueCode('wf');
    const first = await harness.temporal.workflow.start('onboardTenant', {
      taskQueue: CORE_TASK_QUEUE, workflowId: onboardTenantWorkflowId(code), args: [onboardingInput(code)],
    });
    const result = await first.result();
    await maybeRecordHistory('onboardTenant', first);
    expect(result.created).toBe(true);
    const dekBefore = (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE code = $1', [code])).rows[0].encrypted_dek;

    const again = await harness.temporal.workflow.execute('onboardTenant', {
      taskQueue: CORE_TASK_QUEUE, workflowId: onboardTenantWorkflowId(code), args: [onboardingInput(code)],
    });
    expect(again).toMatchObject({ tenantId: result.tenantId, created: false });
    const rows = await harness.admin.query('SELECT id, encrypted_dek FROM tenant WHERE code = $1', [code]);
    expect(rows.rows).toEqual([{ id: result.tenantId, encrypted_dek: dekBefore }]);
    expect(await harness.vault.latestKeyVersion(code)).toBe(1);
    const users = await harness.admin.query('SELECT count(*)::int AS n FROM app_user WHERE tenant_id = $1', [result.tenantId]);
    expect(users.rows[0].n).toBe(1);
  });

  it('answers created for its own tenant when an attempt committed but its completion was lost', async () => {
    const activities = createTenantActivities({ pool: harness.pool, vault: harness.vault });
    const code = uniqueCode('lost');
    const input: RegisterTenantInput = {
      tenantId: randomUUID(), code, name: `Tenant ${code}`, kmsRef: `transit/keys/${code}`, encryptedDek: 'vault:v1:test', actor: 'test',
      firstUsers: onboardingInput(code).firstUsers, expectNew: true,
    };
    expect(await activities.registerTenant(input)).toEqual({ tenantId: input.tenantId, created: true });
    // The worker died before reporting: Temporal runs the activity again with the same input.
    expect(await activities.registerTenant(input)).toEqual({ tenantId: input.tenantId, created: true });
    // A run that found the tenant already there, or whose code another run took, created nothing.
    expect(await activities.registerTenant({ ...input, expectNew: false })).toEqual({ tenantId: input.tenantId, created: false });
    expect(await activities.registerTenant({ ...input, tenantId: randomUUID() })).toEqual({ tenantId: input.tenantId, created: false });
    const tenants = await harness.admin.query('SELECT id FROM tenant WHERE code = $1', [code]);
    expect(tenants.rows).toEqual([{ id: input.tenantId }]);
    const audit = await harness.admin.query(`SELECT details->'created' AS created FROM audit_log WHERE tenant_id = $1 AND action = 'tenant.onboarded' ORDER BY seq`, [input.tenantId]);
    expect(audit.rows).toEqual([{ created: true }, { created: false }]);
  });

  it('sets the search attributes operators filter by', async () => {
    const code = uniqueCode('sa');
    const handle = await harness.temporal.workflow.start('onboardTenant', {
      taskQueue: CORE_TASK_QUEUE, workflowId: onboardTenantWorkflowId(code), args: [onboardingInput(code)],
    });
    await handle.result();
    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({ TenantCode: [code], StrataPhase: ['done'] });
  });
});

describe('rotateTenantKey workflow', () => {
  it('rotates and rewraps; the data key is unchanged', async () => {
    const code = uniqueCode('rot');
    const onboarded = await harness.temporal.workflow.execute('onboardTenant', {
      taskQueue: CORE_TASK_QUEUE, workflowId: onboardTenantWorkflowId(code), args: [onboardingInput(code)],
    });
    const before = (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE id = $1', [onboarded.tenantId])).rows[0].encrypted_dek;
    const handle = await harness.temporal.workflow.start('rotateTenantKey', {
      taskQueue: CORE_TASK_QUEUE, workflowId: rotateTenantKeyWorkflowId(code, randomUUID()),
      args: [{ tenantId: onboarded.tenantId, tenantCode: code, requestedBy: 'test' }],
    });
    expect(await handle.result()).toEqual({ latestVersion: 2, rewrapped: true });
    await maybeRecordHistory('rotateTenantKey', handle);
    const after = (await harness.admin.query('SELECT encrypted_dek FROM tenant WHERE id = $1', [onboarded.tenantId])).rows[0].encrypted_dek;
    expect(after).toMatch(/^vault:v2:/);
    expect(await harness.vault.unwrapDataKey(code, after)).toEqual(await harness.vault.unwrapDataKey(code, before));
    const audit = await harness.admin.query(`SELECT action FROM audit_log WHERE tenant_id = $1 ORDER BY seq`, [onboarded.tenantId]);
    expect(audit.rows.map((r) => r.action)).toEqual(['tenant.onboarded', 'tenant.key-rotated']);
  });
});
