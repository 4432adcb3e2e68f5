// The walk of one partition on the host: a worker thread walks through FFI while
// this thread loads its chunks, one transaction per batch that also advances the
// checkpoint; a retry resumes from the last committed checkpoint, and a finished
// partition answers from its row.
import { Context } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { findPartition, type PartitionRow } from '../db/queries/index';
import { advanceCheckpoint, beginBatch, insertDescriptors, loadChunk } from '../db/queries/index-load';
import { activeShareRoots } from '../db/queries/shares';
import { NotFoundError } from './errors';
import * as ffi from './ffi';
import type { PrincipalPaths } from './acl-principals';
import type { WalkLimits, WorkItem } from './index-walker';
import { WalkerThread, type WalkThreadMessage } from './index-walk-spawn';

export const DEFAULT_LIMITS: WalkLimits = {
  batchRows: 100_000, chunkRows: 10_000, sliceEntries: 2_000_000, sliceMs: 60_000, sliceDirs: Number.MAX_SAFE_INTEGER, splitInto: 4,
};

export interface WalkPartitionInput {
  tenantId: string; scanId: number; hostId: string; volume: string; key: string;
  limits?: Partial<WalkLimits>; principals?: PrincipalPaths; worldGroups?: string[]; useGetxattrat?: boolean;
}

export interface WalkPartitionResult {
  key: string; entries: number; files: number; dirs: number; bytes: number; issues: number; children: string[]; resumedAtBatch: number;
}

/** How a walk reports progress and learns it should stop (the activity context, or a caller's own). */
export interface WalkControl { heartbeat(details: unknown): void; signal: AbortSignal }

export function activityControl(): WalkControl {
  const context = Context.current();
  return { heartbeat: (details) => context.heartbeat(details), signal: context.cancellationSignal };
}

type Counts = { entries: number; files: number; dirs: number; bytes: number; issues: number };
type AsIndexer = <T>(work: (client: PoolClient) => Promise<T>) => Promise<T>;

export async function walkPartition(pool: Pool, input: WalkPartitionInput, control: WalkControl = activityControl()): Promise<WalkPartitionResult> {
  const asIndexer: AsIndexer = (work) => withTenant(pool, { tenantId: input.tenantId, role: 'strata_indexer' }, work);
  const row = await asIndexer((client) => findPartition(client, input.scanId, input.key));
  if (!row) throw new NotFoundError(`walk partition ${input.key} of scan ${input.scanId} does not exist`);
  if (row.status === 'DONE') return resultOf(row, row.children, row.batches);
  const root = ffi.lstatx(input.volume);
  const shareRoots = await asIndexer((client) => activeShareRoots(client, input.hostId));
  const thread = new WalkerThread({
    hostId: input.hostId, todo: row.work as WorkItem[], volumeDev: { major: root.devMajor, minor: root.devMinor },
    shareRoots: shareRoots.map((share) => [Buffer.from(share.localPath, 'utf8').toString('latin1'), share.id]),
    principals: input.principals ?? {}, worldGroups: input.worldGroups ?? ['users'], limits: { ...DEFAULT_LIMITS, ...input.limits },
    useGetxattrat: input.useGetxattrat ?? ffi.ffiOptions.useGetxattrat,
  }, control.signal, `partition ${input.key}`);
  const totals: Counts = { entries: row.entries, files: row.files, dirs: row.dirs, bytes: row.bytes, issues: row.issues };
  let batches = row.batches;
  const beat = setInterval(() => control.heartbeat({ key: input.key, batches, entries: totals.entries }), 5_000);
  try {
    for (;;) {
      const children = await asIndexer((client) => loadBatch(client, asIndexer, input, thread, batches, totals));
      batches += 1;
      thread.release();
      control.heartbeat({ key: input.key, batches, entries: totals.entries });
      if (children) return resultOf({ key: input.key, ...totals }, children, row.batches);
    }
  } finally {
    clearInterval(beat);
    await thread.stop();
  }
}

/**
 * One batch in one transaction: its chunks load while the thread walks on, then the
 * checkpoint commits with them. Returns the child keys when the partition's slice ended.
 */
async function loadBatch(client: PoolClient, asIndexer: AsIndexer, input: WalkPartitionInput, thread: WalkerThread,
  batches: number, totals: Counts): Promise<string[] | null> {
  await beginBatch(client, input.scanId, input.key, batches);
  const counts: Counts = { entries: 0, files: 0, dirs: 0, bytes: 0, issues: 0 };
  for (;;) {
    const message: Extract<WalkThreadMessage, { type: 'chunk' }> = await thread.next();
    // Descriptors commit on their own: parallel partitions meet the same ones, and a long batch holding them would deadlock.
    if (message.descriptors.length > 0) await asIndexer((own) => insertDescriptors(own, input.tenantId, message.descriptors));
    await loadChunk(client, { tenantId: input.tenantId, scanId: input.scanId, chunk: message.chunk, issues: message.issues });
    counts.entries += message.chunk.rows;
    counts.files += message.chunk.fileCount;
    counts.dirs += message.chunk.dirCount;
    counts.bytes += message.chunk.bytes;
    counts.issues += message.issues.length;
    if (!message.commit) {
      thread.release();
      continue;
    }
    const children = message.commit.final ? message.commit.children.map((work, index) => ({ key: `${input.key}.${index}`, work })) : undefined;
    await advanceCheckpoint(client, {
      tenantId: input.tenantId, scanId: input.scanId, key: input.key, work: message.commit.state, rows: counts.entries, files: counts.files,
      dirs: counts.dirs, bytes: counts.bytes, issues: counts.issues, children,
    });
    for (const key of Object.keys(counts) as (keyof Counts)[]) totals[key] += counts[key];
    return children ? children.map((child) => child.key) : null;
  }
}

function resultOf(counts: Pick<PartitionRow, 'key' | 'entries' | 'files' | 'dirs' | 'bytes' | 'issues'>, children: string[], resumedAtBatch: number): WalkPartitionResult {
  return {
    key: counts.key, entries: Number(counts.entries), files: Number(counts.files), dirs: Number(counts.dirs), bytes: Number(counts.bytes),
    issues: Number(counts.issues), children, resumedAtBatch,
  };
}
