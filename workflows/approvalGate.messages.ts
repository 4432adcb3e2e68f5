// Messages of the two-person approval gate, shared by every workflow that uses
// it (sanitize, remediation) and importable by the api.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const APPROVER_ROLES = ['approver', 'admin', 'install-admin'] as const;

export interface ApproveInput {
  approver: string;
  role: string;
  reportHash: string;
  decision?: 'approve' | 'reject';
  reason?: string;
}

export interface ApprovalRecord { approver: string; role: string; at: string; via: 'update' | 'signal' }
export interface RefusalRecord { approver: string; reason: string; at: string; via: 'update' | 'signal' }

export type GateStatus = 'NOT_REQUIRED' | 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

export interface GateState {
  status: GateStatus;
  required: number;
  reportHash: string;
  requestedBy: string;
  deadline: string;
  approvals: ApprovalRecord[];
  refusals: RefusalRecord[];
  rejection?: { approver: string; reason: string; at: string };
}

export interface ApproveResult { status: GateStatus; approvals: number; required: number }

export const approveUpdate = defineUpdate<ApproveResult, [ApproveInput]>('approve');
export const approveSignal = defineSignal<[ApproveInput]>('approve');
export const gateQuery = defineQuery<GateState>('approvalGate');
