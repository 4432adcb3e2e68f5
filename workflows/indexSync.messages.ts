// Messages and input types of indexSync (delta sync of a volume's index) and of
// indexSyncWatcher (the host watcher feeding it), importable by the api and activities.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type ChangeType = 'create' | 'delete' | 'rename' | 'attrib' | 'modify';

/** Paths use the index's escaped text form (`\\` for a backslash, `\xHH` for bytes that are not UTF-8). */
export interface ChangeEvent { type: ChangeType; path: string; oldPath?: string }

export interface ChangesInput { events: ChangeEvent[]; source: 'watcher' | 'api' }

export interface SyncTotals { received: number; applied: number; unchanged: number; ignored: number; failed: number; batches: number }

export interface IndexSyncInput {
  tenantId: string;
  tenantCode: string;
  hostId: string;
  volume: string;
  batchSize?: number;
  /** History length after which the run continues as new (default 2,000 events). */
  historyLimit?: number;
  carried?: { queue: ChangeEvent[]; totals: SyncTotals };
}

export interface IndexSyncStatus extends SyncTotals { phase: string; queued: number; lastBatchAt: string | null; lastErrors: string[] }

export const changesSignal = defineSignal<[ChangesInput]>('changes');
export const statusQuery = defineQuery<IndexSyncStatus>('status');
export const watchStatusQuery = defineQuery<{ phase: string }>('status');

export interface IndexWatchInput { tenantId: string; tenantCode: string; hostId: string; volume: string; flushMs?: number }

export function indexSyncWorkflowId(tenantCode: string, hostId: string, volume: string): string {
  return `index-sync/${tenantCode}/${hostId}/${volume.replace(/^\/+/, '')}`;
}

export function indexWatchWorkflowId(tenantCode: string, hostId: string, volume: string): string {
  return `index-watch/${tenantCode}/${hostId}/${volume.replace(/^\/+/, '')}`;
}
