// strata remediation …: plan a permission change, list and review runs, execute
// (approve) one, and roll it back from its snapshot.
import { emit, exitFor, listOption, numberOption, sha256Option, stringOption, waitFor, WAIT_OPTIONS, type Command, type Context } from '../command';
import { counters, keyValues, progressBar, table } from '../format';
import { usageError } from '../errors';

interface Run {
  id: string; status: string; statusReason: string | null; requestedBy: string; reportHash: string | null; hostId: string | null; volume: string | null;
  report: Record<string, unknown> | null; counters: Record<string, unknown>; rollbackUntil: string | null; createdAt: string; finishedAt: string | null;
  items: Record<string, unknown>[]; live?: { activity?: string; batches?: { done: number; total: number } };
}

const SETTLED = ['DRY_RUN', 'AWAITING_APPROVAL', 'REJECTED', 'EXPIRED', 'COMPLETED', 'ROLLED_BACK', 'FAILED'];
const ACCESS = ['r', 'rw', 'rwx', 'rx'];

function runLine(run: Run): string {
  const batches = run.live?.batches;
  return `${run.status.padEnd(17)} ${batches ? progressBar(batches.done, batches.total) : ''}  ${run.live?.activity ?? ''}`.replace(/\s+$/, '');
}

function runView(run: Run): string {
  return [keyValues([
    ['run', run.id], ['status', run.status], ['reason', run.statusReason], ['report hash', run.reportHash], ['host', run.hostId], ['volume', run.volume],
    ['report', counters(run.report)], ['counters', counters(run.counters)], ['rollback until', run.rollbackUntil],
    ['requested by', run.requestedBy], ['created', run.createdAt], ['finished', run.finishedAt],
  ]), ...(run.items.length ? ['', table(run.items, [['itemNo', '#'], ['type', 'type'], ['outcome', 'outcome'], ['before', 'before'], ['after', 'after'], ['path', 'path']])] : [])].join('\n');
}

/** `--add group:staff=rx` into the api's { principal, access }. */
export function parseGrant(text: string): { principal: string; access: string } {
  const at = text.lastIndexOf('=');
  const access = text.slice(at + 1);
  if (at <= 0 || !ACCESS.includes(access)) throw usageError(`--add takes <principal>=<access> with access one of ${ACCESS.join(', ')}, not ${JSON.stringify(text)}`);
  return { principal: text.slice(0, at), access };
}

async function follow(context: Context, id: string): Promise<Run> {
  const query = { limit: numberOption(context.values, 'limit', { min: 1 }) ?? 20 };
  const poll = () => context.api.json<Run>('GET', `/remediation/${encodeURIComponent(id)}`, { query });
  return context.values.wait ? waitFor(context, poll, (r) => SETTLED.includes(r.status), runLine) : poll();
}

