// Messages and input of the remediation workflow, importable by the api. Approvals
// come as Update `execute` (or the gate's `approve` Update/signal, same rules);
// Update `rollback` restores the snapshot during the rollback window.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AclPolicy } from '../lib/acl-policy';
import type { PlanReport, RemediationScope } from '../activities/remediation-plan';
import type { FsSnapshotResult } from '../lib/fs-snapshot';
import type { ApproveInput, ApproveResult, GateState } from './approvalGate.messages';

export interface RemediationOptions {
  dryRun?: boolean;
  /** Distinct approvers needed (default 1); 0 lets the requester or any operator execute the reviewed report. */
  approvalsRequired?: number;
  approvalDeadlineHours?: number;
  /** At most this many files are changed (the first by inode); the report says how many needed it. */
  maxFiles?: number;
  /** Host batches running at once (default 4) and items per batch (default 2000). */
  parallelism?: number;
  batchSize?: number;
  rollbackWindowHours?: number;
  /** Throttle of the apply phase on the host. */
  maxFilesPerSecond?: number;
  heartbeatTimeoutSeconds?: number;
  /** How long the host may take to pick up the run's first step on it (the snapshot) before the run fails as not connected (default 900). */
  hostWaitSeconds?: number;
  /** Group names treated as "everyone" for the world-access flag of new descriptors (default users). */
  worldGroups?: string[];
  /** Transform directories' default ACLs too (default true). */
  applyToDefault?: boolean;
  /** Take a btrfs/LVM/ZFS snapshot where the volume supports it (default true). */
  fsSnapshot?: boolean;
  driftIntervalMinutes?: number;
}

export type RemediationPhase = 'plan' | 'gate' | 'snapshot' | 'apply' | 'verify' | 'index' | 'window' | 'rollback' | 'done';

export interface ControlInput { by?: string; reason?: string }
export interface RollbackInput { requestedBy: string; role: string; reason?: string }
export interface RollbackResult { accepted: boolean; status: string }

/** What a run carries across continue-as-new. */
export interface RemediationCarry {
  phase: RemediationPhase; cursor: number; hostId: string | null; selected: number; reportHash: string | null;
  report: PlanReport | null; gate: GateState | null; fsSnapshot: FsSnapshotResult | null; rollbackUntilMs: number | null;
  rollbackRequest: (RollbackInput & { at: string }) | null; rollbackReason: string | null; paused: boolean; cancel: ControlInput | null;
  counters: Record<string, number>; timings: Record<string, number>; phaseStartedMs: number; outcome: string | null;
}

export interface RemediationInput {
  tenantId: string;
  tenantCode: string;
  runId: string;
  requestedBy: string;
  scope: RemediationScope;
  /** Principals resolved to numeric ids on the scope's host. */
  policy: AclPolicy;
  /** The request as the caller wrote it (names), kept for the report and audit. */
  request?: Record<string, unknown>;
  shareName?: string;
  options?: RemediationOptions;
  carry?: RemediationCarry;
}

export interface RemediationStatus extends RemediationCarry {
  /** The phase, or `paused` while a pause holds the window. */
  activity: string;
  runId: string; batches: { done: number; total: number }; live: Record<string, number>;
}

export const statusQuery = defineQuery<RemediationStatus>('status');
export const executeUpdate = defineUpdate<ApproveResult, [ApproveInput]>('execute');
export const rollbackUpdate = defineUpdate<RollbackResult, [RollbackInput]>('rollback');
export const pauseSignal = defineSignal<[ControlInput]>('pause');
export const resumeSignal = defineSignal<[ControlInput]>('resume');
export const cancelSignal = defineSignal<[ControlInput]>('cancel');

export const ROLLBACK_ROLES = ['operator', 'approver', 'admin', 'install-admin'] as const;

export function remediationWorkflowId(tenantCode: string, runId: string): string {
  return `remediation/${tenantCode}/${runId}`;
}
