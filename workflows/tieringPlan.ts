// tieringPlan: selects the idle files of a share's latest OK scan into PLANNED tier
// objects (a dry run: nothing on disk changes) and summarises them by top-level
// folder. The selection is resumable; the plan row records success or failure.
import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite, tieringPlanBuild } from '../temporal-config/activity-presets';
import { markPhase } from './phase';
import { statusQuery, type TieringPlanInput, type TieringPlanResult, type TieringPlanStatus } from './tieringPlan.messages';

const db = proxyActivities<Activities>(dbWrite);
const planner = proxyActivities<Activities>(tieringPlanBuild);

export async function tieringPlan(input: TieringPlanInput): Promise<TieringPlanResult> {
  const status: TieringPlanStatus = { phase: 'starting', planId: input.planId, shareName: input.shareName };
  setHandler(statusQuery, () => status);
  const enter = (phase: string) => markPhase(status, phase, { tenantCode: input.tenantCode, shareName: input.shareName });
  const ids = { tenantId: input.tenantId, planId: input.planId, actor: input.requestedBy };
  enter('selecting');
  try {
    status.progress = { ...(await planner.buildTieringPlan(ids)) };
  } catch (error) {
    const reason = error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message;
    await db.failTieringPlan({ ...ids, reason });
    enter('failed');
    throw ApplicationFailure.nonRetryable(`tiering plan ${input.planId} failed: ${reason}`, 'TieringPlanFailed');
  }
  enter('summarising');
  const summary = await db.finishTieringPlan(ids);
  enter('planned');
  return { planId: input.planId, status: 'PLANNED', summary };
}
