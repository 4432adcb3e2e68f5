// remediation: plan once per unique descriptor, stop for a dry run, pass the approval
// gate, snapshot every planned file (and the volume where it can), apply on the host in
// a sliding window of inode-ordered batches, verify, move the index rows, then stay open
// for the rollback window. A failed apply or verify, or a cancel, rolls back from the
// snapshot. Phases are a state machine whose state survives continue-as-new.
import {
  CancellationScope, ContinueAsNew, allHandlersFinished, condition, continueAsNew, isCancellation, patched, proxyActivities, setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bulkCopy, dbWrite } from '../temporal-config/activity-presets';
import { rethrowIfNotConnected } from './host-wait';
import { freshCarry, installRemediationHandlers } from './remediation.control';
import { runRemediationGate } from './remediationGate';
import { RemediationRunBase, type Next } from './remediation.run';
import { remediationWorkflowId, statusQuery, type RemediationInput, type RemediationStatus } from './remediation.messages';

const db = proxyActivities<Activities>(dbWrite);
const bulk = proxyActivities<Activities>(bulkCopy);
const HOUR_MS = 3_600_000;
const now = () => new Date().getTime();

export async function remediation(input: RemediationInput): Promise<RemediationStatus> {
  const state = input.carry ?? freshCarry();
  const status: RemediationStatus = Object.assign(state, { runId: input.runId, activity: state.phase as string, batches: { done: 0, total: 0 }, live: {} });
  setHandler(statusQuery, () => status);
  installRemediationHandlers(state);
  const run = new RemediationRun(input, status);
  try {
    while (state.phase !== 'done') {
      const next = await run.step();
      if (next === 'continue') {
        await condition(allHandlersFinished);
        return await continueAsNew<typeof remediation>({ ...input, carry: state });
      }
      run.enter(next);
    }
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    await CancellationScope.nonCancellable(() => run.recover(error));
  }
  await condition(allHandlersFinished);
  return status;
}

class RemediationRun extends RemediationRunBase {
  async step(): Promise<Next> {
    if (!this.state.phaseStartedMs) this.enter(this.state.phase);
    else this.label(this.state.phase);
    switch (this.state.phase) {
      case 'plan': return this.plan();
      case 'gate': return this.gate();
      case 'snapshot': return this.snapshot();
      case 'apply': return this.apply();
      case 'verify': return this.verify();
      case 'index': return this.index();
      case 'window': return this.window();
      case 'rollback': return this.rollback();
      default: return 'done';
    }
  }

  private async plan(): Promise<Next> {
    const { tenantId, runId } = this.input;
    await db.openRemediation({
      tenantId, runId, workflowId: remediationWorkflowId(this.input.tenantCode, runId), requestedBy: this.input.requestedBy,
      scope: this.input.scope, policy: this.input.policy, request: this.input.request ?? {}, options: this.options,
    });
    await this.status('PLANNING', { actionStatus: 'preflight' });
    const plan = await bulk.planRemediation({
      tenantId, runId, scope: this.input.scope, policy: this.input.policy, dryRun: this.options.dryRun ?? false, actor: this.input.requestedBy,
      options: { maxFiles: this.options.maxFiles, worldGroups: this.options.worldGroups, applyToDefault: this.options.applyToDefault },
    });
    Object.assign(this.state, { report: plan.report, reportHash: plan.reportHash, hostId: plan.report.hostId, selected: plan.report.selected });
    if (this.options.dryRun) return this.end('DRY_RUN', 'completed', 'dry run: nothing applied');
    if (plan.report.selected === 0) return this.end('COMPLETED', 'completed', 'every file in scope already complies');
    return 'gate';
  }

