// Signals and the rollback Update of a remediation run: pause and resume hold the
// apply/verify window between batches, cancel stops it and rolls back what was
// applied, and Update `rollback` (validated) asks for the snapshot back during the
// rollback window after a completed run.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  ROLLBACK_ROLES, cancelSignal, pauseSignal, resumeSignal, rollbackUpdate, type RemediationCarry, type RollbackInput,
} from './remediation.messages';

const now = () => new Date();

export function freshCarry(): RemediationCarry {
  return {
    phase: 'plan', cursor: 0, hostId: null, selected: 0, reportHash: null, report: null, gate: null, fsSnapshot: null, rollbackUntilMs: null,
    rollbackRequest: null, rollbackReason: null, paused: false, cancel: null, counters: {}, timings: {}, phaseStartedMs: 0, outcome: null,
  };
}

export function rollbackProblem(state: RemediationCarry, input: RollbackInput): string | undefined {
  if (typeof input?.requestedBy !== 'string' || input.requestedBy.length === 0) return 'requestedBy is missing';
  if (!(ROLLBACK_ROLES as readonly string[]).includes(input.role)) return `role ${input.role} may not roll back (operator, approver or admin needed)`;
  if (state.rollbackRequest || state.phase === 'rollback') return undefined;
  if (state.phase !== 'window') return `the run is in phase ${state.phase}; a rollback is possible only after it completed, within its rollback window`;
  if (state.rollbackUntilMs === null || now().getTime() >= state.rollbackUntilMs) return 'the rollback window has closed';
  return undefined;
}

export function installRemediationHandlers(state: RemediationCarry): void {
  setHandler(pauseSignal, () => {
    if (!state.cancel) state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  setHandler(cancelSignal, (input) => {
    state.cancel ??= { by: input?.by ?? 'unknown', reason: input?.reason };
    state.paused = false;
  });
  setHandler(rollbackUpdate, (input) => {
    const already = state.rollbackRequest !== null || state.phase === 'rollback';
    state.rollbackRequest ??= { requestedBy: input.requestedBy, role: input.role, reason: input.reason, at: now().toISOString() };
    return { accepted: true, status: already ? 'ALREADY_ROLLING_BACK' : 'ROLLING_BACK' };
  }, {
    validator: (input) => {
      const problem = rollbackProblem(state, input);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'Rejected');
    },
  });
}
