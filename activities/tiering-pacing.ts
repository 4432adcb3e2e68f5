// Pacing for tiering runs: token buckets for files/s and bytes/s with a one-second
// burst. A file larger than the byte bucket may start when the bucket is positive;
// the debt then delays the files after it.
export interface Pacing { filesPerSecond?: number | null; bytesPerSecond?: number | null }

export interface Clock { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> }

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const wake = () => { clearTimeout(timer); signal?.removeEventListener('abort', wake); resolve(); };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
  }),
};

class Bucket {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly capacity: number, now: number) {
    this.tokens = capacity;
    this.last = now;
  }

  refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  available(): number { return this.tokens; }
  take(amount: number): void { this.tokens -= amount; }
  /** Milliseconds until the bucket holds at least `needed` tokens. */
  waitFor(needed: number): number { return Math.max(1, ((needed - this.tokens) / this.rate) * 1000); }
}

export class Pacer {
  private readonly files: Bucket | null;
  private readonly bytes: Bucket | null;

  constructor(pacing: Pacing = {}, private readonly clock: Clock = realClock) {
    const now = clock.now();
    this.files = pacing.filesPerSecond ? new Bucket(pacing.filesPerSecond, Math.max(1, pacing.filesPerSecond), now) : null;
    this.bytes = pacing.bytesPerSecond ? new Bucket(pacing.bytesPerSecond, pacing.bytesPerSecond, now) : null;
  }

  get limited(): boolean { return this.files !== null || this.bytes !== null; }

  /** How many of the next files (by size) may start now, at most max; waits until at least one may (0 only if aborted). */
  async admit(sizes: readonly number[], max: number, signal?: AbortSignal): Promise<number> {
    const limit = Math.min(max, sizes.length);
    if (limit === 0) return 0;
    if (!this.limited) return limit;
    for (;;) {
      const now = this.clock.now();
      this.files?.refill(now);
      this.bytes?.refill(now);
      let n = 0;
      while (n < limit && (!this.files || this.files.available() >= 1) && (!this.bytes || this.bytes.available() > 0)) {
        this.files?.take(1);
        this.bytes?.take(sizes[n]);
        n++;
      }
      if (n > 0 || signal?.aborted) return n;
      const wait = Math.max(this.files ? this.files.waitFor(1) : 0, this.bytes ? this.bytes.waitFor(Number.EPSILON) : 0);
      await this.clock.sleep(wait, signal);
    }
  }
}
