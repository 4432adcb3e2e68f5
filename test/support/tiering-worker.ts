// A host worker as its own process (`node dist/workers/host.js`), so tests can
// kill -9 it mid-run and read its logs. Needs a current build (npm run build).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { loadStackEnv } from './harness';

const SOURCES_BUILT = ['activities/tiering-host.ts', 'activities/tiering-act.ts', 'activities/stub-ops.ts', 'activities/tiering-fsops.ts', 'workers/host.ts'];

/** Refuses to run against a missing or stale build, which would test old code. */
export function requireCurrentBuild(): string {
  const root = projectRoot();
  const entry = join(root, 'dist', 'workers', 'host.js');
  if (!existsSync(entry)) throw new Error('dist/workers/host.js is missing: run `npm run build` first');
  for (const source of SOURCES_BUILT) {
    const built = join(root, 'dist', source.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, source)).mtimeMs) {
      throw new Error(`${built} is older than ${source}: run \`npm run build\` first`);
    }
  }
  return entry;
}

export class HostWorkerProcess {
  private child: ChildProcess | null = null;
  private readonly exits: Promise<void>[] = [];

  constructor(readonly hostId: string, readonly logFile: string, private readonly extraEnv: Record<string, string> = {}) {}

  start(): void {
    const entry = requireCurrentBuild();
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, ...loadStackEnv(), STRATA_HOST_ID: this.hostId, STRATA_PG_POOL: '4', ...this.extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
    this.child = child;
  }

  /** SIGKILL: no cleanup, no flush, like a power cut for the process (the page cache survives). */
  async kill9(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exits[this.exits.length - 1];
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.exits[this.exits.length - 1];
      clearTimeout(timer);
    }
  }
}
