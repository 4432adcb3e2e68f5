// indexSync: the delta sync of one volume's index. Change events arrive by signal
// (signal-with-start from the host watcher or the api), are applied in batches on
// the host, and the run continues as new when its history grows.
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { HostActivities } from '../activities/host';
import { hostFs } from '../temporal-config/activity-presets';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { markPhase } from './phase';
import { changesSignal, statusQuery, type ChangeEvent, type IndexSyncInput, type IndexSyncStatus } from './indexSync.messages';

const HISTORY_LIMIT = 2_000;
const BATCH_WAIT = '300 milliseconds';

export async function indexSync(input: IndexSyncInput): Promise<void> {
  const host = proxyActivities<HostActivities>({ ...hostFs, startToCloseTimeout: '30 minutes', taskQueue: hostTaskQueue(input.hostId) });
  const batchSize = input.batchSize ?? 500;
  const queue: ChangeEvent[] = [...(input.carried?.queue ?? [])];
  const status: IndexSyncStatus = {
    phase: 'idle', received: 0, applied: 0, unchanged: 0, ignored: 0, failed: 0, batches: 0, ...input.carried?.totals,
    queued: queue.length, lastBatchAt: null, lastErrors: [],
  };
  setHandler(statusQuery, () => ({ ...status, queued: queue.length }));
  setHandler(changesSignal, ({ events }) => {
    queue.push(...events);
    status.received += events.length;
  });
  markPhase(status, 'idle', { tenantCode: input.tenantCode, shareName: input.volume });
  for (;;) {
    await condition(() => queue.length > 0);
    // A short wait gathers the rest of a burst into the same batch.
    await condition(() => queue.length >= batchSize, BATCH_WAIT);
    markPhase(status, 'applying', { tenantCode: input.tenantCode, shareName: input.volume });
    const batch = queue.splice(0, batchSize);
    const result = await host.applyIndexChanges({ tenantId: input.tenantId, hostId: input.hostId, volume: input.volume, events: batch });
    Object.assign(status, {
      applied: status.applied + result.applied, unchanged: status.unchanged + result.unchanged, ignored: status.ignored + result.ignored,
      failed: status.failed + result.failed, batches: status.batches + 1, lastBatchAt: new Date().toISOString(),
      lastErrors: result.errors.length > 0 ? result.errors : status.lastErrors,
    });
    markPhase(status, 'idle', { tenantCode: input.tenantCode, shareName: input.volume });
    if (workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LIMIT) || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      const totals = { received: status.received, applied: status.applied, unchanged: status.unchanged, ignored: status.ignored, failed: status.failed, batches: status.batches };
      return continueAsNew<typeof indexSync>({ ...input, carried: { queue: [...queue], totals } });
    }
  }
}
