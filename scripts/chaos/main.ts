// `npm run chaos`: fault injection across every workflow kind on a real stack.
// Options: --trials N (per workflow and fault, default 20), --quick (2 trials),
// --ci (one trial of each pair in ci-pairs.ts, no calibration), --seed N,
// --only <workflow,...>, --faults <name part,...>, --max-minutes M.
// The last line printed is {"chaos":{"trials":N,"failed":F}}; exit code 1 if any failed.
import { CI_PAIRS } from './ci-pairs';
import { FAULTS } from './faults';
import { formatTable, runChaos } from './runner';
import { SCENARIOS } from './scenarios/all';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function pick<T extends { name: string }>(all: T[], filter: string | undefined): T[] {
  if (!filter) return all;
  const parts = filter.toLowerCase().split(',');
  const chosen = all.filter((item) => parts.some((part) => item.name.toLowerCase().includes(part)));
  if (chosen.length === 0) throw new Error(`nothing matches "${filter}" among: ${all.map((item) => item.name).join(', ')}`);
  return chosen;
}

async function main(): Promise<void> {
  // Ctrl-C or kill: exit through 'exit', where the stack kills what it started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const quick = process.argv.includes('--quick');
  const ci = process.argv.includes('--ci');
  const trials = Number(option('trials') ?? (ci ? 1 : quick ? 2 : 20));
  if (!Number.isInteger(trials) || trials < 0) throw new Error('--trials must be a whole number');
  const seed = Number(option('seed') ?? Date.now() % 1_000_000);
  const slot = Number(process.env.STRATA_TEST_SLOT ?? '0');
  const maxMinutes = option('max-minutes') ? Number(option('max-minutes')) : undefined;
  console.log(`[chaos] seed ${seed}, ${trials} trials per workflow and fault, slot ${slot}`);
  const report = await runChaos({
    trials, seed, slot, maxMinutes, scenarios: pick(SCENARIOS, option('only')), faults: pick(FAULTS, option('faults')),
    ...(ci ? { pairs: CI_PAIRS, calibrate: false, typicalMs: 4000 } : {}),
  });
  for (const line of formatTable(report)) console.log(line);
  console.log(JSON.stringify({ chaos: { trials: report.trials, failed: report.failed } }));
  // Leftover sockets of the restarted servers must not keep the process alive.
  process.exit(report.failed > 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  console.log(JSON.stringify({ chaos: { trials: 0, failed: 1 } }));
  process.exit(1);
});
