// bootstrapIndex: enumerate the host's shares, walk the volume in parallel partitions
// on the host (each a resumable activity that splits when its slice runs out), then
// compute directory and share stats and mark the scan OK. Continues as new when
// its history grows, carrying the pending partitions.
import {
  allHandlersFinished, CancellationScope, condition, continueAsNew, isCancellation, proxyActivities, setHandler, uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostActivities } from '../activities/host';
import type { WalkPartitionResult } from '../activities/index-partition';
import type { FinishIndexScanResult } from '../activities/index-db';
import { bulkCopy, dbWrite, hostFs } from '../temporal-config/activity-presets';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { DEFAULT_HOST_WAIT_SECONDS, rethrowIfNotConnected } from './host-wait';
import { markPhase } from './phase';
import {
  statusQuery, type BootstrapIndexInput, type BootstrapIndexResult, type BootstrapIndexStatus, type BootstrapResume, type WalkCounts,
} from './bootstrapIndex.messages';

const db = proxyActivities<Activities>(dbWrite);
const stats = proxyActivities<Activities>(bulkCopy);
const HISTORY_LIMIT = 4_000;

export async function bootstrapIndex(input: BootstrapIndexInput): Promise<BootstrapIndexResult> {
  const host = proxyActivities<HostActivities>({ ...hostFs, taskQueue: hostTaskQueue(input.hostId) });
  const hostWaitSeconds = input.hostWaitSeconds ?? DEFAULT_HOST_WAIT_SECONDS;
  const firstHostStep = proxyActivities<HostActivities>({ ...hostFs, taskQueue: hostTaskQueue(input.hostId), scheduleToStartTimeout: `${hostWaitSeconds} seconds` });
  const walker = proxyActivities<HostActivities>({
    ...hostFs, taskQueue: hostTaskQueue(input.hostId), heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 60} seconds`,
  });
  const status = initialStatus(input);
  setHandler(statusQuery, () => ({ ...status, ...rates(status, resume) }));
  const enterPhase = (phase: string) => markPhase(status, phase, { tenantCode: input.tenantCode, shareName: input.volume });

  let resume = input.resume;
  if (!resume) {
    enterPhase('shares');
    const startedAtMs = new Date().getTime();
    const scanGuid = uuid4();
    const { scanId } = await db.prepareIndexScan({
      tenantId: input.tenantId, scanGuid, hostId: input.hostId, volume: input.volume, startedAt: new Date(startedAtMs).toISOString(),
    });
    status.scanId = scanId;
    const prepared = await failScanOnError(input, scanId, status, async () => {
      const shares = await firstHostStep.enumerateIndexShares({
        tenantId: input.tenantId, hostId: input.hostId, volume: input.volume, sources: input.shareSources, principals: input.principals,
      }).catch(rethrowIfNotConnected(input.hostId, hostWaitSeconds));
      enterPhase('planning');
      const plan = await host.planIndexWalk({ tenantId: input.tenantId, scanId, hostId: input.hostId, volume: input.volume });
      return { shares, plan };
    });
    resume = {
      scanId, scanGuid, rootRef: prepared.plan.rootRef, estimatedEntries: prepared.plan.estimatedEntries, startedAtMs, pending: [prepared.plan.rootKey],
      done: { entries: 0, files: 0, dirs: 0, bytes: 0, issues: 0, partitions: 0 },
      shares: prepared.shares.shares.length, warnings: prepared.shares.warnings.slice(0, 50),
    };
  }
  Object.assign(status, { scanId: resume.scanId, scanGuid: resume.scanGuid, shares: resume.shares, warnings: resume.warnings });
  enterPhase('walking');
  const carried = resume;
  const finished = await failScanOnError(input, carried.scanId, status, async (): Promise<FinishIndexScanResult | null> => {
    const outcome = await walkAll(input, carried, status, (key) => walker.walkIndexPartition({
      tenantId: input.tenantId, scanId: carried.scanId, hostId: input.hostId, volume: input.volume, key,
      principals: input.principals, worldGroups: input.worldGroups, useGetxattrat: input.useGetxattrat, limits: limitsFor(input, key),
    }));
    if (outcome === 'continue') return null;
    markPhase(status, 'stats', { tenantCode: input.tenantCode, shareName: input.volume });
    return stats.finishIndexScan({
      tenantId: input.tenantId, scanId: carried.scanId, hostId: input.hostId, volume: input.volume, rootRef: carried.rootRef, actor: input.requestedBy,
    });
  });
  await condition(allHandlersFinished);
  if (!finished) return continueAsNew<typeof bootstrapIndex>({ ...input, resume: carried });
  if (input.watch) await db.startIndexWatcher({ tenantId: input.tenantId, tenantCode: input.tenantCode, hostId: input.hostId, volume: input.volume });
  enterPhase('done');
  const seconds = Math.max(0.001, (new Date().getTime() - carried.startedAtMs) / 1000);
  return {
    entries: finished.entries, files: finished.files, dirs: finished.dirs, bytes: finished.bytes, issues: finished.issues,
    partitions: carried.done.partitions, scanId: carried.scanId, scanGuid: carried.scanGuid, status: finished.status,
    worldFiles: finished.worldFiles, shares: finished.shares, seconds, filesPerSecond: Math.round(finished.entries / seconds),
  };
}

/** Runs a step; if it fails (or the run is cancelled) the scan is marked ERROR with the reason. */
async function failScanOnError<T>(input: BootstrapIndexInput, scanId: number, status: BootstrapIndexStatus, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    markPhase(status, 'failed', { tenantCode: input.tenantCode, shareName: input.volume });
    const reason = isCancellation(error) ? 'cancelled' : rootMessage(error as Error);
    await CancellationScope.nonCancellable(() => db.failIndexScan({ tenantId: input.tenantId, scanId, reason }));
    throw error;
  }
}

/** The innermost cause's message ("Activity task failed" says nothing by itself). */
function rootMessage(error: Error): string {
  let current: Error = error;
  while (current.cause instanceof Error) current = current.cause;
  return current.message;
}

/** Runs partitions `parallelism` at a time; children of a finished slice join the queue. */
async function walkAll(input: BootstrapIndexInput, resume: BootstrapResume, status: BootstrapIndexStatus,
  walk: (key: string) => Promise<WalkPartitionResult>): Promise<'done' | 'continue'> {
  const parallelism = Math.max(1, input.parallelism ?? 2);
  const running = new Set<string>();
  let failure: unknown = null;
  const refresh = () => Object.assign(status, resume.done, { partitions: { done: resume.done.partitions, running: running.size, pending: resume.pending.length } });
  refresh();
  while (resume.pending.length > 0 || running.size > 0) {
    const historyFull = workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LIMIT) || workflowInfo().continueAsNewSuggested;
    while (!historyFull && failure === null && running.size < parallelism && resume.pending.length > 0) {
      const key = resume.pending.shift()!;
      running.add(key);
      walk(key).then((result) => {
        addCounts(resume.done, result);
        resume.pending.push(...result.children);
      }, (error) => { failure ??= error; resume.pending.unshift(key); }).finally(() => { running.delete(key); refresh(); });
    }
    refresh();
    if (running.size === 0 && (historyFull || failure !== null)) break;
    const before = running.size;
    await condition(() => running.size < before);
  }
  if (failure !== null) throw failure;
  return resume.pending.length > 0 ? 'continue' : 'done';
}

function addCounts(total: WalkCounts, result: WalkPartitionResult): void {
  total.entries += result.entries;
  total.files += result.files;
  total.dirs += result.dirs;
  total.bytes += result.bytes;
  total.issues += result.issues;
  total.partitions += 1;
}

function limitsFor(input: BootstrapIndexInput, key: string) {
  const base = {
    batchRows: input.batchRows, sliceEntries: input.sliceEntries, sliceMs: input.sliceSeconds === undefined ? undefined : input.sliceSeconds * 1000,
    splitInto: Math.max(2, (input.parallelism ?? 2) * 2),
  };
  // The root partition lists the volume root only, then splits by top-level directory.
  return key === '0' ? { ...base, sliceDirs: 1, splitInto: input.initialPartitions ?? 64 } : base;
}

function initialStatus(input: BootstrapIndexInput): BootstrapIndexStatus {
  return {
    phase: 'starting', scanId: null, scanGuid: null, hostId: input.hostId, volume: input.volume, partitions: { done: 0, running: 0, pending: 0 },
    entries: 0, files: 0, dirs: 0, bytes: 0, issues: 0, filesPerSecond: 0, estimatedEntries: 0, etaSeconds: null, elapsedSeconds: 0,
    shares: 0, warnings: [],
  };
}

function rates(status: BootstrapIndexStatus, resume: BootstrapResume | undefined): Partial<BootstrapIndexStatus> {
  if (!resume) return {};
  const elapsedSeconds = Math.max(0.001, (new Date().getTime() - resume.startedAtMs) / 1000);
  const filesPerSecond = Math.round(status.entries / elapsedSeconds);
  const left = resume.estimatedEntries - status.entries;
  const etaSeconds = status.phase === 'walking' && filesPerSecond > 0 && left > 0 ? Math.round(left / filesPerSecond) : null;
  return { elapsedSeconds: Math.round(elapsedSeconds), filesPerSecond, estimatedEntries: resume.estimatedEntries, etaSeconds };
}
