// tieringAct: moves a plan's PLANNED files to Tier-2 in batches on the host that
// owns the share, leaving verified stubs; paced, pausable, cancellable, stopping by
// itself when too many files fail. Recorded as an action with its events.
import {
  ActivityCancellationType, CancellationScope, ContinueAsNew, allHandlersFinished, condition, continueAsNew,
  isCancellation, patched, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostActivities } from '../activities/host';
import { dbWrite, tieringHost } from '../temporal-config/activity-presets';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { DEFAULT_HOST_WAIT_SECONDS, hostNotConnectedMessage, notPickedUp } from './host-wait';
import { markPhase } from './phase';
import { RunControl } from './tieringAct.control';
import {
  statusQuery, type RunStopReason, type TieringActInput, type TieringRunOptions, type TieringRunResult, type TieringRunStatus,
} from './tieringAct.messages';

const db = proxyActivities<Activities>(dbWrite);
const HISTORY_LIMIT = 2000;
/**
 * Runs started with this marker overlap their bookkeeping with the host's work: opening
 * the action beside reading the plan and the preflight, the verifying transition beside
 * the verification, and no read of the summary they have just written.
 */
const OVERLAPPED_BOOKKEEPING = 'tiering-act-overlapped-bookkeeping';

/** The host's tiering activities; with hostWaitSeconds, each call fails if no worker of the host picks it up in time. */
export function hostActivities(hostId: string, options: TieringRunOptions = {}, hostWaitSeconds?: number) {
  return proxyActivities<HostActivities>({
    ...tieringHost, taskQueue: hostTaskQueue(hostId), cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    heartbeatTimeout: `${Math.max(5, options.heartbeatTimeoutSeconds ?? 15)} seconds`,
    ...(hostWaitSeconds === undefined ? {} : { scheduleToStartTimeout: `${hostWaitSeconds} seconds` }),
  });
}

/** The preflight is the run's first step on the host: a host with no worker picking it up in time fails it as not connected. */
async function preflightOnHost(hostId: string, options: TieringRunOptions, input: Parameters<HostActivities['tieringPreflight']>[0]) {
  const waitSeconds = options.hostWaitSeconds ?? DEFAULT_HOST_WAIT_SECONDS;
  try {
    return await hostActivities(hostId, options, waitSeconds).tieringPreflight(input);
  } catch (error) {
    if (!notPickedUp(error)) throw error;
    return { ok: false, problems: [hostNotConnectedMessage(hostId, waitSeconds)], freeBytes: null };
  }
}

/**
 * Batch size: the option, but about two seconds of work when paced. Pause and cancel
 * also interrupt a running batch, but that reaches the host only with its next
 * heartbeat (throttled to 80% of the heartbeat timeout); a batch boundary is sooner.
 */
export function batchLimit(options: TieringRunOptions): number {
  const limit = options.batchSize ?? 50_000;
  const perSecond = options.pacing?.filesPerSecond;
  return perSecond ? Math.max(1, Math.min(limit, Math.ceil(perSecond * 2))) : limit;
}

export function failureLimits(options: TieringRunOptions, counters: Record<string, unknown>) {
  const count = (key: string) => Number(counters[key] ?? 0);
  return {
    threshold: options.failureRatio ?? 0.05, minSample: options.minSample ?? 20,
    processedBefore: count('stubbed') + count('skipped') + count('failed') + count('rehydrated'), failedBefore: count('failed'),
  };
}

