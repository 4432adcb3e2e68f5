// Messages and input types of scanIngestion, importable by the api.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export type SourceType = 'NTFS' | 'LucidLink' | 'SMB' | 'POSIX';

/** A chunk durably spooled by the api: passed by reference, never as payload. */
export interface ChunkReadyInput { seq: number; spoolRef: string; rows: number; sha256: string; bytes?: number }
export interface ScanSealedInput { totalChunks: number }

export interface ScanIngestionInput {
  tenantId: string;
  tenantCode: string;
  scanGuid: string;
  shareName: string;
  srcType: SourceType;
  /** ISO 8601 time the agent started the scan (X-Scan-Started). */
  startedAt: string;
  /** A scan not sealed and complete this long after its first chunk ends as ERROR. */
  deadlineSeconds?: number;
  /** Chunks copied at once; normalization itself is serialised per scan. */
  maxParallel?: number;
  /** Continue-as-new once the history has this many events (default 4000). */
  historyLimit?: number;
  /** State carried across continue-as-new. */
  carried?: ScanIngestionState;
}

export interface ScanIngestionState {
  scanId?: number;
  firstChunkAt: number;
  deadlineAt: number;
  lastIngestAt?: number;
  /** Ingested sequence numbers as inclusive [from, to] ranges. */
  ingested: [number, number][];
  pending: ChunkReadyInput[];
  failed: number[];
  totalChunks?: number;
  received: number;
  maxSeq: number;
  rowsIngested: number;
  bytesIngested: number;
  filesInserted: number;
  errors: string[];
  /** Why the scan can no longer end OK, once known. */
  fatal?: string;
}

export interface ScanIngestionStatus {
  phase: string;
  scanId: number | null;
  sealed: boolean;
  totalChunks: number | null;
  chunksReceived: number;
  chunksIngested: number;
  chunksInFlight: number;
  chunksPending: number;
  chunksFailed: number;
  maxSeq: number;
  rowsIngested: number;
  bytesIngested: number;
  filesInserted: number;
  rowsPerSecond: number;
  deadlineAt: string;
  errors: string[];
}

export interface ScanIngestionResult { scanId: number | null; status: 'OK' | 'ERROR' | 'CLOSED'; reason: string | null; rowsIngested: number; chunksIngested: number }

export const chunkReadySignal = defineSignal<[ChunkReadyInput]>('chunkReady');
export const scanSealedSignal = defineSignal<[ScanSealedInput]>('scanSealed');
export const statusQuery = defineQuery<ScanIngestionStatus>('status');

export const DEFAULT_SCAN_DEADLINE_SECONDS = 24 * 3600;

export function scanWorkflowId(tenantCode: string, scanGuid: string): string {
  return `scan/${tenantCode}/${scanGuid.toLowerCase()}`;
}
