// Messages and input types of tieringPlan, importable by the api.
import { defineQuery } from '@temporalio/workflow';
import type { TieringPolicy } from '../lib/tier2-policy';

export interface TieringPlanInput {
  tenantId: string;
  tenantCode: string;
  planId: string;
  shareName: string;
  requestedBy: string;
  /** Recorded on the plan row by the api; here for the Temporal UI. */
  policy?: Partial<TieringPolicy>;
}

export interface TieringPlanResult { planId: string; status: 'PLANNED'; summary: Record<string, unknown> }

export interface TieringPlanStatus { phase: string; planId: string; shareName: string; progress?: Record<string, unknown> }

export const statusQuery = defineQuery<TieringPlanStatus>('status');

export function tieringPlanWorkflowId(tenantCode: string, planId: string): string {
  return `tiering-plan/${tenantCode}/${planId}`;
}
