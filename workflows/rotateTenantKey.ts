// rotateTenantKey: rotate the tenant's transit key, then rewrap the stored data
// key under the new version. The data key itself is unchanged, so every value
// sealed with it stays readable.
import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite, vaultRpc } from '../temporal-config/activity-presets';
import { markPhase } from './phase';
import { statusQuery, type RotateTenantKeyInput, type RotateTenantKeyResult, type RotateTenantKeyStatus } from './rotateTenantKey.messages';

const vault = proxyActivities<Activities>(vaultRpc);
const db = proxyActivities<Activities>(dbWrite);

export async function rotateTenantKey(input: RotateTenantKeyInput): Promise<RotateTenantKeyResult> {
  const status: RotateTenantKeyStatus = { phase: 'starting' };
  setHandler(statusQuery, () => status);
  markPhase(status, 'rotate', { tenantCode: input.tenantCode });
  const { latestVersion } = await vault.rotateTransitKey({ tenantCode: input.tenantCode });
  markPhase(status, 'rewrap', { tenantCode: input.tenantCode });
  const { rewrapped } = await db.rewrapTenantDek({ tenantId: input.tenantId, tenantCode: input.tenantCode });
  await db.recordAudit({
    tenantId: input.tenantId,
    entry: { actor: input.requestedBy, action: 'tenant.key-rotated', target: input.tenantCode, details: { latestVersion, rewrapped },
      eventKey: `tenant.key-rotated/${workflowInfo().workflowId}` },
  });
  markPhase(status, 'done', { tenantCode: input.tenantCode });
  return { latestVersion, rewrapped };
}
