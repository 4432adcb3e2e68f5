// A small pool of worker threads for tiering's synchronous file work: batches are
// split across threads (both cores busy, no per-syscall event-loop hop) and the
// results come back in item order. One pool per host worker process.
import { availableParallelism } from 'node:os';
import type { BarrierRequest, FsTier2Ops } from '../lib/tier2-fs';
import { ThreadPool } from './thread-pool';
import type { OpInput, OpOutput, TieringOpName } from './tiering-ops';

type TieringSignatures = { [Name in TieringOpName]: [OpInput<Name>, OpOutput<Name>] };

const MAX_SLICE = 64;
/** Stubbing waits on the device's block frees: small slices keep many in flight. */
const EMPTYING_SLICE = 8;

export class TieringPool {
  private readonly threads: ThreadPool<TieringSignatures>;
  /** Threads that only turn sources into stubs (stubInPlace), so the device sees many block frees at once. */
  private readonly emptiers: ThreadPool<TieringSignatures> | null;

  constructor(readonly size: number, readonly emptyingThreads = size) {
    this.threads = new ThreadPool(size, { entry: 'tiering-thread', name: 'tiering' });
    this.emptiers = emptyingThreads > 0 ? new ThreadPool(emptyingThreads, { entry: 'tiering-thread', name: 'tiering emptying' }) : null;
  }

  /** Runs op over items on the threads, in slices; results are in item order. */
  run<K extends TieringOpName>(op: K, items: OpInput<K>[], options: { slice?: number } = {}): Promise<OpOutput<K>[]> {
    if (op === 'stubInPlace' && this.emptiers) return this.emptiers.run(op, items, options.slice ?? EMPTYING_SLICE);
    return this.threads.run(op, items, options.slice ?? MAX_SLICE);
  }

  async close(): Promise<void> {
    await Promise.all([this.threads.close(), this.emptiers?.close()]);
  }
}

let shared: TieringPool | undefined;

/**
 * The process's pool: STRATA_TIER_THREADS threads, by default twice the cores (the work
 * waits on disks), and STRATA_TIER_EMPTYING_THREADS (default 12; 0: the same threads) that turn sources into stubs.
 */
export function tieringPool(env: NodeJS.ProcessEnv = process.env): TieringPool {
  return (shared ??= new TieringPool(
    Number(env.STRATA_TIER_THREADS ?? Math.max(2, availableParallelism() * 2)), Number(env.STRATA_TIER_EMPTYING_THREADS ?? 12)));
}

/** The filesystem target's executor on this pool; fsync barriers are split across threads. */
export function poolFsOps(pool: TieringPool): FsTier2Ops {
  return {
    stage: (items) => pool.run('stageCopies', items),
    hash: (paths) => pool.run('hashPaths', paths),
    fetch: (items) => pool.run('fetchCopies', items),
    barrier: async (request) => { await pool.run('barrier', splitBarrier(request, pool.size)); },
  };
}

function splitBarrier(request: BarrierRequest, parts: number): BarrierRequest[] {
  if (request.mode === 'syncfs') return [request];
  const paths = [...request.files, ...request.dirs];
  const per = Math.max(1, Math.ceil(paths.length / parts));
  const out: BarrierRequest[] = [];
  for (let i = 0; i < paths.length; i += per) out.push({ mode: 'fsync', anchors: [], files: paths.slice(i, i + per), dirs: [] });
  return out;
}
