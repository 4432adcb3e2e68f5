// The approval gate of a remediation: the shared gate (gate-core.ts) with the
// two-person rule (approvalProblem: role approver or admin, not the requester,
// distinct approvers, the current report hash, the deadline), reached through Update
// `execute` as well as the gate's own `approve` Update and signal, and carried across
// continue-as-new. With approvalsRequired 0 one `execute` by the requester or any
// operator suffices, still bound to the report hash and the deadline.
import { approvalProblem } from './approvalGate';
import { now, runGate, type GateOptions } from './gate-core';
import type { ApproveInput, GateState } from './approvalGate.messages';
import { executeUpdate } from './remediation.messages';

const SELF_SERVICE_ROLES = ['operator', 'approver', 'admin', 'install-admin'];

function problemOf(state: GateState, input: ApproveInput): string | undefined {
  if (state.required > 0) return approvalProblem(state, input);
  if (typeof input?.approver !== 'string' || input.approver.length === 0) return 'approver is missing';
  if (state.status !== 'PENDING') return `the gate is ${state.status}, not waiting for execution`;
  if (now().getTime() >= Date.parse(state.deadline)) return 'the approval deadline has passed';
  if (!SELF_SERVICE_ROLES.includes(input.role)) return `role ${input.role} may not execute (operator, approver or admin needed)`;
  if (input.reportHash !== state.reportHash) return `report hash ${input.reportHash} is not the current report (${state.reportHash})`;
  return undefined;
}

/** `expose` receives the live gate state at once (for the run's status query and continue-as-new). */
export function runRemediationGate(options: GateOptions, restored?: GateState | null, expose?: (state: GateState) => void): Promise<GateState> {
  return runGate(options, { rule: problemOf, extraUpdates: [executeUpdate], selfService: true, expose, resumable: { restored } });
}
