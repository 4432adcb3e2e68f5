// onboardTenant: transit key, wrapped data key, tenant row, first users and
// tokens, audit. Every step is idempotent, so re-running it is harmless.
import { proxyActivities, setHandler, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite, vaultRpc } from '../temporal-config/activity-presets';
import { markPhase } from './phase';
import { statusQuery, type OnboardTenantInput, type OnboardTenantResult, type OnboardTenantStatus } from './onboardTenant.messages';

const vault = proxyActivities<Activities>(vaultRpc);
const db = proxyActivities<Activities>(dbWrite);

export async function onboardTenant(input: OnboardTenantInput): Promise<OnboardTenantResult> {
  const status: OnboardTenantStatus = { phase: 'starting' };
  setHandler(statusQuery, () => status);
  const enterPhase = (phase: string) => markPhase(status, phase, { tenantCode: input.code });

  enterPhase('transit-key');
  const { kmsRef } = await vault.ensureTransitKey({ tenantCode: input.code });
  enterPhase('data-key');
  const existingId = await db.findTenantIdByCode({ code: input.code });
  const encryptedDek = existingId ? 'vault:v0:unused' : (await vault.createWrappedDataKey({ tenantCode: input.code })).encryptedDek;
  enterPhase('register');
  // uuid4() is the workflow's deterministic random, so a replay proposes the same id.
  const proposedId = existingId ?? uuid4();
  const { tenantId, created } = await db.registerTenant({
    tenantId: proposedId, code: input.code, name: input.name, kmsRef, encryptedDek,
    firstUsers: input.firstUsers, actor: input.requestedBy, expectNew: existingId === null,
  });
  status.tenantId = tenantId;
  enterPhase('done');
  return { tenantId, code: input.code, created, kmsRef };
}
