// Drives a host batch wave by wave: pacing (files/s, bytes/s), the run's remaining
// budget, the failure-ratio stop, heartbeats and cancellation between waves. Each
// wave's outcomes are persisted while the next wave's files are already in flight.
import { Context } from '@temporalio/activity';
import type { Outcome, WorkRow } from '../db/queries/tiering';
import type { RowFeed } from './tiering-feed';
import { Pacer, type Pacing } from './tiering-pacing';

export interface WaveLimits {
  waveSize?: number;
  pacing?: Pacing;
  /** What the run may still move: files and bytes. */
  budget?: { files?: number | null; bytes?: number | null };
  /** Stop when failed/processed over the run passes threshold, once minSample objects were processed. */
  failure?: { threshold: number; minSample: number; processedBefore: number; failedBefore: number };
  /** Rows the batch asked for: fewer loaded means none were left, so a batch that handles all of them is the last. */
  limit?: number;
}

export type StopReason = 'failure-ratio' | 'budget' | 'cancelled';
export interface BatchResult { loaded: number; processed: number; failed: number; done: boolean; stopped: StopReason | null; summary: Record<string, unknown> }

/**
 * Files per wave. Each wave costs two barriers (syncfs) and a database write whatever
 * its size: at 25,000 small files, waves of 2,000 acted in 3.4-3.7 s against 4.1-4.4 s
 * for waves of 1,000 (3,000 and 4,000 no better than 2,000).
 */
export const DEFAULT_WAVE_SIZE = 2000;
/**
 * Waves in flight at once: while one waits on a durability barrier the others' files
 * are copied and stubbed (at 25,000 files, three acted in 3.2-3.7 s, two in 3.1-4.0 s).
 */
export const WAVES_IN_FLIGHT = 3;
/** The smallest wave the tail of a batch is cut into. */
export const MIN_TAIL_WAVE = 250;

/**
 * The next wave's size. Near the end of a batch whose rows are all loaded the waves
 * shrink (half of what is left each time, not below MIN_TAIL_WAVE), so the last one,
 * which runs alone with nothing to overlap its barriers, is short.
 */
export function nextWaveSize(waveSize: number, remaining: number): number {
  if (remaining >= 2 * waveSize) return waveSize;
  return Math.min(waveSize, remaining, Math.max(MIN_TAIL_WAVE, Math.ceil(remaining / 2)));
}

export async function runWaves(feed: RowFeed, limits: WaveLimits, wave: (rows: WorkRow[]) => Promise<Outcome[]>,
  persist: (outcomes: Outcome[], lastId: number) => Promise<Record<string, unknown>>): Promise<BatchResult> {
  const context = Context.current();
  const rows = feed.rows;
  const pacer = new Pacer(limits.pacing);
  const waveSize = Math.max(1, limits.waveSize ?? DEFAULT_WAVE_SIZE);
  let budgetFiles = limits.budget?.files ?? Infinity;
  let budgetBytes = limits.budget?.bytes ?? Infinity;
  let processed = 0;
  let failed = 0;
  let stopped: StopReason | null = null;
  let summary: Record<string, unknown> = {};
  let error: Error | undefined;
  // Waves run concurrently but are persisted strictly in order, so the action's cursor only moves forward.
  let persisted: Promise<void> = Promise.resolve();
  const inFlight: Promise<void>[] = [];
  const beat = setInterval(() => context.heartbeat({ processed }), 1000);
  const timings = { startedMs: performance.now(), waveMs: 0, persistMs: 0 };
  try {
    for (let next = 0; !error;) {
      await feed.ensure(next + waveSize);
      if (next >= rows.length) break;
      if (context.cancellationSignal.aborted) { stopped = 'cancelled'; break; }
      if (failureRatioExceeded(limits.failure, processed, failed)) { stopped = 'failure-ratio'; break; }
      const size = feed.complete ? nextWaveSize(waveSize, rows.length - next) : waveSize;
      const cap = Math.min(size, budgetFiles, affordable(rows, next, budgetBytes));
      if (cap <= 0) { stopped = 'budget'; break; }
      const n = await pacer.admit(rows.slice(next, next + cap).map((row) => row.size), cap, context.cancellationSignal);
      if (n === 0) continue;
      const batch = rows.slice(next, next + n);
      next += n;
      budgetFiles -= n;
      budgetBytes -= batch.reduce((sum, row) => sum + row.size, 0);
      const waveStarted = performance.now();
      const outcomes = wave(batch).finally(() => { timings.waveMs += performance.now() - waveStarted; });
      // Never left rejected while unobserved: the first failure is kept and rethrown below.
      persisted = persisted.then(async () => {
        if (error) return;
        const done = await outcomes;
        const persistStarted = performance.now();
        summary = await persist(done, batch[batch.length - 1].id);
        timings.persistMs += performance.now() - persistStarted;
        processed += done.length;
        failed += done.filter((o) => o.result === 'failed').length;
        context.heartbeat({ processed });
      }).catch((cause: Error) => { error ??= cause; });
      inFlight.push(outcomes.then(() => undefined, () => undefined));
      if (inFlight.length >= WAVES_IN_FLIGHT) await inFlight.shift();
    }
    await persisted;
    if (error) throw error;
    if (!stopped && failureRatioExceeded(limits.failure, processed, failed)) stopped = 'failure-ratio';
    context.log.info('tiering batch', {
      loaded: rows.length, processed, failed, stopped, elapsedMs: Math.round(performance.now() - timings.startedMs),
      waveMs: Math.round(timings.waveMs), persistMs: Math.round(timings.persistMs),
    });
    const last = feed.complete && (rows.length === 0 || (stopped === null && processed === rows.length && rows.length < (limits.limit ?? Infinity)));
    return { loaded: rows.length, processed, failed, done: last, stopped, summary };
  } finally {
    clearInterval(beat);
    await Promise.all(inFlight);
    await persisted;
  }
}

/** How many of the next rows fit in the byte budget, in order. */
function affordable(rows: WorkRow[], from: number, bytes: number): number {
  if (bytes === Infinity) return rows.length - from;
  if (bytes <= 0) return 0;
  let n = 0;
  for (let sum = 0; from + n < rows.length && sum + rows[from + n].size <= bytes; n++) sum += rows[from + n].size;
  return n;
}

function failureRatioExceeded(failure: WaveLimits['failure'], processed: number, failed: number): boolean {
  if (!failure) return false;
  const total = failure.processedBefore + processed;
  return total >= failure.minSample && (failure.failedBefore + failed) / total > failure.threshold;
}
