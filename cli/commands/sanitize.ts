// strata sanitize …: reconcile Tier-2 with the index, review the report, and
// approve or reject it (two distinct approvers, each naming the hash they reviewed).
import { writeFileSync } from 'node:fs';
import { emit, exitFor, numberOption, sha256Option, stringOption, waitFor, WAIT_OPTIONS, type Command, type Context } from '../command';
import { counters, keyValues, progressBar, table } from '../format';
import { CliError, usageError } from '../errors';

interface Run {
  id: string; share: string; status: string; requestedBy: string; reportHash: string | null; totals: Record<string, unknown>;
  inventoried: number; createdAt: string; finishedAt: string | null; items?: Record<string, unknown>[];
  live?: { phase?: string; executed?: { done: number; skipped: number }; destructiveItems?: number; gate?: { approvals?: unknown[] } };
}

/** A run stops needing to be watched once it ended or waits for people. */
const SETTLED = ['DRY_RUN', 'AWAITING_APPROVAL', 'REJECTED', 'EXPIRED', 'COMPLETED', 'FAILED'];

function runLine(run: Run): string {
  const executed = run.live?.executed;
  const bar = executed && run.live?.destructiveItems ? progressBar(executed.done + executed.skipped, run.live.destructiveItems) : `${run.inventoried} inventoried`;
  return `${run.status.padEnd(17)} ${bar}  ${run.live?.phase ?? ''}`.trimEnd();
}

function runView(run: Run): string {
  const totals = Object.entries(run.totals ?? {}).map(([category, value]) => ({ category, ...(value as object) }));
  return [keyValues([
    ['run', run.id], ['share', run.share], ['status', run.status], ['report hash', run.reportHash], ['inventoried', run.inventoried],
    ['requested by', run.requestedBy], ['created', run.createdAt], ['finished', run.finishedAt],
  ]), '', table(totals, [['category', 'category'], ['items', 'items'], ['bytes', 'bytes']]),
  ...(run.items && run.items.length ? ['', table(run.items, [['itemNo', '#'], ['category', 'category'], ['proposedAction', 'action'],
    ['destructive', 'destructive'], ['outcome', 'outcome'], ['fullPath', 'path']])] : [])].join('\n');
}

/** The workflow records a new run a moment after it starts: until then the api answers 404. */
function untilRecorded(context: Context, poll: () => Promise<Run>): () => Promise<Run> {
  let attempts = 0;
  return async () => {
    for (;;) {
      try {
        return await poll();
      } catch (error) {
        attempts += 1;
        if (!(error instanceof CliError) || !/: 404 /.test(error.message) || attempts > 60) throw error;
        await context.io.sleep(500);
      }
    }
  };
}

async function decide(context: Context, decision: 'approve' | 'reject'): Promise<void> {
  const body = { decision, reportHash: sha256Option(context.values, 'hash'), reason: stringOption(context.values, 'reason') };
  const answer = await context.api.json<{ status: string; approvals: number; required: number }>('POST',
    `/sanitize/${encodeURIComponent(context.positionals[0])}/approvals`, { body });
  emit(context, answer, () => keyValues([['decision', decision], ['run status', answer.status], ['approvals', `${answer.approvals}/${answer.required}`]]));
}

