// Response shapes of tiering plans and actions, and the live status of a running
// action from its workflow's status query (best effort: the database is the record).
import type { ActionEventRow, ActionRow } from '../../db/queries/actions';
import type { PlanRow } from '../../db/queries/tiering-plan';
import type { ApiContext } from '../context';

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function actionSummary(action: ActionRow) {
  return {
    id: action.id, kind: action.kind, status: action.status, requestedBy: action.requestedBy, workflowId: action.workflowId,
    summary: action.summary, createdAt: iso(action.createdAt) as string, finishedAt: iso(action.finishedAt),
  };
}

export function planFields(plan: PlanRow) {
  return {
    planId: plan.id, shareName: plan.shareName, status: plan.status, statusReason: plan.statusReason, scanId: plan.scanId,
    policy: plan.policy as unknown as Record<string, unknown>, asOf: iso(plan.asOf) as string, requestedBy: plan.requestedBy,
    plannedFiles: Number(plan.plannedFiles), plannedBytes: Number(plan.plannedBytes), progress: plan.progress as Record<string, unknown>,
    summary: plan.summary, createdAt: iso(plan.createdAt) as string, finishedAt: iso(plan.finishedAt),
  };
}

export function planView({ plan, actions }: { plan: PlanRow; actions: ActionRow[] }) {
  return { ...planFields(plan), actions: actions.map(actionSummary) };
}

export function actionView({ action, events }: { action: ActionRow; events: ActionEventRow[] }, live: Record<string, unknown> | null) {
  return {
    ...actionSummary(action), subject: action.subject, shareName: action.shareName, live,
    events: events.map((e) => ({ at: iso(e.at) as string, event: e.event, fromStatus: e.fromStatus, toStatus: e.toStatus, details: e.details })),
  };
}

export async function liveStatus(context: ApiContext, action: ActionRow): Promise<Record<string, unknown> | null> {
  if (!action.workflowId || ['completed', 'failed', 'rolled_back'].includes(action.status)) return null;
  try {
    const query = context.temporal.workflow.getHandle(action.workflowId).query<Record<string, unknown>>('status');
    return await Promise.race([query, new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000).unref())]);
  } catch {
    return null;
  }
}
