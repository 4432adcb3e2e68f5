// The approval gate, written once for every workflow that stops for approval
// (sanitize through approvalGate.ts, remediation through remediationGate.ts).
// Approvals arrive as a validated Update (the caller sees why a refusal happened)
// or as a signal from the Temporal UI/CLI (checked in the workflow; invalid ones are
// recorded and ignored). Each is bound to the report hash, and the approver's role
// is confirmed against the database. A gate variant supplies the rule an approval
// must pass and, for remediation, an extra Update and a state carried across
// continue-as-new. The commands issued are those the two gates issued before they
// shared this code, in the same order: running histories depend on it.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite } from '../temporal-config/activity-presets';
import {
  approveSignal, approveUpdate, gateQuery,
  type ApproveInput, type ApproveResult, type GateState, type GateStatus,
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

/** Why an approval must be refused, or undefined when it counts. */
export type ApprovalRule = (state: GateState, input: ApproveInput) => string | undefined;

/** An Update that takes an approval, as `approve` does (remediation's `execute`). */
export type ApproveUpdateDefinition = typeof approveUpdate;

/** What sets one gate apart; the plain two-person gate needs only `rule`. */
export interface GateVariant {
  rule: ApprovalRule;
  /** Updates served exactly like `approve` (same handler and validator), registered before it. */
  extraUpdates?: readonly ApproveUpdateDefinition[];
  /** With no approvals required the gate still waits, for one decision under `rule`, instead of being NOT_REQUIRED. */
  selfService?: boolean;
  /** Receives the gate's live state at once, so the run's own status shows approvals and refusals while it waits. */
  expose?: (state: GateState) => void;
  /**
   * A gate carried across continue-as-new: it starts from the carried state when there
   * is one, waits only for what is left of its deadline, and keeps a decision that came
   * in together with the deadline.
   */
  resumable?: { restored?: GateState | null };
}

type Via = 'update' | 'signal';

// Workflow time (Date) is deterministic inside workflows: it is the task's start time.
export const now = (): Date => new Date();

/** Registers the gate's handlers at once and resolves with the decided (or expired) gate. */
export function runGate(options: GateOptions, variant: GateVariant): Promise<GateState> {
  const waits = variant.selfService === true || options.required > 0;
  const state = variant.resumable?.restored ?? freshState(options, waits ? 'PENDING' : 'NOT_REQUIRED');
  variant.expose?.(state);
  const gate = new Gate(state, options, variant);
  gate.register();
  return gate.decision();
}

function freshState(options: GateOptions, status: GateStatus): GateState {
  return {
    status, required: options.required, reportHash: options.reportHash, requestedBy: options.requestedBy,
    deadline: new Date(now().getTime() + options.deadlineMs).toISOString(), approvals: [], refusals: [],
  };
}

class Gate {
  constructor(private readonly state: GateState, private readonly options: GateOptions, private readonly variant: GateVariant) {}

  register(): void {
    const { state, variant } = this;
    setHandler(gateQuery, () => state);
    const update = async (input: ApproveInput): Promise<ApproveResult> => {
      await this.accept(input, 'update');
      return { status: state.status, approvals: state.approvals.length, required: state.required };
    };
    const validator = (input: ApproveInput) => {
      const problem = variant.rule(state, input);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'Rejected');
    };
    for (const extra of variant.extraUpdates ?? []) setHandler(extra, update, { validator });
    setHandler(approveUpdate, update, { validator });
    setHandler(approveSignal, async (input) => {
      const problem = variant.rule(state, input);
      if (problem) await this.refuse(input, problem, 'signal');
      else await this.accept(input, 'signal');
    });
  }

  // A plain gate waits deadlineMs from its start; a resumable one only what is left
  // of its (carried) deadline, none at all when it has passed.
  async decision(): Promise<GateState> {
    const { state } = this;
    const resumable = this.variant.resumable !== undefined;
    if (state.status === 'PENDING') {
      const timeoutMs = resumable ? Date.parse(state.deadline) - now().getTime() : this.options.deadlineMs;
      const decided = (!resumable || timeoutMs > 0) && await condition(() => state.status !== 'PENDING', timeoutMs);
      if (!decided && (!resumable || state.status === 'PENDING')) {
        state.status = 'EXPIRED';
        await this.audit('approval.expired', 'strata', { approvals: state.approvals.length, required: state.required });
      }
    }
    return state;
  }

  private audit(action: string, actor: string, details: Record<string, unknown>) {
    const { tenantId, subject, reportHash } = this.options;
    return db.recordAudit({ tenantId, entry: { actor, action, target: subject, details: { reportHash, ...details } } });
  }

  // Refused Updates are audited by the api that relays them (a validator cannot run
  // activities); refused signals are audited here.
  private async refuse(input: ApproveInput, reason: string, via: Via): Promise<void> {
    this.state.refusals.push({ approver: String(input?.approver ?? ''), reason, at: now().toISOString(), via });
    if (via === 'signal') await this.audit('approval.refused', String(input?.approver ?? 'unknown'), { reason, via });
  }

  private async accept(input: ApproveInput, via: Via): Promise<void> {
    const { state } = this;
    const role = await db.lookupUserRole({ tenantId: this.options.tenantId, userName: input.approver });
    const confirmed = input.role === 'install-admin' ? via === 'update' : role === input.role;
    const problem = !confirmed ? `${input.approver} does not hold role ${input.role} in this tenant` : this.variant.rule(state, input);
    if (problem) {
      await this.refuse(input, problem, via);
      if (via === 'update') throw ApplicationFailure.nonRetryable(problem, 'Rejected');
      return;
    }
    if (input.decision === 'reject') {
      state.rejection = { approver: input.approver, reason: input.reason ?? 'no reason given', at: now().toISOString() };
      state.status = 'REJECTED';
      await this.audit('approval.rejected', input.approver, { reason: state.rejection.reason, via });
      return;
    }
    state.approvals.push({ approver: input.approver, role: input.role, at: now().toISOString(), via });
    // A self-service gate (required 0) is decided by its one accepted decision.
    if (state.approvals.length >= Math.max(1, state.required)) state.status = 'APPROVED';
    await this.audit('approval.granted', input.approver, { via, approvals: state.approvals.length, required: state.required });
  }
}
