// The owner's side of a walker thread: starts it (compiled, or from TypeScript
// sources under jest), hands out its messages in order, grants it credit to walk
// ahead, and stops it.
import { on } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WalkThreadInput, WalkThreadMessage } from './index-walk-thread';

export type { WalkThreadMessage };

/** Chunks the thread may post before the owner has loaded them. */
const MAX_IN_FLIGHT = 4;

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

export class WalkerThread {
  private readonly worker: Worker;
  private readonly credit: Int32Array;
  private readonly messages: AsyncIterableIterator<[WalkThreadMessage]>;
  private readonly stopped = new AbortController();

  constructor(input: Omit<WalkThreadInput, 'inFlight' | 'maxInFlight'>, signal: AbortSignal, private readonly label: string) {
    const inFlight = new SharedArrayBuffer(4);
    this.credit = new Int32Array(inFlight);
    const data: WalkThreadInput = { ...input, inFlight, maxInFlight: MAX_IN_FLIGHT };
    this.worker = __filename.endsWith('.js')
      ? new Worker(join(__dirname, 'index-walk-thread.js'), { workerData: data })
      : new Worker(TS_THREAD_BOOTSTRAP, { eval: true, workerData: { ...data, entry: join(__dirname, 'index-walk-thread.ts'), swcPath: require.resolve('@swc/core') } });
    this.worker.once('exit', (code) => this.stopped.abort(new Error(`walker thread of ${label} exited with code ${code} before finishing`)));
    signal.addEventListener('abort', () => this.stopped.abort(signal.reason));
    this.messages = on(this.worker, 'message', { signal: this.stopped.signal }) as AsyncIterableIterator<[WalkThreadMessage]>;
  }

  /** The next chunk; a failure in the thread becomes an error here. */
  async next(): Promise<Extract<WalkThreadMessage, { type: 'chunk' }>> {
    const next = await this.messages.next();
    if (next.done) throw new Error(`walker thread of ${this.label} stopped without a final batch`);
    const [message] = next.value;
    if (message.type === 'error') throw new Error(`walking ${this.label} failed: ${message.message}`);
    return message;
  }

  /** One chunk is loaded: the thread may walk one chunk further. */
  release(): void {
    Atomics.sub(this.credit, 0, 1);
    Atomics.notify(this.credit, 0);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