export const sanitizeCommands: Command[] = [
  {
    group: 'sanitize', action: 'run', positionals: [1, 1],
    usage: '<share> [--dry-run] [--orphan-action quarantine|delete] [--max-deletes <n>] [--idle-days <n>] [--deadline-hours <h>] [--approvals <n>] [--wait]',
    summary: 'reconcile Tier-2 against the index; destructive runs wait for approvals',
    options: {
      'dry-run': { type: 'boolean' }, 'orphan-action': { type: 'string' }, 'max-deletes': { type: 'string' }, 'idle-days': { type: 'string' },
      'deadline-hours': { type: 'string' }, approvals: { type: 'string' }, ...WAIT_OPTIONS,
    },
    async run(context) {
      const orphanAction = stringOption(context.values, 'orphan-action');
      if (orphanAction !== undefined && !['quarantine', 'delete'].includes(orphanAction)) throw usageError('--orphan-action must be quarantine or delete');
      const body = {
        share: context.positionals[0], dryRun: context.values['dry-run'] === true, orphanAction,
        maxDeletes: numberOption(context.values, 'max-deletes'), idleDays: numberOption(context.values, 'idle-days', { min: 1 }),
        approvalDeadlineHours: numberOption(context.values, 'deadline-hours', { integer: false, min: 0.001 }),
        requiredApprovals: numberOption(context.values, 'approvals', { min: 2 }),
      };
      const answer = await context.api.json<{ id: string; workflowId: string; status: string }>('POST', '/sanitize', { body });
      if (!context.values.wait) return emit(context, answer, () => keyValues([['run', answer.id], ['status', answer.status], ['review', `strata sanitize report ${answer.id}`]]));
      const poll = untilRecorded(context, () => context.api.json<Run>('GET', `/sanitize/${answer.id}`, { query: { limit: 1 } }));
      const run = await waitFor(context, poll, (r) => SETTLED.includes(r.status), runLine);
      emit(context, run, () => runView(run));
      return exitFor(run.status, ['FAILED', 'REJECTED', 'EXPIRED']);
    },
  },
  {
    group: 'sanitize', action: 'list', usage: '[--status <status>] [--limit <n>]', positionals: [0, 0], summary: 'recent sanitize runs',
    options: { status: { type: 'string' }, limit: { type: 'string' } },
    async run(context) {
      const answer = await context.api.json<{ runs: Run[] }>('GET', '/sanitize', {
        query: { status: stringOption(context.values, 'status'), limit: numberOption(context.values, 'limit', { min: 1 }) } });
      emit(context, answer, () => table(answer.runs.map((r) => ({ ...r, totals: counters(Object.fromEntries(
        Object.entries(r.totals ?? {}).map(([k, v]) => [k, (v as { items?: number }).items ?? v]))) })),
      [['id', 'run'], ['share', 'share'], ['status', 'status'], ['totals', 'items'], ['createdAt', 'created']]));
    },
  },
  {
    group: 'sanitize', action: 'report', usage: '<run-id> [--csv [--output <file>]] [--offset <n>] [--limit <n>] [--wait]', positionals: [1, 1],
    summary: 'the dry-run report: totals, items and the hash approvers must name; --csv for the full export',
    options: { csv: { type: 'boolean' }, output: { type: 'string', short: 'o' }, offset: { type: 'string' }, limit: { type: 'string' }, ...WAIT_OPTIONS },
    async run(context) {
      const id = encodeURIComponent(context.positionals[0]);
      if (context.values.csv) {
        const { body, headers } = await context.api.text(`/sanitize/${id}/report.csv`);
        const output = stringOption(context.values, 'output');
        if (output) { writeFileSync(output, body); context.io.stderr(`report written to ${output} (hash ${headers.get('x-report-hash')})\n`); } else context.io.stdout(body);
        return;
      }
      const query = { offset: numberOption(context.values, 'offset'), limit: numberOption(context.values, 'limit', { min: 1 }) };
      const poll = () => context.api.json<Run>('GET', `/sanitize/${id}`, { query });
      const run = context.values.wait ? await waitFor(context, poll, (r) => SETTLED.includes(r.status), runLine) : await poll();
      emit(context, run, () => runView(run));
    },
  },
  {
    group: 'sanitize', action: 'approve', usage: '<run-id> --hash <report-sha256> [--reason <text>]', positionals: [1, 1],
    summary: 'approve the report you reviewed (approver or admin, not the requester)', options: { hash: { type: 'string' }, reason: { type: 'string' } },
    async run(context) { await decide(context, 'approve'); },
  },
  {
    group: 'sanitize', action: 'reject', usage: '<run-id> --hash <report-sha256> [--reason <text>]', positionals: [1, 1],
    summary: 'reject the report: the run ends REJECTED', options: { hash: { type: 'string' }, reason: { type: 'string' } },
    async run(context) { await decide(context, 'reject'); },
  },
];
