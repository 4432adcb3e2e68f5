// A small pool of worker threads for synchronous file work, shared by tiering and
// remediation so both split batches the same way: a batch is cut into slices spread
// over the least-loaded threads, the results come back in item order, a dead thread is
// replaced (its pending calls rejected), and an idle pool never keeps the process alive.
import { join } from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';

/** For each operation name, the type of one item and of its result: `{ apply: [WorkItem, OpResult] }`. */
export type OperationSignatures<Signatures> = { [Name in keyof Signatures]: [unknown, unknown] };

/** What a pool's threads are: the entry module (a file next to this one, no extension) and a name for errors. */
export interface ThreadKind { entry: string; name: string }

interface Pending { resolve(results: unknown[]): void; reject(error: Error): void; size: number }
interface Thread { worker: Worker; load: number; pending: Map<number, Pending> }
interface Reply { id: number; results?: unknown[]; error?: string }
interface Request { id: number; op: string; items: never[] }

// From TypeScript sources (jest) the thread compiles its modules with @swc/core, which the tests already use.
const TYPESCRIPT_THREAD_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const swc = require(workerData.swcPath);
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  module._compile(code, filename);
};
require(workerData.entry);`;

/** Starts the thread whose entry module (next to this file, no extension) is entry, compiled or from TypeScript sources. */
export function spawnThread(entry: string): Worker {
  if (__filename.endsWith('.js')) return new Worker(join(__dirname, `${entry}.js`));
  return new Worker(TYPESCRIPT_THREAD_BOOTSTRAP, {
    eval: true, workerData: { entry: join(__dirname, `${entry}.ts`), swcPath: require.resolve('@swc/core') },
  });
}

export class ThreadPool<Signatures extends OperationSignatures<Signatures>> {
  private readonly threads: Thread[] = [];
  private nextId = 1;

  constructor(readonly size: number, private readonly kind: ThreadKind) {
    for (let i = 0; i < size; i++) this.threads.push(this.start());
  }

  /** Runs op over items on the threads in slices of at most maxSlice items; results are in item order. */
  async run<Name extends keyof Signatures & string>(
    op: Name, items: Signatures[Name][0][], maxSlice: number,
  ): Promise<Signatures[Name][1][]> {
    if (items.length === 0) return [];
    const slice = Math.max(1, Math.min(maxSlice, Math.ceil(items.length / this.size)));
    const parts: Promise<unknown[]>[] = [];
    for (let start = 0; start < items.length; start += slice) parts.push(this.send(op, items.slice(start, start + slice)));
    return (await Promise.all(parts)).flat() as Signatures[Name][1][];
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }

  private send(op: string, items: unknown[]): Promise<unknown[]> {
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
    const thread: Thread = { worker: spawnThread(this.kind.entry), load: 0, pending: new Map() };
    thread.worker.on('message', (reply: Reply) => this.settle(thread, reply));
    const fail = (error: Error) => this.replace(thread, error);
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => {
      if (thread.pending.size > 0) fail(new Error(`${this.kind.name} thread exited with code ${code}`));
    });
    // After the listeners: adding a 'message' listener refs the worker again.
    thread.worker.unref();
    return thread;
  }

  private settle(thread: Thread, reply: Reply): void {
    const pending = thread.pending.get(reply.id);
    if (!pending) return;
    thread.pending.delete(reply.id);
    thread.load -= pending.size;
    if (thread.pending.size === 0) thread.worker.unref();
    if (reply.error !== undefined) pending.reject(new Error(`${this.kind.name} thread failed: ${reply.error}`));
    else pending.resolve(reply.results ?? []);
  }

  /** A thread died: its pending calls fail and a fresh thread takes its place. */
  private replace(thread: Thread, error: Error): void {
    for (const pending of thread.pending.values()) pending.reject(error);
    thread.pending.clear();
    const index = this.threads.indexOf(thread);
    if (index >= 0) this.threads[index] = this.start();
  }
}

/** In a pool thread's entry module: answers each request by running the named step over its slice of items. */
export function serveOperations(steps: Record<string, (items: never[]) => unknown[]>): void {
  parentPort?.on('message', (request: Request) => {
    try {
      parentPort?.postMessage({ id: request.id, results: steps[request.op](request.items) });
    } catch (error) {
      parentPort?.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) });
    }
  });
}
