// A small pool of worker threads for tiering's synchronous file work: batches are
// split across threads (both cores busy, no per-syscall event-loop hop) and the
// results come back in item order. One pool per host worker process.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BarrierRequest, FsTier2Ops } from '../lib/tier2-fs';
import type { OpInput, OpOutput, TieringOpName } from './tiering-ops';

interface Pending { resolve(results: unknown[]): void; reject(error: Error): void; size: number }
interface Thread { worker: Worker; load: number; pending: Map<number, Pending> }

const MAX_SLICE = 64;

// From TypeScript sources (jest) the thread compiles its modules with @swc/core, which the tests already use.
const TS_THREAD_BOOTSTRAP = `
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
  if (__filename.endsWith('.js')) return new Worker(join(__dirname, 'tiering-thread.js'));
  return new Worker(TS_THREAD_BOOTSTRAP, {
    eval: true, workerData: { entry: join(__dirname, 'tiering-thread.ts'), swcPath: require.resolve('@swc/core') },
  });
}

export class TieringPool {
  private readonly threads: Thread[] = [];
  private nextId = 1;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.threads.push(this.start());
  }

  /** Runs op over items on the threads, in slices; results are in item order. */
  async run<K extends TieringOpName>(op: K, items: OpInput<K>[], options: { slice?: number } = {}): Promise<OpOutput<K>[]> {
    if (items.length === 0) return [];
    const slice = Math.max(1, Math.min(options.slice ?? MAX_SLICE, Math.ceil(items.length / this.size)));
    const parts: Promise<unknown[]>[] = [];
    for (let start = 0; start < items.length; start += slice) parts.push(this.send(op, items.slice(start, start + slice)));
    return (await Promise.all(parts)).flat() as OpOutput<K>[];
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private send(op: TieringOpName, items: unknown[]): Promise<unknown[]> {
    const thread = this.threads.reduce((best, candidate) => (candidate.load < best.load ? candidate : best));
    const id = this.nextId++;
    thread.load += items.length;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject, size: items.length });
      // An idle pool must not keep the process alive; a busy one must.
      if (thread.pending.size === 1) thread.worker.ref();
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
      if (thread.pending.size === 0) thread.worker.unref();
      if (message.error !== undefined) pending.reject(new Error(`tiering thread failed: ${message.error}`));
      else pending.resolve(message.results ?? []);
    });
    const fail = (error: Error) => {
      for (const pending of thread.pending.values()) pending.reject(error);
      thread.pending.clear();
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads[index] = this.start();
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => { if (thread.pending.size > 0) fail(new Error(`tiering thread exited with code ${code}`)); });
    thread.worker.unref();
    return thread;
  }
}

let shared: TieringPool | undefined;

/** The process's pool: STRATA_TIER_THREADS threads, by default twice the cores (the work waits on disks). */
export function tieringPool(env: NodeJS.ProcessEnv = process.env): TieringPool {
  return (shared ??= new TieringPool(Number(env.STRATA_TIER_THREADS ?? Math.max(2, availableParallelism() * 2))));
}

/** The filesystem target's executor on this pool; fsync barriers are split across threads. */
export function poolFsOps(pool: TieringPool): FsTier2Ops {
  return {
    stage: (items) => pool.run('stageCopies', items),
    rename: (pairs) => pool.run('renameAll', pairs),
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