export const remediationCommands: Command[] = [
  {
    group: 'remediation', action: 'plan', positionals: [0, 0],
    usage: '(--share <share> | --host <host-id> --path-prefix <path>) [--remove <principal>]... [--add <principal>=<r|rw|rx|rwx>]... [--preserve <principal>]... '
      + '[--world-only] [--owner <name>] [--type file|dir|all] [--dry-run] [--approvals <n>] [--parallelism <n>] [--wait]',
    summary: 'plan a permission change over a share or path (principals: other, user:<name>, group:<name>)',
    options: {
      share: { type: 'string' }, host: { type: 'string' }, 'path-prefix': { type: 'string' }, remove: { type: 'string', multiple: true },
      add: { type: 'string', multiple: true }, preserve: { type: 'string', multiple: true }, 'world-only': { type: 'boolean' }, owner: { type: 'string' },
      type: { type: 'string' }, 'dry-run': { type: 'boolean' }, approvals: { type: 'string' }, parallelism: { type: 'string' }, limit: { type: 'string' }, ...WAIT_OPTIONS,
    },
    async run(context) {
      const type = stringOption(context.values, 'type');
      if (type !== undefined && !['file', 'dir', 'all'].includes(type)) throw usageError('--type must be file, dir or all');
      const scope = {
        share: stringOption(context.values, 'share'), host: stringOption(context.values, 'host'), pathPrefix: stringOption(context.values, 'path-prefix'),
        worldAccessibleOnly: context.values['world-only'] === true, owner: stringOption(context.values, 'owner'), type,
      };
      if (!scope.share && !(scope.host && scope.pathPrefix)) throw usageError('name --share, or --host and --path-prefix');
      const policy = { remove: listOption(context.values, 'remove'), add: listOption(context.values, 'add').map(parseGrant), preserve: listOption(context.values, 'preserve') };
      const options = {
        dryRun: context.values['dry-run'] === true, approvalsRequired: numberOption(context.values, 'approvals'),
        parallelism: numberOption(context.values, 'parallelism', { min: 1 }),
      };
      const answer = await context.api.json<{ id: string; status: string }>('POST', '/remediation/plans', { body: { scope, policy, options } });
      if (!context.values.wait) return emit(context, answer, () => keyValues([['run', answer.id], ['status', answer.status], ['review', `strata remediation show ${answer.id}`]]));
      const run = await follow(context, answer.id);
      emit(context, run, () => runView(run));
      return exitFor(run.status, ['FAILED', 'REJECTED', 'EXPIRED']);
    },
  },
  {
    group: 'remediation', action: 'list', usage: '[--status <status>] [--limit <n>]', positionals: [0, 0], summary: 'recent remediation runs (--status AWAITING_APPROVAL: those to approve)',
    options: { status: { type: 'string' }, limit: { type: 'string' } },
    async run(context) {
      const answer = await context.api.json<{ runs: Record<string, unknown>[] }>('GET', '/remediation', {
        query: { status: stringOption(context.values, 'status'), limit: numberOption(context.values, 'limit', { min: 1 }) } });
      emit(context, answer, () => table(answer.runs, [
        ['id', 'run'], ['status', 'status'], ['volume', 'volume'], ['toChange', 'to change'], ['transformations', 'transformations'], ['createdAt', 'created']]));
    },
  },
  {
    group: 'remediation', action: 'show', usage: '<run-id> [--limit <n>] [--wait]', positionals: [1, 1], options: { limit: { type: 'string' }, ...WAIT_OPTIONS },
    summary: 'a remediation run: report, hash to approve, counters and items',
    async run(context) {
      const run = await follow(context, context.positionals[0]);
      emit(context, run, () => runView(run));
      return context.values.wait ? exitFor(run.status, ['FAILED', 'REJECTED', 'EXPIRED']) : undefined;
    },
  },
  {
    group: 'remediation', action: 'execute', usage: '<run-id> --hash <report-sha256> [--reject] [--reason <text>]', positionals: [1, 1],
    summary: 'approve (or --reject) the reviewed plan; with its approvals met it executes',
    options: { hash: { type: 'string' }, reject: { type: 'boolean' }, reason: { type: 'string' } },
    async run(context) {
      const body = { reportHash: sha256Option(context.values, 'hash'), decision: context.values.reject ? 'reject' : 'approve', reason: stringOption(context.values, 'reason') };
      const answer = await context.api.json<{ status: string; approvals: number; required: number }>('POST',
        `/remediation/${encodeURIComponent(context.positionals[0])}/execute`, { body });
      emit(context, answer, () => keyValues([['decision', body.decision], ['run status', answer.status], ['approvals', `${answer.approvals}/${answer.required}`]]));
    },
  },
  {
    group: 'remediation', action: 'rollback', usage: '<run-id> [--reason <text>]', positionals: [1, 1], options: { reason: { type: 'string' } },
    summary: 'restore every changed file from the run\'s snapshot (within its rollback window)',
    async run(context) {
      const answer = await context.api.json<{ accepted: boolean; status: string }>('POST',
        `/remediation/${encodeURIComponent(context.positionals[0])}/rollback`, { body: { reason: stringOption(context.values, 'reason') } });
      emit(context, answer, () => `rollback ${answer.accepted ? 'accepted' : 'not accepted'}; run status ${answer.status}`);
    },
  },
];
