// Messages and input of the sanitize workflow, importable by the api. Approvals
// use the shared gate's `approve` Update and signal (approvalGate.messages.ts).
import { defineQuery } from '@temporalio/workflow';
import type { GateState } from './approvalGate.messages';

export interface SanitizeInput {
  tenantId: string;
  tenantCode: string;
  shareName: string;
  runId: string;
  requestedBy: string;
  dryRun?: boolean;
  orphanAction?: 'quarantine' | 'delete';
  maxDeletes?: number;
  idleDays?: number;
  approvalDeadlineMs?: number;
  requiredApprovals?: number;
  /** How long the share's host may take to pick up the inventory before the run fails as not connected (default 900 s). */
  hostWaitSeconds?: number;
  /** How soon a host step whose worker died is retried (default: hostFs's minute). */
  heartbeatTimeoutSeconds?: number;
}

export type SanitizeOutcome = 'DRY_RUN' | 'REJECTED' | 'EXPIRED' | 'COMPLETED' | 'FAILED';

export interface SanitizeStatus {
  phase: string;
  runId: string;
  inventoried?: number;
  reportHash?: string;
  totals?: Record<string, { items: number; bytes: number }>;
  destructiveItems?: number;
  gate?: GateState;
  executed?: { done: number; skipped: number };
  outcome?: SanitizeOutcome;
  /** Why a FAILED run stopped. */
  failure?: string;
}

export const statusQuery = defineQuery<SanitizeStatus>('status');

export function sanitizeWorkflowId(tenantCode: string, shareName: string, runId: string): string {
  return `sanitize/${tenantCode}/${encodeURIComponent(shareName)}/${runId}`;
}
