// strata index …: bootstrap-index a volume on a host and follow the run.
import { emit, exitFor, numberOption, waitFor, WAIT_OPTIONS, type Command, type Context } from '../command';
import { bytes, keyValues, progressBar } from '../format';

interface IndexRun {
  id: string; runStatus: string; phase: string; hostId: string; volume: string; scan: { id: number; guid: string; status: string } | null;
  progress: { entries: number; files: number; dirs: number; bytes: number; issues: number; filesPerSecond: number; estimatedEntries: number; etaSeconds: number | null };
  issues: { path: string; code: string; message: string }[]; warnings: string[];
}

const FAILED = ['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT'];

function indexLine(run: IndexRun): string {
  const p = run.progress;
  const eta = p.etaSeconds !== null ? `  eta ${p.etaSeconds}s` : '';
  return `${run.runStatus.padEnd(9)} ${progressBar(p.entries, p.estimatedEntries || null)} entries  ${Math.round(p.filesPerSecond)} files/s  ${run.phase}${eta}`;
}

async function follow(context: Context, id: string): Promise<number | void> {
  const poll = () => context.api.json<IndexRun>('GET', `/index/${encodeURIComponent(id)}`);
  const run = context.values.wait ? await waitFor(context, poll, (r) => r.runStatus !== 'RUNNING', indexLine) : await poll();
  emit(context, run, () => keyValues([
    ['run', run.id], ['status', run.runStatus], ['phase', run.phase], ['host', run.hostId], ['volume', run.volume],
    ['scan', run.scan ? `${run.scan.guid} (${run.scan.status})` : null], ['progress', indexLine(run)],
    ['files', run.progress.files], ['dirs', run.progress.dirs], ['bytes', bytes(run.progress.bytes)], ['issues', run.progress.issues],
    ...run.issues.slice(0, 20).map((issue): [string, string] => ['issue', `${issue.code} ${issue.path}`]),
    ...run.warnings.map((warning): [string, string] => ['warning', warning]),
  ]));
  return context.values.wait ? exitFor(run.runStatus, FAILED) : undefined;
}

export const indexCommands: Command[] = [
  {
    group: 'index', action: 'bootstrap', usage: '<host-id> <volume> [--parallelism <n>] [--world-group <name>]... [--watch] [--wait]', positionals: [2, 2],
    summary: 'index a whole volume with its permissions on the host that owns it',
    options: { parallelism: { type: 'string' }, 'world-group': { type: 'string', multiple: true }, watch: { type: 'boolean' }, ...WAIT_OPTIONS },
    async run(context) {
      const worldGroups = context.values['world-group'] as string[] | undefined;
      const body = {
        hostId: context.positionals[0], volume: context.positionals[1], parallelism: numberOption(context.values, 'parallelism', { min: 1 }),
        ...(worldGroups?.length ? { worldGroups } : {}), ...(context.values.watch ? { watch: true } : {}),
      };
      const answer = await context.api.json<{ id: string; status: string }>('POST', '/index/bootstrap', { body });
      if (context.values.wait) return follow(context, answer.id);
      emit(context, answer, () => keyValues([['run', answer.id], ['status', answer.status], ['follow', `strata index status '${answer.id}' --wait`]]));
    },
  },
  {
    group: 'index', action: 'status', usage: '<run-id> [--wait]', positionals: [1, 1], options: WAIT_OPTIONS,
    summary: 'progress of a bootstrap run (id as printed by bootstrap, or the scan GUID)',
    async run(context) { return follow(context, context.positionals[0]); },
  },
];
