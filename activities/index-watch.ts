// The host's change watcher for a volume: Node's recursive fs.watch (inotify on
// Linux) batches changed paths and signals them to the volume's indexSync workflow.
// inotify needs no privilege and reports names relative to the watched tree; it
// costs one watch per directory (fs.inotify.max_user_watches) and can overflow
// under bursts, which a periodic re-bootstrap corrects. fanotify with
// FAN_MARK_FILESYSTEM would avoid both but needs CAP_SYS_ADMIN and file handles.
import { watch } from 'node:fs';
import { Context } from '@temporalio/activity';
import { CORE_TASK_QUEUE } from '../temporal-config/task-queues';
import { changesSignal, indexSyncWorkflowId, type ChangeEvent, type IndexSyncInput, type IndexWatchInput } from '../workflows/indexSync.messages';
import { escapeName, joinEscaped } from './index-names';

export type WatchVolumeInput = IndexWatchInput;

export async function watchVolume(input: WatchVolumeInput): Promise<void> {
  const context = Context.current();
  const pending = new Map<string, ChangeEvent>();
  const volume = escapeName(Buffer.from(input.volume, 'utf8'));
  const watcher = watch(input.volume, { recursive: true, signal: context.cancellationSignal }, (eventType, name) => {
    if (name === null) return;
    const path = joinEscaped(volume, escapeName(Buffer.from(name, 'utf8')));
    pending.set(path, { type: eventType === 'change' ? 'modify' : 'rename', path });
  });
  watcher.on('error', () => undefined);
  const syncInput: IndexSyncInput = { tenantId: input.tenantId, tenantCode: input.tenantCode, hostId: input.hostId, volume: input.volume };
  const flush = async () => {
    if (pending.size === 0) return;
    const events = [...pending.values()];
    pending.clear();
    await context.client.workflow.signalWithStart('indexSync', {
      workflowId: indexSyncWorkflowId(input.tenantCode, input.hostId, input.volume), taskQueue: CORE_TASK_QUEUE,
      args: [syncInput], signal: changesSignal, signalArgs: [{ events, source: 'watcher' }],
    });
  };
  try {
    while (!context.cancellationSignal.aborted) {
      await context.sleep(input.flushMs ?? 500).catch(() => undefined);
      await flush();
      context.heartbeat({ watching: input.volume });
    }
  } finally {
    watcher.close();
  }
  throw context.cancellationSignal.reason;
}
