// Remediation on the host that owns the files: the filesystem snapshot, then per
// item-number range the ACL snapshot, apply (with read-back verification), rollback and
// drift steps. Each batch reads what is still to do, works in slices on the thread pool
// while the previous slice is recorded (in order, so a retry resumes after the last
// recorded one), heartbeats, and stops when cancelled.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import * as items from '../db/queries/remediation-items';
import { recordDrift } from '../db/queries/remediation-drift';
import { takeFsSnapshot, type FsSnapshotResult } from '../lib/fs-snapshot';
import { InvalidInputError, NotFoundError } from './errors';
import type { HostDeps } from './host';
import type { OpResult, WorkItem } from './remediation-fs';
import { remediationPool } from './remediation-pool';

export interface RemediationBatchInput { tenantId: string; runId: string; from: number; to: number; maxFilesPerSecond?: number }
/** `indexed`: items whose index rows the batch's own slices moved (absent from workers that did not). */
export interface BatchCounts { items: number; results: Record<string, number>; indexed?: number }

const SLICE = 1_000;

function tally(results: { result?: string; state?: string }[], into: Record<string, number>): void {
  for (const r of results) {
    const key = r.result ?? r.state ?? 'unknown';
    into[key] = (into[key] ?? 0) + 1;
  }
}

