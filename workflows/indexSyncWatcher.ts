// indexSyncWatcher: keeps the host's change watcher of a volume running (one long,
// heartbeating activity that signals indexSync), until the run is cancelled.
import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { HostActivities } from '../activities/host';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { markPhase } from './phase';
import { watchStatusQuery, type IndexWatchInput } from './indexSync.messages';

export async function indexSyncWatcher(input: IndexWatchInput): Promise<void> {
  const host = proxyActivities<HostActivities>({
    taskQueue: hostTaskQueue(input.hostId), startToCloseTimeout: '3650 days', heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
  });
  const status = { phase: 'watching' };
  setHandler(watchStatusQuery, () => status);
  markPhase(status, 'watching', { tenantCode: input.tenantCode, shareName: input.volume });
  await host.watchIndexVolume(input);
}
