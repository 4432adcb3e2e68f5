// accessUpdates: one long-running run per LucidLink volume. The api stages each
// batch of access events in Postgres and signals its id; an activity applies the
// staged batches oldest first, each exactly once. Continue-as-new keeps history small.
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite } from '../temporal-config/activity-presets';
import { markPhase } from './phase';
import {
  auditBatchSignal, statusQuery, type AccessUpdatesCounters, type AccessUpdatesInput, type AccessUpdatesStatus,
} from './accessUpdates.messages';

const db = proxyActivities<Activities>({ ...dbWrite, heartbeatTimeout: '1 minute' });

const HISTORY_LIMIT = 2000;

const zero = (): AccessUpdatesCounters => ({
  batchesReceived: 0, batchesApplied: 0, eventsReceived: 0, eventsDuplicate: 0, eventsUnmatched: 0, eventsStale: 0, pathsUpdated: 0, fileRowsUpdated: 0,
});

export async function accessUpdates(input: AccessUpdatesInput): Promise<void> {
  const counters = input.carried?.counters ?? zero();
  const pending = new Set<string>(input.carried?.pending ?? []);
  let lastAppliedAt = input.carried?.lastAppliedAt ?? null;
  const progress = { phase: 'starting' };
  const enterPhase = (phase: string) => { if (progress.phase !== phase) markPhase(progress, phase, { tenantCode: input.tenantCode }); };

  setHandler(auditBatchSignal, ({ batchId, events }) => {
    if (pending.has(batchId)) return;
    pending.add(batchId);
    counters.batchesReceived++;
    counters.eventsReceived += events;
  });
  setHandler(statusQuery, (): AccessUpdatesStatus => ({
    ...counters, phase: progress.phase, volumeId: input.volumeId, pendingBatches: pending.size, lastAppliedAt,
  }));

  const continueSuggested = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LIMIT);
  for (;;) {
    enterPhase('waiting');
    await condition(() => pending.size > 0 || continueSuggested());
    if (continueSuggested()) break;
    enterPhase('applying');
    // Batches signalled so far were staged before their signal, so this round applies them.
    const signalled = [...pending];
    let more = true;
    while (more) {
      const result = await db.applyAccessBatches({ tenantId: input.tenantId, volumeId: input.volumeId });
      for (const batch of result.applied) {
        pending.delete(batch.batchId);
        counters.batchesApplied++;
        counters.eventsDuplicate += batch.duplicates;
        counters.eventsUnmatched += batch.unmatched;
        counters.eventsStale += batch.stale;
        counters.pathsUpdated += batch.pathsUpdated;
        counters.fileRowsUpdated += batch.fileRowsUpdated;
      }
      if (result.applied.length > 0) lastAppliedAt = new Date().toISOString();
      more = result.more;
    }
    for (const batchId of signalled) pending.delete(batchId);
  }
  await condition(allHandlersFinished);
  return continueAsNew<typeof accessUpdates>({ ...input, carried: { counters, pending: [...pending], lastAppliedAt: lastAppliedAt ?? undefined } });
}
