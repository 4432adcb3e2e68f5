// sanitize: inventory Tier-2 on the share's host, reconcile in SQL into a hashed
// report, stop there for a dry run, otherwise pass the two-person gate when
// anything is destructive, then execute exactly the approved report.
import { allHandlersFinished, condition, executeChild, patched, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostActivities } from '../activities/host';
import { dbWrite, hostFs } from '../temporal-config/activity-presets';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { gateDecided, runApprovalGate } from './approvalGate';
import { DEFAULT_HOST_WAIT_SECONDS, hostNotConnectedMessage, notPickedUp } from './host-wait';
import { markPhase } from './phase';
import { rehydrateWorkflowId, type RehydrateInput } from './rehydrate.messages';
import { statusQuery, type SanitizeInput, type SanitizeOutcome, type SanitizeStatus } from './sanitize.messages';

const db = proxyActivities<Activities>(dbWrite);
const DEFAULT_DEADLINE_MS = 72 * 3600 * 1000;
/** Runs from before this execute their orphan items in one activity; later ones in batches, so `status` shows progress. */
const EXECUTE_IN_BATCHES = 'sanitize-execute-in-batches';
const EXECUTE_BATCH_ITEMS = 500;

export async function sanitize(input: SanitizeInput): Promise<SanitizeStatus> {
  const status: SanitizeStatus = { phase: 'starting', runId: input.runId };
  setHandler(statusQuery, () => status);
  const labels = { tenantCode: input.tenantCode, shareName: input.shareName };
  const ref = { tenantId: input.tenantId, runId: input.runId };
  const options = {
    orphanAction: input.orphanAction ?? 'quarantine', idleDays: input.idleDays ?? 365,
    dryRun: input.dryRun ?? false, maxDeletes: input.maxDeletes ?? 1000,
  } as const;
  await db.createSanitizeRun({ ...ref, shareName: input.shareName, requestedBy: input.requestedBy, workflowId: workflowInfo().workflowId, options });
  const hostId = await db.hostOfShare({ tenantId: input.tenantId, shareName: input.shareName });
  const heartbeat = input.heartbeatTimeoutSeconds === undefined ? {} : { heartbeatTimeout: `${input.heartbeatTimeoutSeconds} seconds` };
  const host = proxyActivities<HostActivities>({ ...hostFs, ...heartbeat, taskQueue: hostTaskQueue(hostId) });

  markPhase(status, 'inventory', labels);
  const waitSeconds = input.hostWaitSeconds ?? DEFAULT_HOST_WAIT_SECONDS;
  const firstHostStep = proxyActivities<HostActivities>({ ...hostFs, ...heartbeat, taskQueue: hostTaskQueue(hostId), scheduleToStartTimeout: `${waitSeconds} seconds` });
  try {
    status.inventoried = (await firstHostStep.inventoryTier2({ ...ref, shareName: input.shareName })).objects;
  } catch (error) {
    if (!notPickedUp(error)) throw error;
    status.failure = hostNotConnectedMessage(hostId, waitSeconds);
    return finish(status, 'FAILED', ref, labels);
  }
  markPhase(status, 'reconcile', labels);
  await db.setSanitizeStatus({ ...ref, status: 'RECONCILING' });
  // Workflow time is replay-safe: it is the time of the current workflow task.
  const report = await db.reconcileSanitizeRun({ ...ref, shareName: input.shareName, options, nowUnix: Math.floor(new Date().getTime() / 1000) });
  Object.assign(status, { reportHash: report.reportHash, totals: report.totals, destructiveItems: report.destructive });
  if (options.dryRun) return finish(status, 'DRY_RUN', ref, labels);

  if (report.destructive > 0) {
    markPhase(status, 'awaiting-approval', labels);
    await db.setSanitizeStatus({ ...ref, status: 'AWAITING_APPROVAL' });
    const gate = await runApprovalGate({
      tenantId: input.tenantId, requestedBy: input.requestedBy, reportHash: report.reportHash, subject: `sanitize/${input.runId}`,
      required: input.requiredApprovals ?? 2, deadlineMs: input.approvalDeadlineMs ?? DEFAULT_DEADLINE_MS,
    }, (live) => { status.gate = live; });
    status.gate = gate;
    if (!gateDecided(gate.status)) return finish(status, gate.status as SanitizeOutcome, ref, labels);
  }

  markPhase(status, 'execute', labels);
  await db.setSanitizeStatus({ ...ref, status: 'EXECUTING' });
  const action = { ...ref, actionId: uuid4(), shareName: input.shareName, requestedBy: input.requestedBy, workflowId: workflowInfo().workflowId };
  await db.recordSanitizeAction({ ...action, status: 'in_progress' });
  const orphanInput = { ...ref, shareName: input.shareName, actor: input.requestedBy, maxDeletes: options.maxDeletes };
  const files = patched(EXECUTE_IN_BATCHES) ? await executeInBatches(host, orphanInput, status) : await host.executeOrphanItems(orphanInput);
  const rows = await db.applySanitizeDatabaseFixes({ ...ref, actor: input.requestedBy });
  const warm = await rehydrateStale(input);
  status.executed = { done: files.done + rows.done + warm.done, skipped: files.skipped + rows.skipped + warm.skipped };
  await db.recordSanitizeAction({ ...action, status: 'completed', details: status.executed });
  return finish(status, 'COMPLETED', ref, labels);
}

async function executeInBatches(host: ReturnType<typeof proxyActivities<HostActivities>>, input: Parameters<HostActivities['executeOrphanItems']>[0], status: SanitizeStatus) {
  const total = { done: 0, skipped: 0 };
  for (let more = true; more;) {
    const batch = await host.executeOrphanItems({ ...input, maxItems: EXECUTE_BATCH_ITEMS });
    total.done += batch.done;
    total.skipped += batch.skipped;
    status.executed = { ...total };
    more = batch.more;
  }
  return total;
}

async function finish(status: SanitizeStatus, outcome: SanitizeOutcome, ref: { tenantId: string; runId: string }, labels: { tenantCode: string; shareName: string }) {
  status.outcome = outcome;
  const summary = outcome === 'COMPLETED' ? { outcome, ...(await db.sanitizeOutcome(ref)) } : { outcome, ...(status.failure ? { failure: status.failure } : {}) };
  await db.setSanitizeStatus({ ...ref, status: outcome, summary });
  markPhase(status, outcome.toLowerCase(), labels);
  await condition(allHandlersFinished);
  return status;
}

// Stubbed files that were re-warmed come back through the rehydrate workflow, in
// batches of paths small enough to pass as a child's input.
async function rehydrateStale(input: SanitizeInput): Promise<{ done: number; skipped: number }> {
  const ref = { tenantId: input.tenantId, runId: input.runId };
  const total = { done: 0, skipped: 0 };
  for (;;) {
    const batch = await db.pendingSanitizeRehydrates({ ...ref, limit: 500 });
    if (batch.itemNos.length === 0) return total;
    const actionId = uuid4();
    const child: RehydrateInput = {
      tenantId: input.tenantId, tenantCode: input.tenantCode, actionId, requestedBy: input.requestedBy,
      selection: { paths: batch.paths, shareName: input.shareName },
    };
    await executeChild('rehydrate', { workflowId: rehydrateWorkflowId(input.tenantCode, actionId), args: [child] });
    const settled = await db.settleSanitizeRehydrates({ ...ref, itemNos: batch.itemNos, actor: input.requestedBy });
    total.done += settled.done;
    total.skipped += settled.skipped;
  }
}
