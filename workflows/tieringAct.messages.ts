// Messages and input types of tieringAct (signals shared with rehydrate),
// importable by the api.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface TieringPacing { filesPerSecond?: number; bytesPerSecond?: number }

export interface TieringRunOptions {
  pacing?: TieringPacing;
  /** The most files / bytes this run moves; it completes when reached. */
  maxFiles?: number;
  maxBytes?: number;
  /** Stop (status failed) when failed/processed passes this (default 0.05) after minSample objects (default 20). */
  failureRatio?: number;
  minSample?: number;
  /** Objects per host activity (default 50,000, loaded page by page) and per wave inside it (default 2,000). */
  batchSize?: number;
  waveSize?: number;
  /** How long a silent host batch may run before it is retried elsewhere (default 15). */
  heartbeatTimeoutSeconds?: number;
  /** How long the host's worker may take to pick up the preflight before the run fails as not connected (default 900). */
  hostWaitSeconds?: number;
  /** Stubs re-verified in the verifying phase (default 64). */
  verifySample?: number;
  /** Continue-as-new once the history has this many events (default 2000). */
  historyLimit?: number;
}

/** Input of the pause, resume and cancel signals: who asked and why. */
export interface ControlInput { by?: string; reason?: string }

export const pauseSignal = defineSignal<[ControlInput]>('pause');
export const resumeSignal = defineSignal<[ControlInput]>('resume');
export const cancelSignal = defineSignal<[ControlInput]>('cancel');

export interface RunCarry { paused: boolean; cancel: ControlInput | null; shareIndex?: number; shares?: { shareName: string; hostId: string; files: number; bytes: number }[] }

export interface TieringActInput {
  tenantId: string;
  tenantCode: string;
  planId: string;
  actionId: string;
  requestedBy: string;
  options?: TieringRunOptions;
  /** State carried across continue-as-new. */
  carry?: RunCarry;
}

export type RunStopReason = 'cancelled' | 'failure-ratio' | 'max-per-run' | 'preflight' | 'verify' | 'plan-not-ready' | null;

export interface TieringRunStatus {
  phase: string;
  actionId: string;
  paused: boolean;
  cancelRequested: boolean;
  shareName?: string;
  hostId?: string;
  stopReason: RunStopReason;
  counters: Record<string, unknown>;
}

export interface TieringRunResult { actionId: string; status: 'completed' | 'failed'; stopReason: RunStopReason; summary: Record<string, unknown> }

export const statusQuery = defineQuery<TieringRunStatus>('status');

export function tieringActWorkflowId(tenantCode: string, planId: string): string {
  return `tiering-act/${tenantCode}/${planId}`;
}
