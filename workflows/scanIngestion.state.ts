// Pure bookkeeping of a scan's chunks (what arrived, what is in, what failed), kept
// apart from the workflow so it is easy to reason about and carried across
// continue-as-new as plain JSON.
import type { ChunkReadyInput, ScanIngestionState } from './scanIngestion.messages';

export function freshState(now: number, deadlineSeconds: number): ScanIngestionState {
  return {
    firstChunkAt: now, deadlineAt: now + deadlineSeconds * 1000, ingested: [], pending: [], failed: [],
    received: 0, maxSeq: -1, rowsIngested: 0, bytesIngested: 0, filesInserted: 0, errors: [],
  };
}

export function isIngested(state: ScanIngestionState, seq: number): boolean {
  return state.ingested.some(([from, to]) => seq >= from && seq <= to);
}

export function ingestedCount(state: ScanIngestionState): number {
  return state.ingested.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
}

/** Adds a sequence number to the sorted, merged range list. */
export function addIngested(state: ScanIngestionState, seq: number): void {
  if (isIngested(state, seq)) return;
  const ranges = state.ingested;
  ranges.push([seq, seq]);
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  state.ingested = merged;
}

export function recordError(state: ScanIngestionState, message: string): void {
  state.errors.push(message);
  if (state.errors.length > 50) state.errors.splice(0, state.errors.length - 50);
}

/** Queues a newly announced chunk; repeats and chunks past the seal are not queued again. */
export function acceptChunk(state: ScanIngestionState, chunk: ChunkReadyInput, inFlight: ReadonlySet<number>): boolean {
  if (isIngested(state, chunk.seq) || inFlight.has(chunk.seq) || state.failed.includes(chunk.seq)) return false;
  if (state.pending.some((queued) => queued.seq === chunk.seq)) return false;
  if (state.totalChunks !== undefined && chunk.seq >= state.totalChunks) {
    recordError(state, `chunk ${chunk.seq} arrived after the scan was sealed with ${state.totalChunks} chunks; ignored`);
    return false;
  }
  state.pending.push(chunk);
  state.pending.sort((a, b) => a.seq - b.seq);
  state.received++;
  state.maxSeq = Math.max(state.maxSeq, chunk.seq);
  return true;
}

export function acceptSeal(state: ScanIngestionState, totalChunks: number): void {
  if (state.totalChunks === undefined) {
    state.totalChunks = totalChunks;
    if (state.maxSeq >= totalChunks) {
      state.fatal = `sealed with ${totalChunks} chunks but chunk ${state.maxSeq} was already received`;
      recordError(state, state.fatal);
      state.pending = state.pending.filter((chunk) => chunk.seq < totalChunks);
    }
  } else if (state.totalChunks !== totalChunks) {
    recordError(state, `second seal with ${totalChunks} chunks ignored; the scan was sealed with ${state.totalChunks}`);
  }
}

/** Sealed and every chunk below the seal is either in or has failed for good. */
export function isSettled(state: ScanIngestionState): boolean {
  if (state.totalChunks === undefined) return false;
  const failedBelow = state.failed.filter((seq) => seq < state.totalChunks!).length;
  const ingestedBelow = state.ingested.reduce((sum, [from, to]) =>
    sum + Math.max(0, Math.min(to, state.totalChunks! - 1) - from + 1), 0);
  return ingestedBelow + failedBelow >= state.totalChunks;
}

export function missingBelowSeal(state: ScanIngestionState): number[] {
  const missing: number[] = [];
  for (let seq = 0; seq < (state.totalChunks ?? 0) && missing.length < 20; seq++) {
    if (!isIngested(state, seq) && !state.failed.includes(seq)) missing.push(seq);
  }
  return missing;
}
