// The host worker's threads for remediation file work: a batch is cut into slices
// spread over the threads, results come back in item order. One pool per process.
import { availableParallelism } from 'node:os';
import type { OpResult, SnapshotItem, SnapshotResult, WorkItem } from './remediation-fs';
import { ThreadPool } from './thread-pool';

export interface RemediationOps { snapshot: [SnapshotItem, SnapshotResult]; apply: [WorkItem, OpResult]; verify: [WorkItem, OpResult]; rollback: [WorkItem, OpResult] }
type OpName = keyof RemediationOps;

export class RemediationPool {
  private readonly threads: ThreadPool<RemediationOps>;

  constructor(readonly size: number) {
    this.threads = new ThreadPool(size, { entry: 'remediation-thread', name: 'remediation' });
  }

  run<K extends OpName>(op: K, items: RemediationOps[K][0][], slice = 256): Promise<RemediationOps[K][1][]> {
    return this.threads.run(op, items, slice);
  }
}

let shared: RemediationPool | undefined;

/** STRATA_REMEDIATION_THREADS threads (default: the cores; the work is syscalls, not waiting on disks). */
export function remediationPool(env: NodeJS.ProcessEnv = process.env): RemediationPool {
  return (shared ??= new RemediationPool(Math.max(1, Number(env.STRATA_REMEDIATION_THREADS ?? availableParallelism()))));
}
