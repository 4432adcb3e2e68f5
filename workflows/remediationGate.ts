// The approval gate of a remediation: the shared gate's rules (approvalProblem: role
// approver or admin, not the requester, distinct approvers, the current report hash,
// the deadline) reached through Update `execute` as well as the gate's own `approve`
// Update and signal. With approvalsRequired 0 one `execute` by the requester or any
// operator suffices, still bound to the report hash and the deadline.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite } from '../temporal-config/activity-presets';
import { approvalProblem, type GateOptions } from './approvalGate';
import { approveSignal, approveUpdate, gateQuery, type ApproveInput, type GateState } from './approvalGate.messages';
import { executeUpdate } from './remediation.messages';

const db = proxyActivities<Activities>(dbWrite);
const SELF_SERVICE_ROLES = ['operator', 'approver', 'admin', 'install-admin'];
const now = () => new Date();

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
export async function runRemediationGate(options: GateOptions, restored?: GateState | null, expose?: (state: GateState) => void): Promise<GateState> {
  const state: GateState = restored ?? {
    status: 'PENDING', required: options.required, reportHash: options.reportHash, requestedBy: options.requestedBy,
    deadline: new Date(now().getTime() + options.deadlineMs).toISOString(), approvals: [], refusals: [],
  };
  expose?.(state);
  setHandler(gateQuery, () => state);
  const audit = (action: string, actor: string, details: Record<string, unknown>) =>
    db.recordAudit({ tenantId: options.tenantId, entry: { actor, action, target: options.subject, details: { reportHash: options.reportHash, ...details } } });
  const refuse = async (input: ApproveInput, reason: string, via: 'update' | 'signal') => {
    state.refusals.push({ approver: String(input?.approver ?? ''), reason, at: now().toISOString(), via });
    if (via === 'signal') await audit('approval.refused', String(input?.approver ?? 'unknown'), { reason, via });
  };

  const accept = async (input: ApproveInput, via: 'update' | 'signal') => {
    const role = await db.lookupUserRole({ tenantId: options.tenantId, userName: input.approver });
    const confirmed = input.role === 'install-admin' ? via === 'update' : role === input.role;
    const problem = !confirmed ? `${input.approver} does not hold role ${input.role} in this tenant` : problemOf(state, input);
    if (problem) {
      await refuse(input, problem, via);
      if (via === 'update') throw ApplicationFailure.nonRetryable(problem, 'Rejected');
      return;
    }
    if (input.decision === 'reject') {
      state.rejection = { approver: input.approver, reason: input.reason ?? 'no reason given', at: now().toISOString() };
      state.status = 'REJECTED';
      await audit('approval.rejected', input.approver, { reason: state.rejection.reason, via });
      return;
    }
    state.approvals.push({ approver: input.approver, role: input.role, at: now().toISOString(), via });
    if (state.approvals.length >= Math.max(1, state.required)) state.status = 'APPROVED';
    await audit('approval.granted', input.approver, { via, approvals: state.approvals.length, required: state.required });
  };

  const update = async (input: ApproveInput) => {
    await accept(input, 'update');
    return { status: state.status, approvals: state.approvals.length, required: state.required };
  };
  const validator = (input: ApproveInput) => {
    const problem = problemOf(state, input);
    if (problem) throw ApplicationFailure.nonRetryable(problem, 'Rejected');
  };
  setHandler(executeUpdate, update, { validator });
  setHandler(approveUpdate, update, { validator });
  setHandler(approveSignal, async (input) => {
    const problem = problemOf(state, input);
    if (problem) await refuse(input, problem, 'signal');
    else await accept(input, 'signal');
  });

  if (state.status === 'PENDING') {
    const left = Date.parse(state.deadline) - now().getTime();
    const decided = left > 0 && await condition(() => state.status !== 'PENDING', left);
    if (!decided && state.status === 'PENDING') {
      state.status = 'EXPIRED';
      await audit('approval.expired', 'strata', { approvals: state.approvals.length, required: state.required });
    }
  }
  return state;
}
