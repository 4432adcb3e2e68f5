// Onboarding and key rotation under faults: onboardTenant then rotateTenantKey, as
// the api starts them; the tenant exists once with one first token, its data key
// unwraps under the rotated transit key, and each step is audited exactly once.
import { randomBytes } from 'node:crypto';
import { CORE_TASK_QUEUE } from '../../../temporal-config/task-queues';
import { issueToken } from '../../../lib/tokens';
import { onboardTenantWorkflowId, type OnboardTenantInput, type OnboardTenantResult } from '../../../workflows/onboardTenant.messages';
import { rotateTenantKeyWorkflowId, type RotateTenantKeyResult } from '../../../workflows/rotateTenantKey.messages';
import { check, eventually, workflowOutcome, type ChaosContext } from '../context';
import type { Scenario, Trial } from '../scenario';

export const onboardingScenario: Scenario = {
  name: 'onboarding + rotate key',
  async prepare(context: ChaosContext): Promise<Trial> {
    const code = `ob-${randomBytes(4).toString('hex')}`;
    const token = issueToken();
    const input: OnboardTenantInput = {
      code, name: `Chaos ${code}`, requestedBy: 'chaos',
      firstUsers: [{ name: 'admin', role: 'admin', tokenId: token.id, tokenHashHex: token.hash.toString('hex'), label: 'onboarding' }],
    };
    await context.temporal.workflow.start('onboardTenant', { taskQueue: CORE_TASK_QUEUE, workflowId: onboardTenantWorkflowId(code), args: [input] });
    let onboarded: OnboardTenantResult | undefined;
    let rotated: RotateTenantKeyResult | undefined;
    return {
      async drive() {
        onboarded = await workflowOutcome<OnboardTenantResult>(context, onboardTenantWorkflowId(code));
        const workflowId = rotateTenantKeyWorkflowId(code, randomBytes(8).toString('hex'));
        await eventually('rotateTenantKey to start', async () => {
          await context.temporal.workflow.start('rotateTenantKey', {
            taskQueue: CORE_TASK_QUEUE, workflowId, args: [{ tenantId: onboarded!.tenantId, tenantCode: code, requestedBy: 'chaos' }],
          }).catch((error: Error) => { if (error.name !== 'WorkflowExecutionAlreadyStartedError') throw error; });
          return true;
        });
        rotated = await workflowOutcome<RotateTenantKeyResult>(context, workflowId);
      },
      async verify() {
        const violations: string[] = [];
        check(violations, onboarded?.created === true, `onboardTenant answered created=${onboarded?.created} for a new tenant`);
        const tenant = await context.admin.query('SELECT id, encrypted_dek FROM tenant WHERE code = $1', [code]);
        check(violations, tenant.rowCount === 1 && tenant.rows[0].id === onboarded?.tenantId, `${tenant.rowCount} tenant rows for ${code}`);
        const tokens = await context.admin.query('SELECT count(*)::int AS n FROM api_token WHERE tenant_id = $1', [onboarded?.tenantId]);
        check(violations, tokens.rows[0].n === 1, `${tokens.rows[0].n} tokens, expected the one first token`);
        const audit = await context.admin.query(`SELECT action, count(*)::int AS n FROM audit_log WHERE tenant_id = $1 GROUP BY action ORDER BY action`, [onboarded?.tenantId]);
        const actions = audit.rows.map((row) => `${row.action}:${row.n}`).join(' ');
        check(violations, actions === 'tenant.key-rotated:1 tenant.onboarded:1', `audit rows ${actions}`);
        check(violations, (rotated?.latestVersion ?? 0) >= 2 && rotated?.rewrapped === true, `rotation ${JSON.stringify(rotated)}`);
        const dek: string = tenant.rows[0]?.encrypted_dek ?? '';
        const latest = await context.vault.latestKeyVersion(code);
        check(violations, dek.startsWith(`vault:v${latest}:`), `data key wrapped as ${dek.slice(0, 10)}, transit key is at v${latest}`);
        const key = await context.vault.unwrapDataKey(code, dek).catch(() => Buffer.alloc(0));
        check(violations, key.length === 32, 'the wrapped data key does not unwrap');
        return violations;
      },
    };
  },
};
