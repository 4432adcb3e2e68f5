// A sliding window of host batches over item-number ranges: at most `parallelism`
// batches in flight, dispatched in item (inode) order. It stops dispatching when the
// history grows past the limit or a stop is asked for, lets running batches finish,
// and returns, so everything before the cursor is done and the cursor can be carried.
import { workflowInfo, condition } from '@temporalio/workflow';
import type { BatchCounts } from '../activities/remediation-host';
import type { RemediationStatus } from './remediation.messages';

const HISTORY_LIMIT = 4_000;

export type WindowEnd = 'done' | 'history' | 'stopped';

export interface WindowOptions {
  totalItems: number;
  batchSize: number;
  parallelism: number;
  cursor: { value: number };
  run(from: number, to: number): Promise<BatchCounts>;
  onResult(counts: BatchCounts): void;
  /** Checked before each dispatch: true stops the window (pause, cancel). */
  shouldStop(): boolean;
}

export function batchCount(totalItems: number, batchSize: number): number {
  return Math.ceil(totalItems / batchSize);
}

export async function runWindow(options: WindowOptions): Promise<WindowEnd> {
  const total = batchCount(options.totalItems, options.batchSize);
  let running = 0;
  let failure: unknown = null;
  let end: WindowEnd = 'done';
  for (;;) {
    const historyFull = workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested;
    const stop = options.shouldStop();
    if (failure === null && (historyFull || stop) && options.cursor.value < total) end = historyFull ? 'history' : 'stopped';
    while (failure === null && end === 'done' && running < options.parallelism && options.cursor.value < total) {
      const index = options.cursor.value;
      options.cursor.value += 1;
      running += 1;
      const from = index * options.batchSize + 1;
      const to = Math.min(options.totalItems, (index + 1) * options.batchSize);
      options.run(from, to).then(options.onResult, (error) => { failure ??= error; }).finally(() => { running -= 1; });
    }
    if (running === 0) break;
    const before = running;
    await condition(() => running < before || (end === 'done' && options.shouldStop()));
  }
  if (failure !== null) throw failure;
  return end;
}

/** One phase's window over the run's items from the carried cursor; progress goes to the status. */
export async function phaseWindow(state: RemediationStatus, settings: { batchSize: number; parallelism: number },
  run: (from: number, to: number) => Promise<BatchCounts>, stoppable: boolean): Promise<WindowEnd> {
  const cursor = { value: state.cursor };
  state.batches = { done: cursor.value, total: batchCount(state.selected, settings.batchSize) };
  state.live = {};
  const end = await runWindow({
    totalItems: state.selected, batchSize: settings.batchSize, parallelism: settings.parallelism, cursor, run,
    shouldStop: () => stoppable && (state.paused || state.cancel !== null),
    onResult: (counts) => {
      state.batches.done += 1;
      for (const [key, n] of Object.entries(counts.results)) state.live[key] = (state.live[key] ?? 0) + n;
    },
  });
  state.cursor = cursor.value;
  return end;
}

/** Apply and verify: a pause holds the window between batches until resumed; a cancel ends it (the caller rolls back). */
export async function controlledWindow(state: RemediationStatus, settings: { batchSize: number; parallelism: number },
  run: (from: number, to: number) => Promise<BatchCounts>, label: (activity: string) => void): Promise<WindowEnd> {
  for (;;) {
    const end = await phaseWindow(state, settings, run, true);
    if (end !== 'stopped' || state.cancel) return end;
    label('paused');
    await condition(() => !state.paused || state.cancel !== null);
    label(state.phase);
  }
}
