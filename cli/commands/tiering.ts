// strata tiering …: plans (dry runs with a CSV report), acting on a plan,
// rehydrating, following a run with a progress bar, and pause/resume/cancel.
import { writeFileSync } from 'node:fs';
import { emit, exitFor, listOption, numberOption, stringOption, waitFor, WAIT_OPTIONS, type Command, type Context } from '../command';
import { bytes, counters, keyValues, progressBar, table } from '../format';
import { usageError } from '../errors';

interface Plan {
  planId: string; shareName: string; status: string; statusReason: string | null; plannedFiles: number; plannedBytes: number;
  progress: Record<string, unknown>; requestedBy: string; createdAt: string; finishedAt: string | null; actions?: { id: string; kind: string; status: string }[];
}
interface Action {
  id: string; kind: string; status: string; subject: string; shareName: string | null; summary: Record<string, unknown>;
  live: { phase?: string; paused?: boolean; counters?: Record<string, unknown> } | null; createdAt: string; finishedAt: string | null;
}

const ENDED_ACTION = ['completed', 'failed', 'rolled_back'];
const RUN_OPTIONS = {
  'files-per-second': { type: 'string' }, 'bytes-per-second': { type: 'string' }, 'max-files': { type: 'string' }, 'max-bytes': { type: 'string' },
  'batch-size': { type: 'string' }, ...WAIT_OPTIONS,
} as const;

function runOptions(context: Context) {
  const pacing = { filesPerSecond: numberOption(context.values, 'files-per-second', { integer: false, min: 0.001 }),
    bytesPerSecond: numberOption(context.values, 'bytes-per-second', { integer: false, min: 1 }) };
  return {
    ...(pacing.filesPerSecond !== undefined || pacing.bytesPerSecond !== undefined ? { pacing } : {}),
    maxFiles: numberOption(context.values, 'max-files', { min: 1 }), maxBytes: numberOption(context.values, 'max-bytes', { min: 1 }),
    batchSize: numberOption(context.values, 'batch-size', { min: 1 }),
  };
}

/** Progress of a run: files settled (stubbed, rehydrated, skipped, failed) against the plan's files when known. */
export function actionLine(action: Action, total?: number): string {
  const values = { ...action.summary, ...(action.live?.counters ?? {}) };
  const done = ['stubbed', 'rehydrated', 'skipped', 'failed'].reduce((sum, key) => sum + (Number(values[key]) || 0), 0);
  const phase = action.live?.phase ?? action.status;
  return `${action.status.padEnd(11)} ${progressBar(done, total)}  ${phase}${action.live?.paused ? ' (paused)' : ''}`;
}

function planView(plan: Plan): string {
  return keyValues([
    ['plan', plan.planId], ['share', plan.shareName], ['status', plan.status], ['reason', plan.statusReason],
    ['files', plan.plannedFiles], ['bytes', bytes(plan.plannedBytes)], ['progress', counters(plan.progress)],
    ['requested by', plan.requestedBy], ['created', plan.createdAt], ['finished', plan.finishedAt],
    ...(plan.actions ?? []).map((a): [string, string] => ['action', `${a.id} ${a.kind} ${a.status}`]),
  ]);
}

async function followAction(context: Context, actionId: string): Promise<number | void> {
  const poll = () => context.api.json<Action>('GET', `/tiering/actions/${encodeURIComponent(actionId)}`);
  const first = await poll();
  const total = await planFiles(context, first.subject);
  const action = context.values.wait ? await waitFor(context, poll, (a) => ENDED_ACTION.includes(a.status), (a) => actionLine(a, total)) : first;
  emit(context, action, () => keyValues([
    ['action', action.id], ['kind', action.kind], ['status', action.status], ['share', action.shareName], ['subject', action.subject],
    ['progress', actionLine(action, total)], ['counters', counters({ ...action.summary, ...(action.live?.counters ?? {}) })],
    ['created', action.createdAt], ['finished', action.finishedAt],
  ]));
  return context.values.wait ? exitFor(action.status, ['failed', 'rolled_back']) : undefined;
}

/** A run whose subject is a plan works through that plan's files. */
async function planFiles(context: Context, subject: string): Promise<number | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(subject)) return undefined;
  return (await context.api.json<Plan>('GET', `/tiering/plans/${subject}`)).plannedFiles;
}

async function started(context: Context, path: string, body: unknown): Promise<number | void> {
  const answer = await context.api.json<{ actionId: string; workflowId: string }>('POST', path, { body });
  if (context.values.wait) return followAction(context, answer.actionId);
  emit(context, answer, () => keyValues([['action', answer.actionId], ['workflow', answer.workflowId], ['follow', `strata tiering status ${answer.actionId} --wait`]]));
}

