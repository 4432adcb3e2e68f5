// Scan progress (the running workflow's status query, or the database once it has
// ended) and sealing, which first re-announces every chunk still in the spool so a
// chunk whose upload died between spooling and signalling is not lost.
import type { Caller } from '../auth';
import type { ApiContext } from '../context';
import { conflict, notFound } from '../problem';
import { listSpooledSeqs, chunkSpoolRef } from '../../lib/spool';
import type { ScanIngestionStatus } from '../../workflows/scanIngestion.messages';
import { orUnavailable } from './availability';
import { recoverSpoolMeta } from './spool-recovery';
import { liveStatus, sealWithStart, signalRunning, type ScanHeaders } from './signals';
import { scanRecord, type ScanRecord } from './store';
import type { ScanProgress } from './schema';

export async function scanProgress(context: ApiContext, caller: Caller, scanGuid: string): Promise<ScanProgress> {
  const scan = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, scanGuid };
  const record = await orUnavailable('Postgres', () => scanRecord(context.pool, caller.tenantId, scanGuid));
  const live = !record || record.scan.status === 'RUNNING' ? await liveStatus(context, scan) : undefined;
  if (live) return fromWorkflow(scanGuid, live, record);
  if (!record) throw notFound(`scan ${scanGuid} is unknown`);
  return fromRecord(record);
}

export interface SealAnswer { status: 200 | 202; body: { scanGuid: string; totalChunks: number; status: string } }

export async function sealScan(context: ApiContext, caller: Caller, scanGuid: string, totalChunks: number, headers: Partial<ScanHeaders>): Promise<SealAnswer> {
  const scan = { tenantId: caller.tenantId, tenantCode: caller.tenantCode, scanGuid };
  const answer = (status: 200 | 202, state: string): SealAnswer => ({ status, body: { scanGuid, totalChunks, status: state } });
  const record = await orUnavailable('Postgres', () => scanRecord(context.pool, caller.tenantId, scanGuid));
  if (record && record.scan.status !== 'RUNNING') {
    if (record.scan.totalChunks === totalChunks) return answer(200, record.scan.status);
    throw conflict(`scan ${scanGuid} already ended (${record.scan.status}) with ${record.scan.totalChunks ?? 'no'} sealed chunks`);
  }
  const live = await liveStatus(context, scan);
  if (!live) {
    const complete = headers.shareName && headers.srcType && headers.startedAt;
    if (!complete) throw notFound(`scan ${scanGuid} is unknown (no chunk arrived yet; send X-Share-Name, X-Source-Type and X-Scan-Started to seal an empty scan)`);
    await sealWithStart(context, scan, headers as ScanHeaders, totalChunks);
    return answer(202, 'sealed');
  }
  if (live.sealed && live.totalChunks !== totalChunks) throw conflict(`scan ${scanGuid} is already sealed with ${live.totalChunks} chunks`);
  if (live.maxSeq >= totalChunks) throw conflict(`chunk ${live.maxSeq} was already received, so totalChunks must be more than ${live.maxSeq}`);
  for (const seq of await listSpooledSeqs(context.dataDir, caller.tenantCode, scanGuid)) {
    const meta = await recoverSpoolMeta(context.dataDir, chunkSpoolRef(caller.tenantCode, scanGuid, seq));
    if (meta) await signalRunning(context, scan, 'chunk', meta);
  }
  if (!(await signalRunning(context, scan, 'seal', { totalChunks }))) throw notFound(`scan ${scanGuid} is no longer running`);
  return answer(live.sealed ? 200 : 202, 'sealed');
}

function fromWorkflow(scanGuid: string, live: ScanIngestionStatus, record: ScanRecord | undefined): ScanProgress {
  return {
    scanGuid, scanId: live.scanId, shareName: record?.scan.shareName ?? null, srcType: record?.scan.srcType ?? null,
    status: 'RUNNING', phase: live.phase, reason: null,
    startedAt: record?.scan.startedAt.toISOString() ?? null, finishedAt: null,
    sealed: live.sealed, totalChunks: live.totalChunks, chunksReceived: live.chunksReceived, chunksIngested: live.chunksIngested,
    chunksInFlight: live.chunksInFlight, chunksFailed: live.chunksFailed, rowsIngested: live.rowsIngested,
    bytesIngested: live.bytesIngested, rowsPerSecond: live.rowsPerSecond, errors: live.errors,
  };
}

function fromRecord({ scan, totals }: ScanRecord): ScanProgress {
  const seconds = totals.firstAt && totals.lastAt ? (totals.lastAt.getTime() - totals.firstAt.getTime()) / 1000 : 0;
  return {
    scanGuid: scan.scanGuid, scanId: scan.id, shareName: scan.shareName, srcType: scan.srcType, status: scan.status,
    phase: scan.status === 'RUNNING' ? 'unknown' : scan.status.toLowerCase(), reason: scan.statusReason,
    startedAt: scan.startedAt.toISOString(), finishedAt: scan.finishedAt?.toISOString() ?? null,
    sealed: scan.totalChunks !== null, totalChunks: scan.totalChunks, chunksReceived: totals.chunks, chunksIngested: totals.chunks,
    chunksInFlight: 0, chunksFailed: 0, rowsIngested: totals.rows, bytesIngested: totals.bytes,
    rowsPerSecond: seconds > 0 ? Math.round(totals.rows / seconds) : 0, errors: scan.statusReason ? [scan.statusReason] : [],
  };
}
