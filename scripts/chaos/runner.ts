// Runs chaos trials: for each workflow kind, one calibration run without a fault,
// then trials that inject each fault at a random point of a run, wait for recovery
// and check the scenario's invariants. Returns the counts per cell.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { CORE_TASK_QUEUE, hostTaskQueue } from '../../temporal-config/task-queues';
import { waitForPoller } from '../../test/support/index-fixtures';
import { createContext, eventually, sleep, type ChaosContext } from './context';
import { FAULTS, type Fault } from './faults';
import type { Scenario } from './scenario';
import { ChaosStack, chaosPorts } from './stack';

export interface ChaosOptions {
  trials: number; seed: number; slot: number; scenarios: Scenario[]; faults?: Fault[];
  /** Only these workflow/fault pairs (the CI subset); default every scenario with every fault. */
  pairs?: [Scenario, Fault][];
  /** A run without a fault per scenario first, to time it; otherwise faults land within typicalMs. */
  calibrate?: boolean;
  typicalMs?: number;
  /** Stop starting new rounds after this many minutes (cells then report fewer trials). */
  maxMinutes?: number;
  log?: (line: string) => void;
}

export interface Cell { workflow: string; fault: string; trials: number; passed: number; failed: number; failures: string[] }
export interface ChaosReport { cells: Cell[]; trials: number; failed: number }

export function chaosDataDir(slot: number): string {
  return join(projectRoot(), `.data-test-chaos-${slot}`);
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const faults = options.faults ?? FAULTS;
  const pairs = options.pairs ?? options.scenarios.flatMap((scenario) => faults.map((fault): [Scenario, Fault] => [scenario, fault]));
  const started = Date.now();
  const stack = await ChaosStack.start(chaosDataDir(options.slot), chaosPorts(options.slot), 'chaos-host');
  const cells = new Map<string, Cell>();
  const cell = (workflow: string, fault: string) => {
    const key = `${workflow}\u0000${fault}`;
    if (!cells.has(key)) cells.set(key, { workflow, fault, trials: 0, passed: 0, failed: 0, failures: [] });
    return cells.get(key)!;
  };
  let context: ChaosContext | undefined;
  try {
    context = await createContext(stack, options.seed);
    await waitForPoller(context.temporal, CORE_TASK_QUEUE, 120_000);
    await waitForPoller(context.temporal, hostTaskQueue(stack.hostId), 120_000);
    const durations = new Map<string, number>();
    for (const scenario of options.calibrate === false ? [] : new Set(pairs.map(([scenario]) => scenario))) {
      const outcome = await runTrial(context, scenario, undefined, 0);
      record(cell(scenario.name, 'none (calibration)'), outcome, log, scenario.name, 'none');
      durations.set(scenario.name, Math.max(outcome.driveMs, 1000));
    }
    for (let round = 0; round < options.trials; round += 1) {
      if (options.maxMinutes && Date.now() - started > options.maxMinutes * 60_000) {
        log(`[chaos] time budget of ${options.maxMinutes} min reached after ${round} rounds`);
        break;
      }
      for (const [scenario, fault] of pairs) {
        const outcome = await runTrial(context, scenario, fault, durations.get(scenario.name) ?? options.typicalMs ?? 5000);
        record(cell(scenario.name, fault.name), outcome, log, scenario.name, fault.name);
        if (outcome.violations.length > 0) appendFileSync(join(stack.logs, 'chaos-failures.log'), `${scenario.name} × ${fault.name}: ${outcome.note}\n${outcome.violations.join('\n')}\n\n`);
      }
    }
  } finally {
    await context?.close().catch((error) => log(`[chaos] closing: ${error}`));
    await stack.stop();
  }
  const all = [...cells.values()];
  return { cells: all, trials: all.reduce((n, c) => n + c.trials, 0), failed: all.reduce((n, c) => n + c.failed, 0) };
}

interface Outcome { violations: string[]; driveMs: number; note: string }

function record(target: Cell, outcome: Outcome, log: (line: string) => void, workflow: string, fault: string): void {
  target.trials += 1;
  if (outcome.violations.length === 0) target.passed += 1;
  else { target.failed += 1; target.failures.push(outcome.violations.join('; ')); }
  const verdict = outcome.violations.length === 0 ? 'PASS' : `FAIL: ${outcome.violations.slice(0, 3).join('; ')}`;
  log(`[chaos] ${workflow} × ${fault} #${target.trials}: ${verdict} (${outcome.note}; run ${(outcome.driveMs / 1000).toFixed(1)} s)`);
}

async function runTrial(context: ChaosContext, scenario: Scenario, fault: Fault | undefined, typicalMs: number): Promise<Outcome> {
  const { stack, random } = context;
  let note = 'no fault';
  try {
    const trial = await scenario.prepare(context);
    const delay = Math.round(100 + random() * typicalMs * 0.9);
    const begin = Date.now();
    let finishedAt = 0;
    const driving = trial.drive().finally(() => { finishedAt = Date.now(); });
    const injecting = fault ? sleep(delay).then(async () => {
      const lateBy = finishedAt ? ' (after the run had ended)' : '';
      note = `at ${(delay / 1000).toFixed(1)} s: ${await fault.inject(stack, random)}${lateBy}`;
    }) : Promise.resolve();
    const [drove, injected] = await Promise.allSettled([driving, injecting]);
    const driveMs = (finishedAt || Date.now()) - begin;
    if (injected.status === 'rejected') return { violations: [`fault injection failed: ${(injected.reason as Error).message}`], driveMs, note };
    await recovered(context);
    if (drove.status === 'rejected') return { violations: [`run did not finish: ${(drove.reason as Error).message}`], driveMs, note };
    return { violations: await trial.verify(), driveMs, note };
  } catch (error) {
    await recovered(context).catch(() => undefined);
    return { violations: [`trial error: ${(error as Error).stack ?? error}`], driveMs: 0, note };
  }
}

/** Every part is up again before the next trial; a worker that died by itself is a finding, and is restarted. */
async function recovered(context: ChaosContext): Promise<void> {
  const { stack } = context;
  const died = [stack.central, stack.host].filter((worker) => worker.diedOnItsOwn);
  for (const worker of died) worker.start();
  await eventually('Postgres to answer', async () => ((await context.admin.query('SELECT 1')).rowCount === 1 ? true : undefined), 60_000);
  await eventually('Temporal to answer', async () => { await context.temporal.workflowService.getSystemInfo({}); return true; }, 60_000);
  if (died.length > 0) throw new Error(`${died.map((worker) => `${worker.kind} worker`).join(' and ')} exited by itself during the trial`);
}

export function formatTable(report: ChaosReport): string[] {
  const rows = [['workflow', 'fault', 'trials', 'passed', 'failed'], ...report.cells.map((c) => [c.workflow, c.fault, String(c.trials), String(c.passed), String(c.failed)])];
  rows.push(['all', 'all', String(report.trials), String(report.trials - report.failed), String(report.failed)]);
  const widths = rows[0].map((_h, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((value, i) => value.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.slice(1).map(line)];
}
