// The owner's side of a walker thread: takes an idle thread (or starts one,
// compiled, or from TypeScript sources under jest), sends it a walk, hands out
// its messages in order, grants it credit to walk ahead, and when the walk ended
// cleanly keeps the thread for the next partition; otherwise ends it.
import { on } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { spawnThread } from './thread-pool';
import type { WalkThreadInput, WalkThreadJob, WalkThreadMessage } from './index-walk-thread';

export type { WalkThreadMessage };

/** Chunks the thread may post before the owner has loaded them. */
const MAX_IN_FLIGHT = 4;
/** Idle threads kept for later partitions (a partition walk runs on one). */
const MAX_IDLE_THREADS = 4;

const idle: Worker[] = [];

function startThread(): Worker {
  const worker = spawnThread('index-walk-thread');
  worker.once('exit', () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  return worker;
}

export class WalkerThread {
  private readonly worker: Worker;
  private readonly credit: Int32Array;
  private readonly messages: AsyncIterableIterator<[WalkThreadMessage]>;
  private readonly stopped = new AbortController();
  private readonly onExit: (code: number) => void;
  private finalHandedOut = false;

  constructor(input: Omit<WalkThreadInput, 'inFlight' | 'maxInFlight'>, signal: AbortSignal, private readonly label: string) {
    const inFlight = new SharedArrayBuffer(4);
    this.credit = new Int32Array(inFlight);
    this.worker = idle.pop() ?? startThread();
    this.worker.ref();
    this.onExit = (code) => this.stopped.abort(new Error(`walker thread of ${label} exited with code ${code} before finishing`));
    this.worker.once('exit', this.onExit);
    signal.addEventListener('abort', () => this.stopped.abort(signal.reason), { once: true });
    this.messages = on(this.worker, 'message', { signal: this.stopped.signal }) as AsyncIterableIterator<[WalkThreadMessage]>;
    const job: WalkThreadJob = { type: 'walk', input: { ...input, inFlight, maxInFlight: MAX_IN_FLIGHT } };
    this.worker.postMessage(job);
  }

  /** The next chunk; a failure in the thread becomes an error here. */
  async next(): Promise<Extract<WalkThreadMessage, { type: 'chunk' }>> {
    const next = await this.messages.next();
    if (next.done) throw new Error(`walker thread of ${this.label} stopped without a final batch`);
    const [message] = next.value;
    if (message.type === 'error') throw new Error(`walking ${this.label} failed: ${message.message}`);
    if (message.commit?.final) this.finalHandedOut = true;
    return message;
  }

  /** One chunk is loaded: the thread may walk one chunk further. */
  release(): void {
    Atomics.sub(this.credit, 0, 1);
    Atomics.notify(this.credit, 0);
  }

  /**
   * Keeps the thread for the next walk when this one ended with its final chunk
   * released (the thread then returns to waiting for jobs); otherwise it may still
   * be walking or waiting for credit, so it is ended.
   */
  async stop(): Promise<void> {
    const reusable = this.finalHandedOut && Atomics.load(this.credit, 0) === 0 && !this.stopped.signal.aborted && idle.length < MAX_IDLE_THREADS;
    this.worker.off('exit', this.onExit);
    this.stopped.abort(new Error(`walk of ${this.label} ended`));
    if (!reusable) {
      await this.worker.terminate();
      return;
    }
    this.worker.unref();
    idle.push(this.worker);
  }
}