export const tieringCommands: Command[] = [
  {
    group: 'tiering', action: 'plan', positionals: [1, 1],
    usage: '<share> [--idle-days <n>] [--basis atime|mtime] [--min-size <bytes>] [--include <glob>]... [--exclude <glob>]... [--max-files <n>] [--max-bytes <n>] [--wait]',
    summary: 'plan tiering of idle files of a share (a dry run with a report)',
    options: {
      'idle-days': { type: 'string' }, basis: { type: 'string' }, 'min-size': { type: 'string' }, include: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true }, 'max-files': { type: 'string' }, 'max-bytes': { type: 'string' }, ...WAIT_OPTIONS,
    },
    async run(context) {
      const basis = stringOption(context.values, 'basis');
      if (basis !== undefined && !['atime', 'mtime'].includes(basis)) throw usageError(`--basis must be atime or mtime, not ${JSON.stringify(basis)}`);
      const include = listOption(context.values, 'include');
      const exclude = listOption(context.values, 'exclude');
      const policy = {
        idleDays: numberOption(context.values, 'idle-days', { integer: false }), basis, minSizeBytes: numberOption(context.values, 'min-size'),
        ...(include.length ? { include } : {}), ...(exclude.length ? { exclude } : {}),
        maxFiles: numberOption(context.values, 'max-files', { min: 1 }), maxBytes: numberOption(context.values, 'max-bytes', { min: 1 }),
      };
      const answer = await context.api.json<{ planId: string; status: string }>('POST', '/tiering/plans', { body: { shareName: context.positionals[0], policy } });
      if (!context.values.wait) return emit(context, answer, () => keyValues([['plan', answer.planId], ['status', answer.status], ['review', `strata tiering show ${answer.planId}`]]));
      const poll = () => context.api.json<Plan>('GET', `/tiering/plans/${answer.planId}`);
      const plan = await waitFor(context, poll, (p) => p.status !== 'PLANNING', (p) => `${p.status} ${counters(p.progress)}`);
      emit(context, plan, () => planView(plan));
      return exitFor(plan.status, ['FAILED']);
    },
  },
  {
    group: 'tiering', action: 'plans', usage: '[--limit <n>]', positionals: [0, 0], summary: 'list recent plans',
    options: { limit: { type: 'string' } },
    async run(context) {
      const answer = await context.api.json<{ plans: Plan[] }>('GET', '/tiering/plans', { query: { limit: numberOption(context.values, 'limit', { min: 1 }) } });
      emit(context, answer, () => table(answer.plans.map((p) => ({ ...p, plannedBytes: bytes(p.plannedBytes) })),
        [['planId', 'plan'], ['shareName', 'share'], ['status', 'status'], ['plannedFiles', 'files'], ['plannedBytes', 'bytes'], ['createdAt', 'created']]));
    },
  },
  {
    group: 'tiering', action: 'show', usage: '<plan-id>', positionals: [1, 1], summary: 'a plan with its counts and the runs that acted on it',
    async run(context) {
      const plan = await context.api.json<Plan>('GET', `/tiering/plans/${encodeURIComponent(context.positionals[0])}`);
      emit(context, plan, () => planView(plan));
    },
  },
  {
    group: 'tiering', action: 'report', usage: '<plan-id> [--output <file>]', positionals: [1, 1], summary: "a plan's file list as CSV",
    options: { output: { type: 'string', short: 'o' } },
    async run(context) {
      const { body } = await context.api.text(`/tiering/plans/${encodeURIComponent(context.positionals[0])}/report.csv`);
      const output = stringOption(context.values, 'output');
      if (output) { writeFileSync(output, body); context.io.stderr(`report written to ${output}\n`); } else context.io.stdout(body);
    },
  },
  {
    group: 'tiering', action: 'act', usage: '<plan-id> [--files-per-second <n>] [--bytes-per-second <n>] [--max-files <n>] [--max-bytes <n>] [--wait]',
    positionals: [1, 1], summary: 'tier the files of a PLANNED plan to Tier-2 (copy, verify, stub)', options: RUN_OPTIONS,
    async run(context) {
      return started(context, `/tiering/plans/${encodeURIComponent(context.positionals[0])}/act`, { options: runOptions(context) });
    },
  },
  {
    group: 'tiering', action: 'rehydrate', usage: '(--path <path>... | --plan <plan-id> | --rewarmed) [--share <share>] [--wait]',
    positionals: [0, 0], summary: 'bring tiered content back',
    options: { path: { type: 'string', multiple: true }, plan: { type: 'string' }, rewarmed: { type: 'boolean' }, share: { type: 'string' }, ...RUN_OPTIONS },
    async run(context) {
      const paths = listOption(context.values, 'path');
      const plan = stringOption(context.values, 'plan');
      const chosen = [paths.length > 0, plan !== undefined, context.values.rewarmed === true].filter(Boolean).length;
      if (chosen !== 1) throw usageError('give exactly one of --path (repeatable), --plan or --rewarmed');
      const body = {
        ...(paths.length ? { paths } : {}), ...(plan ? { planId: plan } : {}), ...(context.values.rewarmed ? { rewarmed: true } : {}),
        shareName: stringOption(context.values, 'share'), options: runOptions(context),
      };
      return started(context, '/tiering/rehydrate', body);
    },
  },
  {
    group: 'tiering', action: 'status', usage: '<action-id> [--wait]', positionals: [1, 1], options: WAIT_OPTIONS,
    summary: 'a tiering or rehydrate run with a progress bar; --wait follows it (exit 5 if it fails)',
    async run(context) { return followAction(context, context.positionals[0]); },
  },
  ...(['pause', 'resume', 'cancel'] as const).map((signal): Command => ({
    group: 'tiering', action: signal, usage: '<action-id> [--reason <text>]', positionals: [1, 1], options: { reason: { type: 'string' } },
    summary: `${signal} a running tiering or rehydrate run`,
    async run(context) {
      const answer = await context.api.json<{ actionId: string; signal: string }>('POST',
        `/tiering/actions/${encodeURIComponent(context.positionals[0])}/${signal}`, { body: { reason: stringOption(context.values, 'reason') } });
      emit(context, answer, () => `${signal} sent to ${answer.actionId}`);
    },
  })),
];
