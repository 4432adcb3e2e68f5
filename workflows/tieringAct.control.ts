// Pause, resume and cancel for tiering runs (act and rehydrate): signals set flags,
// interrupt the running host batch (it stops cleanly between waves), and queue the
// events the run records on its action.
import { CancellationScope, condition, isCancellation, setHandler } from '@temporalio/workflow';
import { cancelSignal, pauseSignal, resumeSignal, type ControlInput, type RunCarry, type TieringRunStatus } from './tieringAct.messages';

export interface ControlEvent { event: 'paused' | 'resumed' | 'cancel-requested'; by?: string; reason?: string }

export class RunControl {
  cancel: ControlInput | null;
  private scope: CancellationScope | null = null;
  private readonly queued: ControlEvent[] = [];

  constructor(private readonly status: TieringRunStatus, carry?: RunCarry) {
    status.paused = carry?.paused ?? false;
    this.cancel = carry?.cancel ?? null;
    status.cancelRequested = this.cancel !== null;
  }

  get paused(): boolean { return this.status.paused; }

  install(): void {
    setHandler(pauseSignal, (input) => {
      if (this.status.paused || this.cancel) return;
      this.status.paused = true;
      this.queued.push({ event: 'paused', ...input });
      this.scope?.cancel();
    });
    setHandler(resumeSignal, (input) => {
      if (!this.status.paused) return;
      this.status.paused = false;
      this.queued.push({ event: 'resumed', ...input });
    });
    setHandler(cancelSignal, (input) => {
      if (this.cancel) return;
      this.cancel = input ?? {};
      this.status.cancelRequested = true;
      this.queued.push({ event: 'cancel-requested', ...input });
      this.scope?.cancel();
    });
  }

  /** Events since the last call, for the action's event log. */
  drain(): ControlEvent[] {
    return this.queued.splice(0, this.queued.length);
  }

  async waitWhilePaused(): Promise<void> {
    await condition(() => !this.status.paused || this.cancel !== null);
  }

  /** Runs a host batch that pause and cancel interrupt; 'interrupted' when they did before it returned. */
  async interruptible<T>(work: () => Promise<T>): Promise<T | 'interrupted'> {
    const scope = new CancellationScope({ cancellable: true });
    this.scope = scope;
    try {
      return await scope.run(work);
    } catch (error) {
      if (isCancellation(error) && (this.status.paused || this.cancel)) return 'interrupted';
      throw error;
    } finally {
      this.scope = null;
    }
  }

  carry(): RunCarry {
    return { paused: this.status.paused, cancel: this.cancel };
  }
}
