// The two-person rule: a workflow calls runApprovalGate() and gets APPROVED,
// REJECTED or EXPIRED (NOT_REQUIRED when no approvals are required). The rule an
// approval must pass lives here; the handlers, the role check and the audit trail
// are the shared gate's (gate-core.ts).
import { now, runGate, type GateOptions } from './gate-core';
import { APPROVER_ROLES, type ApproveInput, type GateState, type GateStatus } from './approvalGate.messages';

export type { GateOptions };

export function approvalProblem(state: GateState, input: ApproveInput): string | undefined {
  if (typeof input?.approver !== 'string' || input.approver.length === 0) return 'approver is missing';
  if (state.status !== 'PENDING') return `the gate is ${state.status}, not waiting for approvals`;
  if (now().getTime() >= Date.parse(state.deadline)) return 'the approval deadline has passed';
  if (!(APPROVER_ROLES as readonly string[]).includes(input.role)) return `role ${input.role} may not approve (approver or admin needed)`;
  if (input.approver === state.requestedBy) return 'the requester of a run may not approve it';
  if (input.reportHash !== state.reportHash) return `report hash ${input.reportHash} is not the current report (${state.reportHash})`;
  if (input.decision === 'reject') return undefined;
  if (state.approvals.some((a) => a.approver === input.approver)) return `${input.approver} has already approved`;
  return undefined;
}

/**
 * Not async on purpose: it hands back the shared gate's own promise, so workflow steps
 * resume exactly as before. `expose` receives the live gate state at once (for the run's status query).
 */
export function runApprovalGate(options: GateOptions, expose?: (state: GateState) => void): Promise<GateState> {
  return runGate(options, { rule: approvalProblem, expose });
}

export function gateDecided(status: GateStatus): boolean {
  return status === 'APPROVED' || status === 'NOT_REQUIRED';
}
