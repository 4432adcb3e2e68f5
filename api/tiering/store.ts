// Database side of the tiering api (api role, tenant pinned): share configuration
// with credentials sealed here under the tenant data key, plans, actions, and the
// plan's CSV report streamed by COPY.
import type { Pool } from 'pg';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { to as copyTo } from 'pg-copy-streams';
import { withTenant } from '../../db/tenant-tx';
import { findTenant } from '../../db/queries/tenants';
import { appendAudit } from '../../db/queries/audit';
import * as config from '../../db/queries/tiering-config';
import * as plans from '../../db/queries/tiering-plan';
import * as actions from '../../db/queries/actions';
import { sealCredentials, type Tier2Credentials } from '../../lib/tier2-credentials';
import { normalizeRootUri } from '../../lib/target-uri';
import { checkTargetUri } from '../../lib/tier2-target';
import type { TieringPolicy } from '../../lib/tier2-policy';
import type { VaultClient } from '../../lib/vault-client';
import type { Caller } from '../auth';
import { badRequest, conflict, notFound } from '../problem';

const asApi = <T>(pool: Pool, caller: Caller, work: Parameters<typeof withTenant<T>>[2]) =>
  withTenant(pool, { tenantId: caller.tenantId, role: 'strata_api' }, work);

export interface ShareConfigInput {
  source: { hostId: string; rootPath: string; scanPathPrefix: string };
  target: { uri: string; credentials?: Tier2Credentials };
}

export async function saveShareConfig(pool: Pool, vault: VaultClient, caller: Caller, shareName: string, input: ShareConfigInput): Promise<config.ShareTieringConfig> {
  const uri = normalizeRootUri(input.target.uri);
  try {
    checkTargetUri(uri);
  } catch (error) {
    throw badRequest((error as Error).message, [{ field: 'body.target.uri', reason: (error as Error).message }]);
  }
  const rootPath = input.source.rootPath.length > 1 ? input.source.rootPath.replace(/\/+$/, '') : input.source.rootPath;
  const targetPath = fileURLToPath(uri);
  const inside = (a: string, b: string) => a === b || a.startsWith(b === '/' ? '/' : `${b}/`);
  if (inside(targetPath, rootPath) || inside(rootPath, targetPath)) {
    throw badRequest('the Tier-2 target and the share root must not contain each other', [{ field: 'body.target.uri', reason: 'overlaps the source root' }]);
  }
  const sealed = input.target.credentials ? await sealWithTenantKey(pool, vault, caller, shareName, input.target.credentials) : null;
  return asApi(pool, caller, async (client) => {
    await config.upsertShareRoot(client, caller.tenantId, { shareName, ...input.source, rootPath, updatedBy: caller.userName });
    await config.upsertTarget(client, caller.tenantId, { shareName, uri, sealedCredentials: sealed, updatedBy: caller.userName });
    await appendAudit(client, caller.tenantId, {
      actor: caller.userName, action: 'tiering.share-configured', target: shareName,
      details: { hostId: input.source.hostId, rootPath, targetUri: uri, credentials: sealed ? 'sealed' : 'none' },
    });
    return (await config.getShareConfig(client, shareName)) as config.ShareTieringConfig;
  });
}

/** Seals credentials with the tenant's data key; the key is unwrapped for this call only. */
async function sealWithTenantKey(pool: Pool, vault: VaultClient, caller: Caller, shareName: string, credentials: Tier2Credentials): Promise<string> {
  const tenant = await asApi(pool, caller, (client) => findTenant(client, caller.tenantId));
  if (!tenant) throw notFound(`tenant ${caller.tenantCode} not found`);
  const dek = await vault.unwrapDataKey(caller.tenantCode, tenant.encryptedDek);
  try {
    return sealCredentials(dek, caller.tenantId, shareName, credentials);
  } finally {
    dek.fill(0);
  }
}

export async function loadShareConfig(pool: Pool, caller: Caller, shareName: string): Promise<config.ShareTieringConfig | undefined> {
  return asApi(pool, caller, (client) => config.getShareConfig(client, shareName));
}

/** Records a plan request, after checking the share can be planned at all. */
export async function recordPlan(pool: Pool, caller: Caller, plan: { id: string; shareName: string; policy: TieringPolicy; workflowId: string }): Promise<void> {
  await asApi(pool, caller, async (client) => {
    const share = await config.getShareConfig(client, plan.shareName);
    if (!share?.targetUri) throw conflict(`share ${plan.shareName} has no tiering configuration; PUT /tiering/shares/{shareName} first`);
    if (!(await plans.latestOkScan(client, plan.shareName))) throw conflict(`share ${plan.shareName} has no scan with status OK to plan from`);
    await plans.insertPlan(client, caller.tenantId, { ...plan, requestedBy: caller.userName });
  });
}

export async function failPlanRecord(pool: Pool, caller: Caller, planId: string, reason: string): Promise<void> {
  await asApi(pool, caller, (client) => plans.failPlan(client, planId, reason));
}

export async function loadPlan(pool: Pool, caller: Caller, planId: string): Promise<{ plan: plans.PlanRow; actions: actions.ActionRow[] }> {
  const found = await asApi(pool, caller, async (client) => {
    const plan = await plans.getPlan(client, planId);
    return plan ? { plan, actions: await actions.listActionsFor(client, planId) } : undefined;
  });
  if (!found) throw notFound(`tiering plan ${planId} not found`);
  return found;
}

export async function listPlans(pool: Pool, caller: Caller, limit: number): Promise<plans.PlanRow[]> {
  return asApi(pool, caller, (client) => plans.listPlans(client, limit));
}

export async function loadAction(pool: Pool, caller: Caller, actionId: string): Promise<{ action: actions.ActionRow; events: actions.ActionEventRow[] }> {
  const found = await asApi(pool, caller, async (client) => {
    const action = await actions.getAction(client, actionId);
    return action ? { action, events: await actions.listActionEvents(client, actionId) } : undefined;
  });
  if (!found || !found.action.kind.startsWith('tiering.')) throw notFound(`tiering action ${actionId} not found`);
  return found;
}

/** The action row exists, queued, as soon as the api answers; the workflow takes it from there. */
export async function queueAction(pool: Pool, caller: Caller, action: Omit<actions.NewAction, 'requestedBy'>): Promise<void> {
  await asApi(pool, caller, (client) => actions.insertAction(client, caller.tenantId, { ...action, requestedBy: caller.userName }));
}

export async function failQueuedAction(pool: Pool, caller: Caller, actionId: string, reason: string): Promise<void> {
  await asApi(pool, caller, (client) => actions.transitionAction(client, caller.tenantId, actionId, 'failed', { summaryPatch: { error: `could not start: ${reason}` } }));
}

const REPORT_COLUMNS = 'full_path, rel_path, size_bytes, atime_unix, mtime_unix, target_uri, state, last_outcome';

/** The plan's objects as CSV (RFC 4180, header row), streamed from Postgres. */
export function planReportStream(pool: Pool, caller: Caller, planId: string): Readable {
  if (!/^[0-9a-f-]{36}$/i.test(planId)) throw badRequest('plan id must be a UUID');
  const out = new PassThrough();
  const sql = `COPY (SELECT ${REPORT_COLUMNS} FROM tier_object WHERE plan_id = '${planId}' ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)`;
  asApi(pool, caller, (client) => pipeline(client.query(copyTo(sql)), out)).catch((error: Error) => out.destroy(error));
  return out;
}
