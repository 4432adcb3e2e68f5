// The two-person rule, written once: a workflow calls runApprovalGate() and gets
// APPROVED, REJECTED or EXPIRED. Approvals arrive as a validated Update (the caller
// sees why a refusal happened) or as a signal from the Temporal UI/CLI (checked in
// the workflow; invalid ones are recorded and ignored). Each is bound to the
// report hash, and the approver's role is confirmed against the database.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite } from '../temporal-config/activity-presets';
import {
  APPROVER_ROLES, approveSignal, approveUpdate, gateQuery,
  type ApproveInput, type GateState, type GateStatus,
} from './approvalGate.messages';

const db = proxyActivities<Activities>(dbWrite);

export interface GateOptions {
  tenantId: string;
  requestedBy: string;
  reportHash: string;
  required: number;
  deadlineMs: number;
  subject: string;
}

// Workflow time (Date) is deterministic inside workflows: it is the task's start time.
const now = () => new Date();

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

export async function runApprovalGate(options: GateOptions): Promise<GateState> {
  const state: GateState = {
    status: options.required > 0 ? 'PENDING' : 'NOT_REQUIRED', required: options.required, reportHash: options.reportHash,
    requestedBy: options.requestedBy, deadline: new Date(now().getTime() + options.deadlineMs).toISOString(), approvals: [], refusals: [],
  };
  setHandler(gateQuery, () => state);
  const audit = (action: string, actor: string, details: Record<string, unknown>) =>
    db.recordAudit({ tenantId: options.tenantId, entry: { actor, action, target: options.subject, details: { reportHash: options.reportHash, ...details } } });

  // Refused Updates are audited by the api that relays them (a validator cannot run
  // activities); refused signals are audited here.
  const refuse = async (input: ApproveInput, reason: string, via: 'update' | 'signal') => {
    state.refusals.push({ approver: String(input?.approver ?? ''), reason, at: now().toISOString(), via });
    if (via === 'signal') await audit('approval.refused', String(input?.approver ?? 'unknown'), { reason, via });
  };

  const accept = async (input: ApproveInput, via: 'update' | 'signal') => {
    const role = await db.lookupUserRole({ tenantId: options.tenantId, userName: input.approver });
    const confirmed = input.role === 'install-admin' ? via === 'update' : role === input.role;
    const problem = !confirmed ? `${input.approver} does not hold role ${input.role} in this tenant` : approvalProblem(state, input);
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
    if (state.approvals.length >= state.required) state.status = 'APPROVED';
    await audit('approval.granted', input.approver, { via, approvals: state.approvals.length, required: state.required });
  };

  setHandler(approveUpdate, async (input) => {
    await accept(input, 'update');
    return { status: state.status, approvals: state.approvals.length, required: state.required };
  }, {
    validator: (input) => {
      const problem = approvalProblem(state, input);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'Rejected');
    },
  });
  setHandler(approveSignal, async (input) => {
    const problem = approvalProblem(state, input);
    if (problem) await refuse(input, problem, 'signal');
    else await accept(input, 'signal');
  });

  if (state.status === 'PENDING') {
    const decided = await condition(() => state.status !== 'PENDING', options.deadlineMs);
    if (!decided) {
      state.status = 'EXPIRED';
      await audit('approval.expired', 'strata', { approvals: state.approvals.length, required: state.required });
    }
  }
  return state;
}

export function gateDecided(status: GateStatus): boolean {
  return status === 'APPROVED' || status === 'NOT_REQUIRED';
}