export async function tieringAct(input: TieringActInput): Promise<TieringRunResult> {
  const options = input.options ?? {};
  const status: TieringRunStatus = { phase: 'starting', actionId: input.actionId, paused: false, cancelRequested: false, stopReason: null, counters: {} };
  const control = new RunControl(status, input.carry);
  control.install();
  setHandler(statusQuery, () => status);
  const enter = (phase: string) => markPhase(status, phase, { tenantCode: input.tenantCode, shareName: status.shareName });
  const transition = (to: Parameters<Activities['transitionAction']>[0]['to'], extra: Partial<Parameters<Activities['transitionAction']>[0]> = {}) =>
    db.transitionAction({ tenantId: input.tenantId, actionId: input.actionId, to, ...extra });
  const overlapped = patched(OVERLAPPED_BOOKKEEPING);
  let opened: Promise<void> = Promise.resolve();
  try {
    let summary: Record<string, unknown> | undefined;
    if (!input.carry) {
      opened = openRun();
      opened.catch(() => undefined); // awaited below; never left rejected while unobserved
      if (!overlapped) await opened;
    }
    const run = await db.describeTieringRun({ tenantId: input.tenantId, planId: input.planId });
    Object.assign(status, { shareName: run.shareName, hostId: run.hostId });
    enter(input.carry ? 'acting' : 'preflight');
    if (run.planStatus !== 'PLANNED') return await opened.then(() => finish('plan-not-ready', { planStatus: run.planStatus }));
    const host = hostActivities(run.hostId, options);
    if (!input.carry) {
      const preflight = await preflightOnHost(run.hostId, options, { tenantId: input.tenantId, tenantCode: input.tenantCode, shareName: run.shareName, neededBytes: run.remainingBytes });
      await opened;
      if (!preflight.ok) return await finish('preflight', { problems: preflight.problems });
      const started = {
        hostId: run.hostId, shareName: run.shareName, plannedFiles: run.remainingFiles, plannedBytes: run.remainingBytes,
        stubbed: 0, stubbedBytes: 0, skipped: 0, failed: 0,
      };
      summary = (await transition('in_progress', { summaryPatch: started, ...(overlapped ? { returnSummary: true } : {}) })).summary;
    }
    status.counters = summary ?? (await db.readAction({ tenantId: input.tenantId, actionId: input.actionId })).summary;
    status.stopReason = await actLoop(run.shareName, host);
    const verified = await verifyRun(run.shareName, host);
    if (verified.problems.length > 0) status.stopReason = 'verify';
    return await finish(status.stopReason, { verified: verified.checked, verifyProblems: verified.problems.slice(0, 20) });
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    // The action records how the run ended even when the workflow itself fails or is cancelled.
    await CancellationScope.nonCancellable(async () => {
      await opened.catch(() => undefined);
      await finish(isCancellation(error) ? 'cancelled' : null, { error: (error as Error).message }, true);
    }).catch(() => undefined);
    throw error;
  }

  async function openRun(): Promise<void> {
    enter('queued');
    await db.openAction({ tenantId: input.tenantId, action: {
      id: input.actionId, kind: 'tiering.act', subject: input.planId, requestedBy: input.requestedBy, workflowId: workflowInfo().workflowId,
      summary: { planId: input.planId, options },
    } });
    await transition('preflight');
  }

  async function verifyRun(shareName: string, host: ReturnType<typeof hostActivities>) {
    enter('verifying');
    const verify = () => host.tieringVerifySample({
      tenantId: input.tenantId, tenantCode: input.tenantCode, shareName, actionId: input.actionId, sample: options.verifySample ?? 64,
    });
    if (overlapped) return (await Promise.all([transition('verifying'), verify()]))[1];
    await transition('verifying');
    return verify();
  }

  async function actLoop(shareName: string, host: ReturnType<typeof hostActivities>): Promise<RunStopReason> {
    enter('acting');
    for (;;) {
      await recordControlEvents();
      if (control.cancel) return 'cancelled';
      if (control.paused) {
        enter('paused');
        await control.waitWhilePaused();
        enter('acting');
        continue;
      }
      const stubbed = Number(status.counters.stubbed ?? 0);
      const stubbedBytes = Number(status.counters.stubbedBytes ?? 0);
      const files = options.maxFiles === undefined ? null : options.maxFiles - stubbed;
      const bytes = options.maxBytes === undefined ? null : options.maxBytes - stubbedBytes;
      if ((files !== null && files <= 0) || (bytes !== null && bytes <= 0)) return 'max-per-run';
      const result = await control.interruptible(() => host.tieringActBatch({
        tenantId: input.tenantId, tenantCode: input.tenantCode, shareName, planId: input.planId, actionId: input.actionId,
        actor: input.requestedBy, limit: batchLimit(options), waveSize: options.waveSize, pacing: options.pacing,
        budget: { files, bytes }, failure: failureLimits(options, status.counters),
      }));
      if (result === 'interrupted' || Object.keys(result.summary).length === 0) {
        status.counters = (await db.readAction({ tenantId: input.tenantId, actionId: input.actionId })).summary;
      } else status.counters = result.summary;
      if (result !== 'interrupted') {
        if (result.done) return null;
        if (result.stopped === 'failure-ratio') return 'failure-ratio';
        if (result.stopped === 'budget') return 'max-per-run';
      }
      if (workflowInfo().historyLength > (options.historyLimit ?? HISTORY_LIMIT) || workflowInfo().continueAsNewSuggested) {
        await recordControlEvents();
        await condition(allHandlersFinished);
        await continueAsNew<typeof tieringAct>({ ...input, carry: control.carry() });
      }
    }
  }

  async function recordControlEvents(): Promise<void> {
    for (const event of control.drain()) {
      await db.recordActionEvent({ tenantId: input.tenantId, actionId: input.actionId, event: { event: event.event, details: { by: event.by, reason: event.reason } } });
    }
  }

  async function finish(stopReason: RunStopReason, details: Record<string, unknown>, crashed = false): Promise<TieringRunResult> {
    status.stopReason = stopReason;
    await recordControlEvents();
    const ok = !crashed && (stopReason === null || stopReason === 'max-per-run');
    const final = ok ? 'completed' : 'failed';
    const summary = (await db.readAction({ tenantId: input.tenantId, actionId: input.actionId })).summary;
    await transition(final, {
      summaryPatch: { stopReason, ...details }, details: { stopReason },
      audit: {
        actor: input.requestedBy, action: 'tiering.acted', target: status.shareName ?? input.planId,
        details: { actionId: input.actionId, planId: input.planId, status: final, stopReason, stubbed: summary.stubbed ?? 0, skipped: summary.skipped ?? 0, failed: summary.failed ?? 0 },
        eventKey: `tiering.acted/${input.actionId}`,
      },
    });
    status.counters = { ...summary, stopReason, ...details };
    enter(ok ? 'completed' : stopReason === 'cancelled' ? 'cancelled' : 'failed');
    if (!crashed) await condition(allHandlersFinished);
    return { actionId: input.actionId, status: final, stopReason, summary: status.counters };
  }
}
