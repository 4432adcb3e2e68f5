// driftCheck: started by the tenant's drift Schedule. For every completed remediation
// the files it changed are re-read on their host, in batches, and compared with the
// run's target descriptors; drifted files are recorded (and closed again once back on
// target). A host that does not answer in time is reported, not waited on forever.
// Past a few thousand history events it continues as new where it was.
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostActivities } from '../activities/host';
import { dbWrite, remediationHost } from '../temporal-config/activity-presets';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { markPhase } from './phase';
import { statusQuery, type DriftCheckInput, type DriftCheckStatus } from './driftCheck.messages';

const db = proxyActivities<Activities>(dbWrite);
const HISTORY_LIMIT = 4_000;

export async function driftCheck(input: DriftCheckInput): Promise<DriftCheckStatus> {
  const resume = input.resume ?? { checkId: uuid4(), runIndex: 0, from: 1, checked: 0, drifted: 0, problems: [] };
  const status: DriftCheckStatus = { phase: 'starting', checkId: resume.checkId, runs: 0, runsDone: resume.runIndex, checked: resume.checked, drifted: resume.drifted, problems: resume.problems };
  setHandler(statusQuery, () => status);
  const labels = { tenantCode: input.tenantCode };
  markPhase(status, 'listing', labels);
  const { runs } = await db.startDriftCheck({ tenantId: input.tenantId, checkId: status.checkId, workflowId: workflowInfo().workflowId });
  status.runs = runs.length;
  markPhase(status, 'checking', labels);
  const batchSize = input.batchSize ?? 5_000;
  for (let index = resume.runIndex; index < runs.length; index += 1) {
    const run = runs[index];
    const host = proxyActivities<HostActivities>({
      ...remediationHost, taskQueue: hostTaskQueue(run.hostId), scheduleToStartTimeout: `${input.hostWaitSeconds ?? 600} seconds`,
      retry: { ...remediationHost.retry, maximumAttempts: 3 },
    });
    try {
      for (let from = index === resume.runIndex ? resume.from : 1; from <= run.items; from += batchSize) {
        if (workflowInfo().historyLength > HISTORY_LIMIT) {
          await condition(allHandlersFinished);
          return await continueAsNew<typeof driftCheck>({ ...input, resume: { checkId: status.checkId, runIndex: index, from, checked: status.checked, drifted: status.drifted, problems: status.problems } });
        }
        const counts = await host.remediationDriftBatch({ tenantId: input.tenantId, runId: run.runId, from, to: from + batchSize - 1, checkId: status.checkId });
        status.checked += counts.items;
        status.drifted += counts.items - (counts.results.ok ?? 0);
      }
    } catch (error) {
      status.problems.push(`remediation ${run.runId} on host ${run.hostId} not checked: ${(error as Error).message}`);
    }
    status.runsDone = index + 1;
  }
  markPhase(status, 'recording', labels);
  const finished = await db.finishDriftCheck({ tenantId: input.tenantId, checkId: status.checkId, runs: runs.length, checked: status.checked, drifted: status.drifted, problems: status.problems });
  status.openDrift = finished.openDrift;
  markPhase(status, 'done', labels);
  await condition(allHandlersFinished);
  return status;
}
