// Messages, input and ids of the drift check that a per-tenant Temporal Schedule runs.
import { defineQuery } from '@temporalio/workflow';

export interface DriftCheckInput {
  tenantId: string;
  tenantCode: string;
  /** Items per host batch (default 5000). */
  batchSize?: number;
  /** How long a run's host may take to pick up a batch before the run is reported unchecked (default 10 minutes). */
  hostWaitSeconds?: number;
  /** Where a check that continued as new picks up. */
  resume?: { checkId: string; runIndex: number; from: number; checked: number; drifted: number; problems: string[] };
}

export interface DriftCheckStatus { phase: string; checkId: string; runs: number; runsDone: number; checked: number; drifted: number; problems: string[]; openDrift?: number }

export const statusQuery = defineQuery<DriftCheckStatus>('status');

export function driftScheduleId(tenantCode: string): string {
  return `drift/${tenantCode}`;
}

export function driftCheckWorkflowId(tenantCode: string): string {
  return `drift-check/${tenantCode}`;
}
