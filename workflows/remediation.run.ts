// The plumbing of a remediation run that its phases share: phase bookkeeping and
// the StrataPhase label, status and audit records, the host's activity proxies, the
// batch windows, and how a run ends.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostActivities } from '../activities/host';
import type { BatchCounts } from '../activities/remediation-host';
import { dbWrite, remediationHost } from '../temporal-config/activity-presets';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { DEFAULT_HOST_WAIT_SECONDS } from './host-wait';
import { markPhase } from './phase';
import { controlledWindow, phaseWindow, type WindowEnd } from './remediationWindow';
import type { RemediationInput, RemediationPhase, RemediationStatus } from './remediation.messages';

const db = proxyActivities<Activities>(dbWrite);
const now = () => new Date().getTime();

export type Next = RemediationPhase | 'continue';

export class RemediationRunBase {
  protected readonly options;
  private host: HostActivities | null = null;

  constructor(protected readonly input: RemediationInput, protected readonly state: RemediationStatus) {
    this.options = { approvalsRequired: 1, parallelism: 4, batchSize: 2_000, rollbackWindowHours: 24, approvalDeadlineHours: 72, ...input.options };
  }

  enter(phase: RemediationPhase): void {
    const at = now();
    if (this.state.phaseStartedMs) this.state.timings[this.state.phase] = (this.state.timings[this.state.phase] ?? 0) + at - this.state.phaseStartedMs;
    Object.assign(this.state, { phase, phaseStartedMs: at, cursor: 0 });
    this.label(phase);
  }

  /** What the run is doing (a phase, or paused) in the status and the StrataPhase search attribute. */
  protected label(activity: string): void {
    const shown = { phase: activity };
    markPhase(shown, activity, { tenantCode: this.input.tenantCode, shareName: this.input.shareName });
    this.state.activity = activity;
  }

  protected status(status: string, extra: Partial<Parameters<Activities['setRemediationStatus']>[0]> = {}) {
    return db.setRemediationStatus({ tenantId: this.input.tenantId, runId: this.input.runId, status, ...extra });
  }

  protected audit(action: string, details: Record<string, unknown>, actor = this.input.requestedBy) {
    return { actor, action, target: `remediation/${this.input.runId}`, details: { ...details, runId: this.input.runId }, eventKey: `${action}/${this.input.runId}` };
  }

  protected hostActivities(): HostActivities {
    return this.host ??= proxyActivities<HostActivities>({
      ...remediationHost, taskQueue: hostTaskQueue(this.state.hostId!), cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      heartbeatTimeout: `${Math.max(3, this.options.heartbeatTimeoutSeconds ?? 30)} seconds`,
    });
  }

  protected hostWaitSeconds(): number {
    return this.options.hostWaitSeconds ?? DEFAULT_HOST_WAIT_SECONDS;
  }

  /** The run's first call to its host, which may wait only hostWaitSeconds to be picked up. */
  protected firstHostStep(): HostActivities {
    return proxyActivities<HostActivities>({ ...remediationHost, taskQueue: hostTaskQueue(this.state.hostId!), scheduleToStartTimeout: `${this.hostWaitSeconds()} seconds` });
  }

  protected indexedBySlices(key: 'applyIndexed' | 'rollbackIndexed', counts: BatchCounts): BatchCounts {
    this.state.counters[key] = (this.state.counters[key] ?? 0) + (counts.indexed ?? 0);
    return counts;
  }

  /**
   * Whether the phase's batches moved the index rows of all `expected` files themselves, so
   * the set-based pass over every item can be skipped. A batch of a worker that did not
   * (and every history recorded before batches reported it) counts none: the pass runs.
   */
  protected slicesMovedIndex(key: 'applyIndexed' | 'rollbackIndexed', expected: number): boolean {
    const moved = this.state.counters[key] ?? 0;
    return moved > 0 && moved === expected;
  }

  protected toRollback(reason: string): Next {
    this.state.rollbackReason = reason;
    return 'rollback';
  }

  protected batch(from: number, to: number) {
    return { tenantId: this.input.tenantId, runId: this.input.runId, from, to };
  }

  protected async counts(): Promise<Record<string, number>> {
    const counts = await db.remediationCounts({ tenantId: this.input.tenantId, runId: this.input.runId });
    Object.assign(this.state.counters, counts);
    return counts;
  }

  protected controlled(run: (from: number, to: number) => Promise<BatchCounts>): Promise<WindowEnd> {
    return controlledWindow(this.state, this.options, run, (activity) => this.label(activity));
  }

  protected batches(run: (from: number, to: number) => Promise<BatchCounts>, stoppable: boolean): Promise<WindowEnd> {
    return phaseWindow(this.state, this.options, run, stoppable);
  }

  protected async end(runStatus: string, actionStatus: 'completed' | 'failed' | 'rolled_back', reason: string): Promise<Next> {
    this.state.outcome = runStatus;
    await this.status(runStatus, {
      actionStatus, reason, finished: true, counters: this.state.counters,
      audit: this.audit(`remediation.${runStatus.toLowerCase()}`, { reason, reportHash: this.state.reportHash }),
    });
    return 'done';
  }

  /** An unexpected failure (or a cancellation of the workflow): roll back what may have been applied, else record the failure. */
}
