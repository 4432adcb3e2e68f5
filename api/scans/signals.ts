// The api's side of the scanIngestion workflow: signal-with-start for chunks and
// seals (the first chunk starts the run), and the live status query.
import { WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { SHARE_NAME, TENANT_CODE } from '../../temporal-config/search-attributes';
import {
  chunkReadySignal, scanSealedSignal, scanWorkflowId, statusQuery,
  type ChunkReadyInput, type ScanIngestionInput, type ScanIngestionStatus, type SourceType,
} from '../../workflows/scanIngestion.messages';
import { conflict } from '../problem';
import type { ApiContext } from '../context';
import { orUnavailable, TEMPORAL_CALL_MS } from './availability';

export interface ScanIdentity { tenantId: string; tenantCode: string; scanGuid: string }
export interface ScanHeaders { shareName: string; srcType: SourceType; startedAt: string }

function startInput(scan: ScanIdentity, headers: ScanHeaders): ScanIngestionInput {
  const deadline = Number(process.env.STRATA_SCAN_DEADLINE_SECONDS ?? '');
  const parallel = Number(process.env.STRATA_SCAN_PARALLEL ?? '');
  return {
    tenantId: scan.tenantId, tenantCode: scan.tenantCode, scanGuid: scan.scanGuid, ...headers,
    deadlineSeconds: deadline > 0 ? deadline : undefined, maxParallel: parallel > 0 ? parallel : undefined,
  };
}

async function temporalCall<T>(context: ApiContext, work: () => Promise<T>): Promise<T> {
  return orUnavailable('Temporal', () => context.temporal.withDeadline(Date.now() + TEMPORAL_CALL_MS, work));
}

/** Signal-with-start; a scan whose run has already ended refuses further messages. */
async function signalScan(context: ApiContext, scan: ScanIdentity, headers: ScanHeaders, message: ChunkReadyInput | { totalChunks: number }): Promise<void> {
  const common = {
    taskQueue: CORE_TASK_QUEUE, workflowId: scanWorkflowId(scan.tenantCode, scan.scanGuid),
    args: [startInput(scan, headers)] as [ScanIngestionInput], workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [{ key: TENANT_CODE, value: scan.tenantCode }, { key: SHARE_NAME, value: headers.shareName }],
    memo: { ...headers },
  };
  const workflows = context.temporal.workflow;
  try {
    await temporalCall(context, () => ('seq' in message
      ? workflows.signalWithStart('scanIngestion', { ...common, signal: chunkReadySignal, signalArgs: [message] })
      : workflows.signalWithStart('scanIngestion', { ...common, signal: scanSealedSignal, signalArgs: [message] })));
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw conflict(`scan ${scan.scanGuid} has already finished`);
    throw error;
  }
}

export function announceChunk(context: ApiContext, scan: ScanIdentity, headers: ScanHeaders, chunk: ChunkReadyInput): Promise<void> {
  return signalScan(context, scan, headers, chunk);
}

export function sealWithStart(context: ApiContext, scan: ScanIdentity, headers: ScanHeaders, totalChunks: number): Promise<void> {
  return signalScan(context, scan, headers, { totalChunks });
}

/** Signals a running scan; false when there is no running scan to signal. */
export async function signalRunning(context: ApiContext, scan: ScanIdentity, signal: 'chunk' | 'seal', payload: unknown): Promise<boolean> {
  const handle = context.temporal.workflow.getHandle(scanWorkflowId(scan.tenantCode, scan.scanGuid));
  try {
    if (signal === 'chunk') await temporalCall(context, () => handle.signal(chunkReadySignal, payload as ChunkReadyInput));
    else await temporalCall(context, () => handle.signal(scanSealedSignal, payload as { totalChunks: number }));
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** The running scan's own progress; undefined when no run is open for it. */
export async function liveStatus(context: ApiContext, scan: ScanIdentity): Promise<ScanIngestionStatus | undefined> {
  const handle = context.temporal.workflow.getHandle(scanWorkflowId(scan.tenantCode, scan.scanGuid));
  try {
    const description = await temporalCall(context, () => handle.describe());
    if (description.status.name !== 'RUNNING') return undefined;
    return await temporalCall(context, () => handle.query(statusQuery));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** The scan headers a running scan was started with (kept in its memo), before its scan row exists. */
export async function startedWith(context: ApiContext, scan: ScanIdentity): Promise<ScanHeaders | undefined> {
  const handle = context.temporal.workflow.getHandle(scanWorkflowId(scan.tenantCode, scan.scanGuid));
  try {
    const description = await temporalCall(context, () => handle.describe());
    return description.status.name === 'RUNNING' ? description.memo as ScanHeaders | undefined : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

export async function checkTemporal(context: ApiContext): Promise<void> {
  await orUnavailable('Temporal', () => context.temporalConnection.withDeadline(Date.now() + 3000,
    () => context.temporalConnection.healthService.check({})));
}