  private async gate(): Promise<Next> {
    // The gate's handlers are registered synchronously here, before the status tells anyone to approve.
    const decision = runRemediationGate({
      tenantId: this.input.tenantId, requestedBy: this.input.requestedBy, reportHash: this.state.reportHash!, subject: `remediation/${this.input.runId}`,
      required: this.options.approvalsRequired, deadlineMs: this.options.approvalDeadlineHours * HOUR_MS,
    }, this.state.gate, (gate) => { this.state.gate = gate; });
    await this.status('AWAITING_APPROVAL');
    const gate = await decision;
    this.state.gate = gate;
    if (gate.status !== 'APPROVED') return this.end(gate.status, 'failed', gate.status === 'REJECTED' ? `rejected by ${gate.rejection?.approver}` : 'no approval before the deadline');
    return 'snapshot';
  }

  private async snapshot(): Promise<Next> {
    const host = this.hostActivities();
    if (this.state.cursor === 0 && !this.state.fsSnapshot) {
      await this.status('SNAPSHOT', { event: { event: 'snapshot-started', details: { approvals: this.state.gate?.approvals ?? [] } } });
      this.state.fsSnapshot = await this.firstHostStep().remediationFsSnapshot({ tenantId: this.input.tenantId, runId: this.input.runId, take: this.options.fsSnapshot !== false })
        .catch(rethrowIfNotConnected(this.state.hostId!, this.hostWaitSeconds()));
      await this.status('SNAPSHOT', { fsSnapshot: this.state.fsSnapshot });
    }
    const end = await this.batches((from, to) => host.remediationSnapshotBatch(this.batch(from, to)), false);
    if (end === 'history') return 'continue';
    const counts = await this.counts();
    if (counts.snapshots < counts.items) throw new Error(`snapshot incomplete: ${counts.snapshots} of ${counts.items} files`);
    if (this.state.cancel) return this.end('FAILED', 'failed', `cancelled by ${this.state.cancel.by ?? 'an operator'} before anything was applied`);
    return 'apply';
  }

  private async apply(): Promise<Next> {
    if (this.state.cursor === 0) {
      await this.status('APPLYING', { actionStatus: 'in_progress' });
      // New target descriptors exist before the first index row is pointed at one.
      const { registered } = await db.registerRemediationDescriptors({ tenantId: this.input.tenantId, runId: this.input.runId });
      this.state.counters.descriptorsRegistered = registered;
    }
    const end = await this.controlled((from, to) => this.hostActivities().remediationApplyBatch({ ...this.batch(from, to), maxFilesPerSecond: this.options.maxFilesPerSecond })
      .then((counts) => this.indexedBySlices('applyIndexed', counts)));
    if (end === 'history') return 'continue';
    if (end === 'stopped') return this.toRollback(`cancelled by ${this.state.cancel?.by ?? 'an operator'}${this.state.cancel?.reason ? `: ${this.state.cancel.reason}` : ''}`);
    const counts = await this.counts();
    if (counts.failed > 0) return this.toRollback(`applying failed for ${counts.failed} files`);
    return 'verify';
  }

  /** Every applied file was read back right after its write: the run is verified when all of them matched their target. */
  private async verify(): Promise<Next> {
    await this.status('VERIFYING', { actionStatus: 'verifying' });
    if (this.state.cancel) return this.toRollback(`cancelled by ${this.state.cancel.by ?? 'an operator'}`);
    // The counts taken (and made durable) when the apply window closed; nothing writes items since.
    const counts = this.state.counters;
    if (counts.verifyMismatches > 0) return this.toRollback(`verification found ${counts.verifyMismatches} files not on their target`);
    if (counts.unverified > 0 || counts.pending > 0) return this.toRollback(`${counts.unverified + counts.pending} files were not applied and verified`);
    if (!this.slicesMovedIndex('applyIndexed', counts.verified)) {
      const indexed = await bulk.finalizeRemediationIndex({ tenantId: this.input.tenantId, runId: this.input.runId });
      this.state.counters.indexRowsUpdated = indexed.updated;
    }
    return 'index';
  }

