// scanIngestion: one run per agent scan. The api signals each durably spooled chunk;
// chunks are copied in parallel and normalized one at a time (advisory lock per
// scan) by activities; the scan ends OK once sealed and complete, ERROR past its
// deadline. History stays small through continue-as-new carrying the bookkeeping.
import { allHandlersFinished, condition, continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { chunkIngest, dbWrite } from '../temporal-config/activity-presets';
import { markPhase } from './phase';
import {
  chunkReadySignal, DEFAULT_SCAN_DEADLINE_SECONDS, scanSealedSignal, statusQuery,
  type ChunkReadyInput, type ScanIngestionInput, type ScanIngestionResult, type ScanIngestionState, type ScanIngestionStatus,
} from './scanIngestion.messages';
import {
  acceptChunk, acceptSeal, addIngested, freshState, ingestedCount, isSettled, missingBelowSeal, recordError,
} from './scanIngestion.state';

const ingest = proxyActivities<Activities>(chunkIngest);
const db = proxyActivities<Activities>(dbWrite);

const HISTORY_LIMIT = 4000;
const DEFAULT_PARALLEL = 2;

/** Workflow time: deterministic on replay. */
const now = () => new Date().getTime();

export async function scanIngestion(input: ScanIngestionInput): Promise<ScanIngestionResult> {
  const state = input.carried ?? freshState(now(), input.deadlineSeconds ?? DEFAULT_SCAN_DEADLINE_SECONDS);
  const inFlight = new Set<number>();
  const progress = { phase: 'starting' };
  const labels = { tenantCode: input.tenantCode, shareName: input.shareName };
  const enterPhase = (phase: string) => { if (progress.phase !== phase) markPhase(progress, phase, labels); };

  setHandler(chunkReadySignal, (chunk) => { acceptChunk(state, chunk, inFlight); });
  setHandler(scanSealedSignal, ({ totalChunks }) => acceptSeal(state, totalChunks));
  setHandler(statusQuery, () => describe(state, progress.phase, inFlight.size));

  if (state.scanId === undefined) {
    enterPhase('registering');
    const status = await register(input, state);
    if (status !== 'RUNNING') {
      enterPhase('closed');
      await condition(allHandlersFinished);
      return { scanId: state.scanId ?? null, status: 'CLOSED', reason: `scan is already ${status}`, rowsIngested: 0, chunksIngested: 0 };
    }
  }
  const scanId = state.scanId!;
  const continueSuggested = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LIMIT);

  const startChunk = (chunk: ChunkReadyInput) => {
    inFlight.add(chunk.seq);
    ingest.ingestChunk({ tenantId: input.tenantId, scanId, tenantCode: input.tenantCode, ...chunk })
      .then((result) => {
        addIngested(state, chunk.seq);
        state.lastIngestAt = now();
        if (!result.skipped) {
          state.rowsIngested += result.rows;
          state.bytesIngested += result.bytes;
          state.filesInserted += result.filesInserted;
        }
      })
      .catch((error: Error) => {
        state.failed.push(chunk.seq);
        recordError(state, `chunk ${chunk.seq} failed: ${error.cause instanceof Error ? error.cause.message : error.message}`);
      })
      .finally(() => inFlight.delete(chunk.seq));
  };

  // One timer for the whole run; a continued run starts its own for what is left.
  let deadlinePassed = false;
  void sleep(Math.max(1, state.deadlineAt - now())).then(() => { deadlinePassed = true; });
  for (;;) {
    enterPhase(state.totalChunks === undefined ? 'receiving' : 'ingesting');
    await condition(() => deadlinePassed || isSettled(state)
      || (continueSuggested() ? inFlight.size === 0 : state.pending.length > 0 && inFlight.size < (input.maxParallel ?? DEFAULT_PARALLEL)));
    if (isSettled(state) || deadlinePassed) break;
    if (continueSuggested()) {
      if (inFlight.size > 0) continue;
      await condition(allHandlersFinished);
      return continueAsNew<typeof scanIngestion>({ ...input, carried: state });
    }
    const next = state.pending.shift();
    if (next) startChunk(next);
  }

  enterPhase('finishing');
  await condition(() => inFlight.size === 0);
  const result = await finish(input, state, scanId);
  enterPhase(result.status === 'OK' ? 'ok' : 'error');
  await condition(allHandlersFinished);
  return result;
}

/** Creates (or finds) the scan row; chunks already in the database count as ingested. */
async function register(input: ScanIngestionInput, state: ScanIngestionState): Promise<string> {
  const registered = await db.registerScan({
    tenantId: input.tenantId, scanGuid: input.scanGuid, shareName: input.shareName, srcType: input.srcType, startedAt: input.startedAt,
  });
  state.scanId = registered.scanId;
  for (const seq of registered.ingestedSeqs) addIngested(state, seq);
  state.pending = state.pending.filter((chunk) => !registered.ingestedSeqs.includes(chunk.seq));
  return registered.status;
}

/** Closes the scan OK (sealed, every chunk in) or ERROR keeping what it has, and clears its spool. */
async function finish(input: ScanIngestionInput, state: ScanIngestionState, scanId: number): Promise<ScanIngestionResult> {
  const complete = isSettled(state) && state.failed.length === 0 && !state.fatal;
  const finished = await db.finishScan({
    tenantId: input.tenantId, tenantCode: input.tenantCode, scanId, scanGuid: input.scanGuid,
    status: complete ? 'OK' : 'ERROR', reason: complete ? null : failureReason(state), totalChunks: state.totalChunks ?? null,
    chunksIngested: ingestedCount(state), rowsIngested: state.rowsIngested,
  });
  await ingest.removeScanSpool({ tenantCode: input.tenantCode, scanGuid: input.scanGuid });
  return { scanId, status: finished.status, reason: finished.reason, rowsIngested: state.rowsIngested, chunksIngested: ingestedCount(state) };
}

function failureReason(state: ScanIngestionState): string {
  if (state.fatal) return state.fatal;
  if (state.failed.length > 0) return `chunks failed: ${state.failed.slice(0, 20).join(', ')}; ${state.errors.at(-1) ?? ''}`.trim();
  const have = `${ingestedCount(state)} chunks ingested (${state.rowsIngested} rows)`;
  if (state.totalChunks === undefined) return `not sealed before the deadline; ${have}`;
  return `deadline passed with chunks missing (${missingBelowSeal(state).join(', ')}); ${have} of ${state.totalChunks}`;
}

function describe(state: ScanIngestionState, phase: string, inFlight: number): ScanIngestionStatus {
  const seconds = state.lastIngestAt ? (state.lastIngestAt - state.firstChunkAt) / 1000 : 0;
  return {
    phase, scanId: state.scanId ?? null, sealed: state.totalChunks !== undefined, totalChunks: state.totalChunks ?? null,
    chunksReceived: state.received, chunksIngested: ingestedCount(state), chunksInFlight: inFlight,
    chunksPending: state.pending.length, chunksFailed: state.failed.length, maxSeq: state.maxSeq,
    rowsIngested: state.rowsIngested, bytesIngested: state.bytesIngested, filesInserted: state.filesInserted,
    rowsPerSecond: seconds > 0 ? Math.round(state.rowsIngested / seconds) : 0,
    deadlineAt: new Date(state.deadlineAt).toISOString(), errors: state.errors.slice(-20),
  };
}
