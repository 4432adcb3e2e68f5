// The shape of one chaos scenario: prepare (no faults yet; starts the workflow),
// drive it to its end through whatever fault is injected meanwhile, then list
// every invariant it finds broken (an empty list is a passed trial).
import type { ChaosContext } from './context';

export interface Trial {
  /** Runs while the fault is injected: the calls a client makes, then waiting for the end. */
  drive(): Promise<void>;
  /** After recovery: the invariants that do not hold, as sentences. */
  verify(): Promise<string[]>;
}

export interface Scenario {
  name: string;
  prepare(context: ChaosContext): Promise<Trial>;
}
