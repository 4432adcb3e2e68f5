// The host worker's threads for remediation file work: a batch is cut into slices
// spread over the threads, results come back in item order. One pool per process.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OpResult, SnapshotItem, SnapshotResult, WorkItem } from './remediation-fs';

export interface RemediationOps { snapshot: [SnapshotItem, SnapshotResult]; apply: [WorkItem, OpResult]; verify: [WorkItem, OpResult]; rollback: [WorkItem, OpResult] }
type OpName = keyof RemediationOps;
interface Pending { resolve(results: unknown[]): void; reject(error: Error): void }
interface Thread { worker: Worker; load: number; pending: Map<number, Pending & { size: number }> }

// Under jest the thread compiles its TypeScript modules with @swc/core, as the tests do.
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const swc = require(workerData.swcPath);
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  module._compile(code, filename);
};
require(workerData.entry);`;

function spawnThread(): Worker {
  if (__filename.endsWith('.js')) return new Worker(join(__dirname, 'remediation-thread.js'));
  return new Worker(TS_BOOTSTRAP, { eval: true, workerData: { entry: join(__dirname, 'remediation-thread.ts'), swcPath: require.resolve('@swc/core') } });
}

export class RemediationPool {
  private readonly threads: Thread[] = [];
  private nextId = 1;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i += 1) this.threads.push(this.start());
  }

  async run<K extends OpName>(op: K, items: RemediationOps[K][0][], slice = 256): Promise<RemediationOps[K][1][]> {
    const parts: Promise<unknown[]>[] = [];
    const size = Math.max(1, Math.min(slice, Math.ceil(items.length / this.size)));
    for (let start = 0; start < items.length; start += size) parts.push(this.send(op, items.slice(start, start + size)));
    return (await Promise.all(parts)).flat() as RemediationOps[K][1][];
  }

  private send(op: OpName, items: unknown[]): Promise<unknown[]> {
    const thread = this.threads.reduce((best, candidate) => (candidate.load < best.load ? candidate : best));
    const id = this.nextId++;
    thread.load += items.length;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject, size: items.length });
      thread.worker.postMessage({ id, op, items });
    });
  }

  private start(): Thread {
    const thread: Thread = { worker: spawnThread(), load: 0, pending: new Map() };
    thread.worker.on('message', (message: { id: number; results?: unknown[]; error?: string }) => {
      const pending = thread.pending.get(message.id);
      if (!pending) return;
      thread.pending.delete(message.id);
      thread.load -= pending.size;
      if (message.error !== undefined) pending.reject(new Error(`remediation thread failed: ${message.error}`));
      else pending.resolve(message.results ?? []);
    });
    const fail = (error: Error) => {
      for (const pending of thread.pending.values()) pending.reject(error);
      thread.pending.clear();
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads[index] = this.start();
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => { if (thread.pending.size > 0) fail(new Error(`remediation thread exited with code ${code}`)); });
    // After the listeners: adding a 'message' listener refs the worker again, which would keep the process alive.
    thread.worker.unref();
    return thread;
  }
}

let shared: RemediationPool | undefined;

/** STRATA_REMEDIATION_THREADS threads (default: the cores; the work is syscalls, not waiting on disks). */
export function remediationPool(env: NodeJS.ProcessEnv = process.env): RemediationPool {
  return (shared ??= new RemediationPool(Math.max(1, Number(env.STRATA_REMEDIATION_THREADS ?? availableParallelism()))));
}