export function createRemediationHostActivities(deps: HostDeps) {
  const asRemediator = <T>(tenantId: string, work: (client: PoolClient) => Promise<T>) => withTenant(deps.pool, { tenantId, role: 'strata_remediator' }, work);
  /**
   * A slice's results, committed durably: the activity reports its batch done once they
   * are saved, and the workflow moves past them (a commit that did not wait for the WAL
   * flush was lost with a Postgres crash, leaving applied files recorded as pending).
   */
  const record = (tenantId: string, work: (client: PoolClient) => Promise<void>) => asRemediator(tenantId, work);

  async function volumeOf(input: { tenantId: string; runId: string }): Promise<string> {
    const run = await asRemediator(input.tenantId, async (client) => (await client.query('SELECT host_id, volume FROM remediation_run WHERE id = $1', [input.runId])).rows[0]);
    if (!run) throw new NotFoundError(`remediation ${input.runId} not found`);
    if (run.host_id !== deps.hostId) throw new InvalidInputError(`remediation ${input.runId} is for host ${run.host_id}, not ${deps.hostId}`);
    return run.volume;
  }

  /**
   * Runs a phase over its pending rows slice by slice: while one slice's results are saved,
   * the threads work on the next; a slice is saved only after the previous one was.
   */
  async function sliced(input: RemediationBatchInput, rows: items.WorkRow[], op: 'apply' | 'rollback' | 'drift',
    save: (results: OpResult[], slice: items.WorkRow[]) => Promise<void>, movesIndex?: (result: OpResult) => boolean): Promise<BatchCounts> {
    const context = Context.current();
    const mountPath = await volumeOf(input);
    const counts: Record<string, number> = {};
    const timings = startTimings();
    let done = 0;
    let indexed = 0;
    let saving: Promise<void> = Promise.resolve();
    const beat = setInterval(() => context.heartbeat({ done }), 1_000);
    try {
      // Paced runs work in quarter-second slices so the pace is even and a stop lands soon.
      const size = input.maxFilesPerSecond ? Math.max(1, Math.min(SLICE, Math.ceil(input.maxFilesPerSecond / 4))) : SLICE;
      for (let start = 0; start < rows.length; start += size) {
        if (context.cancellationSignal.aborted) break;
        const began = Date.now();
        const slice = rows.slice(start, start + size);
        const work: WorkItem[] = slice.map((row) => ({ ...row, mountPath }));
        const results = await timed(timings, 'workMs', () => remediationPool().run(op === 'drift' ? 'verify' : op, work));
        await saving;
        saving = background(async () => {
          await timed(timings, 'saveMs', () => save(results, slice));
          tally(results, counts);
          if (movesIndex) indexed += results.filter(movesIndex).length;
          done += slice.length;
          context.heartbeat({ done });
        });
        if (input.maxFilesPerSecond) {
          await saving;
          await pace(slice.length, input.maxFilesPerSecond, began, context.cancellationSignal);
        }
      }
      await saving;
      if (context.cancellationSignal.aborted) throw new Error(`remediation ${op} batch ${input.from}-${input.to} cancelled after ${done} items`);
      logBatch(op, input, done, timings);
      return { items: done, results: counts, ...(movesIndex ? { indexed } : {}) };
    } finally {
      clearInterval(beat);
    }
  }

  const load = (input: RemediationBatchInput, phase: items.WorkPhase) =>
    asRemediator(input.tenantId, (client) => items.phaseWork(client, phase, { runId: input.runId, from: input.from, to: input.to }));

  return {
    /** Takes a btrfs, LVM or ZFS snapshot of the volume where it can, else says why none was taken. */
    async remediationFsSnapshot(input: { tenantId: string; runId: string; take: boolean }): Promise<FsSnapshotResult> {
      const volume = await volumeOf(input);
      return takeFsSnapshot(volume, `strata-remediation-${input.runId}`, { dryRun: !input.take });
    },

    async remediationSnapshotBatch(input: RemediationBatchInput): Promise<BatchCounts> {
      const context = Context.current();
      await volumeOf(input);
      const work = await asRemediator(input.tenantId, (client) => items.snapshotWork(client, input));
      const counts: Record<string, number> = {};
      const timings = startTimings();
      let saving: Promise<void> = Promise.resolve();
      for (let start = 0; start < work.length; start += SLICE) {
        const slice = work.slice(start, start + SLICE);
        const results = await timed(timings, 'workMs', () => remediationPool().run('snapshot', slice));
        await saving;
        saving = background(async () => {
          await timed(timings, 'saveMs', () => record(input.tenantId, (client) => items.saveSnapshots(client, input.tenantId, input.runId, results)));
          tally(results, counts);
          context.heartbeat({ done: start + slice.length });
        });
      }
      await saving;
      logBatch('snapshot', input, work.length, timings);
      return { items: work.length, results: counts };
    },

    /** Applies the targets and verifies each file by reading it back on the same descriptor. */
    async remediationApplyBatch(input: RemediationBatchInput): Promise<BatchCounts> {
      return sliced(input, await load(input, 'apply'), 'apply',
        (results) => record(input.tenantId, (client) => items.saveApplyResults(client, input.runId, results)), (r) => r.verified === true);
    },

    async remediationRollbackBatch(input: RemediationBatchInput): Promise<BatchCounts> {
      return sliced(input, await load(input, 'rollback'), 'rollback', (results, slice) => {
        const modes = new Map(slice.map((row) => [row.itemNo, row.snapshot.mode]));
        return record(input.tenantId, (client) => items.saveRollbackResults(client, input.runId, results, (itemNo) => modes.get(itemNo)!));
      },
        (r) => r.result === 'restored' || r.result === 'unchanged');
    },

    /** Re-reads verified files of a completed run; records drift from the target (and its end). */
    async remediationDriftBatch(input: RemediationBatchInput & { checkId: string }): Promise<BatchCounts> {
      return sliced(input, await load(input, 'drift'), 'drift', (results, slice) =>
        asRemediator(input.tenantId, (client) => recordDrift(client, input.tenantId, input.runId, input.checkId, results, slice)));
    },
  };
}

interface BatchTimings { startedMs: number; workMs: number; saveMs: number }

const startTimings = (): BatchTimings => ({ startedMs: performance.now(), workMs: 0, saveMs: 0 });

async function timed<T>(timings: BatchTimings, key: 'workMs' | 'saveMs', work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try { return await work(); } finally { timings[key] += performance.now() - started; }
}

/** Where a batch's time went: file work on the threads, and saving results (overlapped with the next slice's work). */
function logBatch(op: string, input: RemediationBatchInput, items: number, timings: BatchTimings): void {
  Context.current().log.info(`remediation ${op} batch`, {
    from: input.from, to: input.to, items, elapsedMs: Math.round(performance.now() - timings.startedMs),
    workMs: Math.round(timings.workMs), saveMs: Math.round(timings.saveMs),
  });
}

/** Starts a save that is awaited later; its failure surfaces there (never as an unhandled rejection). */
function background(work: () => Promise<void>): Promise<void> {
  const running = work();
  running.catch(() => undefined);
  return running;
}

async function pace(count: number, perSecond: number, began: number, signal: AbortSignal): Promise<void> {
  const wait = (count / perSecond) * 1000 - (Date.now() - began);
  if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
}
