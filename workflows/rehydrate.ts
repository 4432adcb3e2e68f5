// rehydrate: brings tiered files back from Tier-2 in place of their stubs (selected
// by paths, a plan, or every re-warmed file), share by share on each share's host;
// verified, atomic, pausable and cancellable, recorded as an action.
import { CancellationScope, ContinueAsNew, allHandlersFinished, condition, continueAsNew, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite } from '../temporal-config/activity-presets';
import { DEFAULT_HOST_WAIT_SECONDS, rethrowIfNotConnected } from './host-wait';
import { markPhase } from './phase';
import { RunControl } from './tieringAct.control';
import { batchLimit, failureLimits, hostActivities } from './tieringAct';
import { statusQuery, type RunStopReason, type TieringRunResult, type TieringRunStatus } from './tieringAct.messages';
import type { RehydrateInput } from './rehydrate.messages';

const db = proxyActivities<Activities>(dbWrite);
const HISTORY_LIMIT = 2000;

export async function rehydrate(input: RehydrateInput): Promise<TieringRunResult> {
  const options = input.options ?? {};
  const status: TieringRunStatus = { phase: 'starting', actionId: input.actionId, paused: false, cancelRequested: false, stopReason: null, counters: {} };
  const control = new RunControl(status, input.carry);
  control.install();
  setHandler(statusQuery, () => status);
  const ids = { tenantId: input.tenantId, actionId: input.actionId };
  const enter = (phase: string) => markPhase(status, phase, { tenantCode: input.tenantCode, shareName: input.selection.shareName ?? status.shareName });
  const transition = (to: Parameters<Activities['transitionAction']>[0]['to'], extra: Partial<Parameters<Activities['transitionAction']>[0]> = {}) =>
    db.transitionAction({ ...ids, to, ...extra });
  try {
    if (!input.carry) {
      enter('queued');
      await db.openAction({ tenantId: input.tenantId, action: {
        id: input.actionId, kind: 'tiering.rehydrate', subject: input.selection.planId ?? (input.selection.rewarmed ? 'rewarmed' : 'paths'),
        shareName: input.selection.shareName ?? null, requestedBy: input.requestedBy, workflowId: workflowInfo().workflowId,
        summary: { selection: { ...input.selection, paths: input.selection.paths?.length } },
      } });
      await transition('preflight');
    }
    enter('selecting');
    const selected = input.carry?.shares ? { shares: input.carry.shares, unmatchedPaths: 0 } : await db.selectForRehydrate({ ...ids, selector: input.selection });
    if (!input.carry) {
      await transition('in_progress', { summaryPatch: { shares: selected.shares, unmatchedPaths: selected.unmatchedPaths, rehydrated: 0, rehydratedBytes: 0, skipped: 0, failed: 0 } });
    }
    for (let i = input.carry?.shareIndex ?? 0; i < selected.shares.length && !status.stopReason; i++) {
      status.shareName = selected.shares[i].shareName;
      status.hostId = selected.shares[i].hostId;
      status.stopReason = await shareLoop(i, selected.shares);
    }
    enter('verifying');
    await transition('verifying');
    return await finish(status.stopReason);
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    await CancellationScope.nonCancellable(() => finish(isCancellation(error) ? 'cancelled' : null, true, (error as Error).message)).catch(() => undefined);
    throw error;
  }

  async function shareLoop(shareIndex: number, shares: NonNullable<RehydrateInput['carry']>['shares']): Promise<RunStopReason> {
    const hostId = status.hostId as string;
    const host = hostActivities(hostId, options);
    // The share's first batch may wait only so long for the host; later ones wait for it to come back.
    const waitSeconds = options.hostWaitSeconds ?? DEFAULT_HOST_WAIT_SECONDS;
    let batchHost = hostActivities(hostId, options, waitSeconds);
    enter('rehydrating');
    for (;;) {
      for (const event of control.drain()) await db.recordActionEvent({ ...ids, event: { event: event.event, details: { by: event.by, reason: event.reason } } });
      if (control.cancel) return 'cancelled';
      if (control.paused) { enter('paused'); await control.waitWhilePaused(); enter('rehydrating'); continue; }
      const result = await control.interruptible(() => batchHost.tieringRehydrateBatch({
        tenantId: input.tenantId, tenantCode: input.tenantCode, shareName: status.shareName as string, actionId: input.actionId,
        actor: input.requestedBy, limit: batchLimit(options), waveSize: options.waveSize, pacing: options.pacing, failure: failureLimits(options, status.counters),
      })).catch(rethrowIfNotConnected(hostId, waitSeconds));
      if (result !== 'interrupted') batchHost = host;
      status.counters = result !== 'interrupted' && Object.keys(result.summary).length > 0 ? result.summary : (await db.readAction(ids)).summary;
      if (result !== 'interrupted' && result.done) return null;
      if (result !== 'interrupted' && result.stopped === 'failure-ratio') return 'failure-ratio';
      if (workflowInfo().historyLength > (options.historyLimit ?? HISTORY_LIMIT) || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof rehydrate>({ ...input, carry: { ...control.carry(), shareIndex, shares } });
      }
    }
  }

  async function finish(stopReason: RunStopReason, crashed = false, error?: string): Promise<TieringRunResult> {
    status.stopReason = stopReason;
    for (const event of control.drain()) await db.recordActionEvent({ ...ids, event: { event: event.event, details: { by: event.by, reason: event.reason } } });
    const summary = (await db.readAction(ids)).summary;
    const ok = !crashed && stopReason === null;
    const final = ok ? 'completed' : 'failed';
    await transition(final, {
      summaryPatch: { stopReason, error }, details: { stopReason },
      audit: {
        actor: input.requestedBy, action: 'tiering.rehydrate', target: input.selection.shareName ?? input.selection.planId ?? 'paths',
        details: { actionId: input.actionId, status: final, stopReason, rehydrated: summary.rehydrated ?? 0, skipped: summary.skipped ?? 0, failed: summary.failed ?? 0 },
        eventKey: `tiering.rehydrate/${input.actionId}`,
      },
    });
    status.counters = { ...summary, stopReason };
    enter(ok ? 'completed' : stopReason === 'cancelled' ? 'cancelled' : 'failed');
    if (!crashed) await condition(allHandlersFinished);
    return { actionId: input.actionId, status: final, stopReason, summary: status.counters };
  }
}
