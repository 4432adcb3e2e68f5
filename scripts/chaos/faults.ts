// The faults a chaos trial injects, each with its recovery: the process comes back
// on the same state (data dir, SQLite file, Vault storage) after a short outage.
import { sleep } from './context';
import type { ChaosStack } from './stack';

export interface Fault {
  name: string;
  /** Breaks the part and brings it back; returns what exactly was done, for the log. */
  inject(stack: ChaosStack, random: () => number): Promise<string>;
}

const outage = (random: () => number, fromMs: number, toMs: number) => Math.round(fromMs + random() * (toMs - fromMs));

function workerKill(kind: 'central' | 'host'): Fault {
  return {
    name: `kill -9 ${kind} worker`,
    async inject(stack, random) {
      const worker = kind === 'central' ? stack.central : stack.host;
      await worker.kill9();
      const down = outage(random, 0, 3000);
      await sleep(down);
      worker.start();
      return `${kind} worker SIGKILL, restarted after ${down} ms`;
    },
  };
}

export const FAULTS: Fault[] = [
  workerKill('central'),
  workerKill('host'),
  {
    name: 'kill -9 Temporal server',
    async inject(stack, random) {
      await stack.killTemporal();
      const down = outage(random, 500, 5000);
      await sleep(down);
      await stack.startTemporal();
      return `Temporal dev server SIGKILL, restarted on its SQLite file after ${down} ms`;
    },
  },
  {
    name: 'Postgres restart',
    async inject(stack, random) {
      const mode = random() < 0.5 ? 'hard' : 'fast';
      await stack.stopPostgres(mode);
      const down = outage(random, 500, 6000);
      await sleep(down);
      await stack.startPostgres();
      return `Postgres ${mode === 'hard' ? 'SIGKILL of every process' : 'fast shutdown'}, restarted on its data dir after ${down} ms`;
    },
  },
  {
    name: 'Vault unavailable',
    async inject(stack, random) {
      const down = outage(random, 2000, 10_000);
      if (random() < 0.5) {
        stack.freezeVault(true);
        await sleep(down);
        stack.freezeVault(false);
        return `Vault SIGSTOP for ${down} ms, then SIGCONT`;
      }
      await stack.killVault();
      await sleep(down);
      await stack.startVault();
      return `Vault SIGKILL, restarted and unsealed after ${down} ms`;
    },
  },
];
