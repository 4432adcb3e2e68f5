// The approval gate's rules as a pure function, checked case by case and with
// fast-check properties: no input ever lets the requester, a stale hash, a wrong
// role or a repeat approver through.
import fc from 'fast-check';
import { approvalProblem } from '../../workflows/approvalGate';
import type { ApproveInput, GateState } from '../../workflows/approvalGate.messages';

function pendingGate(overrides: Partial<GateState> = {}): GateState {
  return {
    status: 'PENDING', required: 2, reportHash: 'h1', requestedBy: 'olga', deadline: new Date(Date.now() + 3_600_000).toISOString(),
    approvals: [], refusals: [], ...overrides,
  };
}

describe('approval rules', () => {
  it('accepts a distinct approver with the current hash', () => {
    expect(approvalProblem(pendingGate(), { approver: 'ann', role: 'approver', reportHash: 'h1' })).toBeUndefined();
  });

  it.each([
    [{ approver: 'olga', role: 'approver', reportHash: 'h1' }, /requester/],
    [{ approver: 'ann', role: 'operator', reportHash: 'h1' }, /may not approve/],
    [{ approver: 'ann', role: 'approver', reportHash: 'h0' }, /not the current report/],
    [{ approver: '', role: 'approver', reportHash: 'h1' }, /missing/],
  ])('refuses %o', (input, reason) => {
    expect(approvalProblem(pendingGate(), input as ApproveInput)).toMatch(reason);
  });

  it('refuses the same approver twice, approvals after the deadline, and a decided gate', () => {
    const approved = pendingGate({ approvals: [{ approver: 'ann', role: 'approver', at: '', via: 'update' }] });
    expect(approvalProblem(approved, { approver: 'ann', role: 'approver', reportHash: 'h1' })).toMatch(/already approved/);
    const late = pendingGate({ deadline: new Date(Date.now() - 1).toISOString() });
    expect(approvalProblem(late, { approver: 'ann', role: 'approver', reportHash: 'h1' })).toMatch(/deadline/);
    expect(approvalProblem(pendingGate({ status: 'REJECTED' }), { approver: 'ann', role: 'approver', reportHash: 'h1' })).toMatch(/REJECTED/);
  });

  it('never accepts the requester, a wrong role, a stale hash or a repeat (property)', () => {
    const names = fc.constantFrom('olga', 'ann', 'bob', 'cy');
    fc.assert(fc.property(names, fc.constantFrom('viewer', 'operator', 'approver', 'admin', 'agent'), fc.constantFrom('h1', 'h2'),
      fc.subarray(['ann', 'bob', 'cy']), fc.boolean(), (approver, role, hash, already, reject) => {
        const gate = pendingGate({ approvals: already.map((name) => ({ approver: name, role: 'approver', at: '', via: 'signal' as const })) });
        const problem = approvalProblem(gate, { approver, role, reportHash: hash, decision: reject ? 'reject' : 'approve' });
        const mustRefuse = approver === 'olga' || !['approver', 'admin'].includes(role) || hash !== 'h1' || (!reject && already.includes(approver));
        return mustRefuse ? problem !== undefined : problem === undefined;
      }));
  });
});