  private async index(): Promise<Next> {
    const counts = this.state.counters;
    const workMs = ['snapshot', 'apply', 'verify'].reduce((ms, p) => ms + (this.state.timings[p] ?? 0), 0);
    const filesPerSecond = Math.round(counts.items / Math.max(0.001, workMs / 1000));
    this.state.rollbackUntilMs = now() + this.options.rollbackWindowHours * HOUR_MS;
    this.state.counters.filesPerSecond = filesPerSecond;
    await this.status('COMPLETED', {
      actionStatus: 'completed', counters: this.state.counters, rollbackUntil: new Date(this.state.rollbackUntilMs).toISOString(),
      audit: this.audit('remediation.completed', { ...counts, filesPerSecond, fsSnapshot: this.state.fsSnapshot?.kind ?? 'none' }),
    });
    this.state.outcome = 'COMPLETED';
    try {
      await db.ensureDriftSchedule({ tenantId: this.input.tenantId, tenantCode: this.input.tenantCode, intervalMinutes: this.options.driftIntervalMinutes ?? 60 });
    } catch (error) {
      await this.status('COMPLETED', { event: { event: 'drift-schedule-failed', details: { error: (error as Error).message } } });
    }
    return 'window';
  }

  private async window(): Promise<Next> {
    const left = (this.state.rollbackUntilMs ?? 0) - now();
    if (left > 0) await condition(() => this.state.rollbackRequest !== null, left);
    if (!this.state.rollbackRequest) return 'done';
    const by = this.state.rollbackRequest;
    return this.toRollback(`rollback requested by ${by.requestedBy}${by.reason ? `: ${by.reason}` : ''}`);
  }

  private async rollback(): Promise<Next> {
    const host = this.hostActivities();
    if (this.state.cursor === 0) {
      await this.status('ROLLING_BACK', { reason: this.state.rollbackReason ?? undefined, event: { event: 'rollback-started', details: { reason: this.state.rollbackReason } } });
    }
    const end = await this.batches((from, to) => host.remediationRollbackBatch(this.batch(from, to)).then((c) => this.indexedBySlices('rollbackIndexed', c)), false);
    if (end === 'history') return 'continue';
    // Histories from before the rollback slices moved index rows restored first, then counted.
    const countFirst = patched('remediation-rollback-index-by-slices');
    if (!countFirst) await bulk.restoreRemediationIndex({ tenantId: this.input.tenantId, runId: this.input.runId });
    const counts = await this.counts();
    if (countFirst && !this.slicesMovedIndex('rollbackIndexed', counts.restored + counts.rollbackUnchanged)) {
      await bulk.restoreRemediationIndex({ tenantId: this.input.tenantId, runId: this.input.runId });
    }
    const failed = counts.rollbackFailed;
    const reason = `${this.state.rollbackReason}; ${counts.restored} files restored${counts.rollbackConflicts ? `, ${counts.rollbackConflicts} changed by others left as found` : ''}${failed ? `, ${failed} could not be restored` : ''}`;
    return this.end(failed ? 'FAILED' : 'ROLLED_BACK', failed ? 'failed' : 'rolled_back', reason);
  }

  async recover(error: unknown): Promise<void> {
    const reason = isCancellation(error) ? 'the workflow was cancelled' : `failed: ${(error as Error).message}`;
    const phase = this.state.phase;
    if (['apply', 'verify', 'index'].includes(phase)) {
      this.state.rollbackReason = reason;
      this.enter('rollback');
      try {
        if (await this.rollback() === 'continue') await continueAsNew<typeof remediation>({ ...this.input, carry: this.state });
        return;
      } catch (rollbackError) {
        if (rollbackError instanceof ContinueAsNew) throw rollbackError;
        await this.end('FAILED', 'failed', `${reason}; rollback failed: ${(rollbackError as Error).message}`).catch(() => undefined);
        throw rollbackError;
      }
    }
    await this.end('FAILED', 'failed', reason).catch(() => undefined);
    if (!isCancellation(error)) throw error;
  }
}
