// The approval gate over whole sequences of attempts (property): whatever arrives,
// a gate only ends APPROVED with enough distinct approvers of an approving role,
// none of them the requester, all on the current report hash; and no input at all
// (missing fields, wrong types) makes the rule throw instead of refusing.
import fc from 'fast-check';
import { approvalProblem } from '../../workflows/approvalGate';
import { APPROVER_ROLES, type ApproveInput, type GateState } from '../../workflows/approvalGate.messages';

function pendingGate(required: number): GateState {
  return {
    status: 'PENDING', required, reportHash: 'h1', requestedBy: 'olga', deadline: new Date(Date.now() + 3_600_000).toISOString(),
    approvals: [], refusals: [],
  };
}

/** What the workflow does with an attempt once the role is confirmed: the same bookkeeping, without Temporal. */
function apply(state: GateState, input: ApproveInput): void {
  const problem = approvalProblem(state, input);
  if (problem) {
    state.refusals.push({ approver: String(input?.approver ?? ''), reason: problem, at: '', via: 'update' });
    return;
  }
  if (input.decision === 'reject') { state.status = 'REJECTED'; return; }
  state.approvals.push({ approver: input.approver, role: input.role, at: '', via: 'update' });
  if (state.approvals.length >= state.required) state.status = 'APPROVED';
}

const attempt: fc.Arbitrary<ApproveInput> = fc.record({
  approver: fc.constantFrom('olga', 'ann', 'bob', 'cy', ''),
  role: fc.constantFrom('viewer', 'operator', 'approver', 'admin', 'agent', 'install-admin'),
  reportHash: fc.constantFrom('h1', 'h2'),
  decision: fc.constantFrom<('approve' | 'reject' | undefined)[]>('approve', 'approve', 'approve', 'reject', undefined),
});

describe('approval gate over sequences', () => {
  it('approves only with enough distinct, entitled approvers on the current hash (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.array(attempt, { maxLength: 30 }), (required, attempts) => {
      const state = pendingGate(required);
      let decidedAfter: number | undefined;
      attempts.forEach((input, i) => {
        const before = state.status;
        apply(state, input);
        if (before !== 'PENDING') expect(state.status).toBe(before);
        if (decidedAfter === undefined && state.status !== 'PENDING') decidedAfter = i;
      });
      const approvers = state.approvals.map((a) => a.approver);
      expect(new Set(approvers).size).toBe(approvers.length);
      expect(approvers).not.toContain('olga');
      expect(approvers).not.toContain('');
      for (const approval of state.approvals) expect(APPROVER_ROLES as readonly string[]).toContain(approval.role);
      if (state.status === 'APPROVED') expect(state.approvals.length).toBe(required);
      else expect(state.approvals.length).toBeLessThan(required);
      if (decidedAfter !== undefined) {
        for (const input of attempts.slice(decidedAfter + 1)) expect(approvalProblem(state, input)).toMatch(/not waiting|missing/);
      }
    }), { numRuns: 2000 });
  });

  it('refuses, never throws, on any malformed input (property)', () => {
    fc.assert(fc.property(fc.anything(), (input) => {
      const problem = approvalProblem(pendingGate(2), input as ApproveInput);
      const valid = typeof input === 'object' && input !== null
        && typeof (input as ApproveInput).approver === 'string' && (input as ApproveInput).approver !== 'olga'
        && (APPROVER_ROLES as readonly string[]).includes((input as ApproveInput).role) && (input as ApproveInput).reportHash === 'h1';
      if (!valid) expect(typeof problem).toBe('string');
    }), { numRuns: 3000 });
  });
});
