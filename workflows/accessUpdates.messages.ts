// Messages and input types of accessUpdates, importable by the api.
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** A batch the api has durably staged in Postgres: passed by reference (its id), never as payload. */
export interface AuditBatchInput { batchId: string; events: number }

export interface AccessUpdatesCounters {
  batchesReceived: number;
  batchesApplied: number;
  eventsReceived: number;
  eventsDuplicate: number;
  eventsUnmatched: number;
  eventsStale: number;
  pathsUpdated: number;
  fileRowsUpdated: number;
}

export interface AccessUpdatesInput {
  tenantId: string;
  tenantCode: string;
  volumeId: string;
  /** Continue-as-new once the history has this many events (default 2000). */
  historyLimit?: number;
  /** Counters and unapplied batch ids carried across continue-as-new. */
  carried?: { counters: AccessUpdatesCounters; pending: string[]; lastAppliedAt?: string };
}

export interface AccessUpdatesStatus extends AccessUpdatesCounters { phase: string; volumeId: string; pendingBatches: number; lastAppliedAt: string | null }

export const auditBatchSignal = defineSignal<[AuditBatchInput]>('auditBatch');
export const statusQuery = defineQuery<AccessUpdatesStatus>('status');

export function accessWorkflowId(tenantCode: string, volumeId: string): string {
  return `access/${tenantCode}/${volumeId}`;
}
