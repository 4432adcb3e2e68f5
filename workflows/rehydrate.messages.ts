// Messages and input types of rehydrate, importable by the api. Pause, resume,
// cancel and status are the same as tieringAct's.
import type { RunCarry, TieringRunOptions } from './tieringAct.messages';

export { cancelSignal, pauseSignal, resumeSignal, statusQuery, type ControlInput, type TieringRunResult, type TieringRunStatus } from './tieringAct.messages';

export interface RehydrateSelection {
  /** Full paths as the index shows them. */
  paths?: string[];
  planId?: string;
  /** Every stubbed file flagged as re-warmed by access updates or a newer scan. */
  rewarmed?: boolean;
  shareName?: string;
}

export interface RehydrateInput {
  tenantId: string;
  tenantCode: string;
  actionId: string;
  requestedBy: string;
  selection: RehydrateSelection;
  options?: TieringRunOptions;
  carry?: RunCarry;
}

export function rehydrateWorkflowId(tenantCode: string, actionId: string): string {
  return `tiering-rehydrate/${tenantCode}/${actionId}`;
}
