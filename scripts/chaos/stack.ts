// The stack a chaos run breaks on purpose: the same servers as `npm start` (Postgres
// on a data dir, the Temporal dev server on a SQLite file, a Vault server with file
// storage, unsealed by script) and both workers as child processes; every part can
// be killed and brought back on the same state.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { runMigrations } from '../stack/stack';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../stack/postgres';
import { startTemporalDevServer } from '../stack/temporal';
import { startVaultServer, type VaultHandle } from '../stack/vault';
import type { ManagedProcess } from '../stack/processes';
import { FAILURE_CONVERTER_PATH, payloadEncryptionEnabled } from '../../temporal-config/payload-encryption';
import { killPostgresHard, postmasterPid, alive, waitFor, WorkerProcess } from './processes';

export interface ChaosPorts { pg: number; temporal: number; vault: number }

export function chaosPorts(slot: number): ChaosPorts {
  // Clear of the test profile's ports of the same slot (54339, 7243, 8210 + 100 * slot).
  return { pg: 54369 + 100 * slot, temporal: 7273 + 100 * slot, vault: 8240 + 100 * slot };
}

const quietLogger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (message: string) => console.warn(message), error: (message: string) => console.error(message),
};

export class ChaosStack {
  env: Record<string, string> = {};
  central!: WorkerProcess;
  host!: WorkerProcess;
  private postgres?: EmbeddedPostgresHandle;
  private temporal?: ManagedProcess;
  private vault?: VaultHandle;

  constructor(readonly dataDir: string, readonly ports: ChaosPorts, readonly hostId: string) {}

  get logs(): string { return join(this.dataDir, 'logs'); }
  get pgDir(): string { return join(this.dataDir, 'pg'); }

  static async start(dataDir: string, ports: ChaosPorts, hostId: string): Promise<ChaosStack> {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const stack = new ChaosStack(dataDir, ports, hostId);
    // Should the run itself die, its servers and workers must not outlive it.
    process.once('exit', () => stack.killAllNow());
    try {
      await stack.startPostgres();
      await stack.startTemporal();
      await stack.startVault();
      stack.env.TEMPORAL_NAMESPACE = 'default';
      stack.env.STRATA_DATA_DIR = dataDir;
      await runMigrations({ ...process.env, ...stack.env });
      const bundle = join(dataDir, 'workflow-bundle.js');
      const failureConverterPath = payloadEncryptionEnabled() ? FAILURE_CONVERTER_PATH : undefined;
      writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger, failureConverterPath })).code);
      const workerEnv = (extra: Record<string, string>) => () => ({ ...stack.env, STRATA_WORKFLOW_BUNDLE: bundle, STRATA_PG_POOL: '6', ...extra });
      stack.central = new WorkerProcess('central', workerEnv({}), join(stack.logs, 'central-worker.log'));
      stack.host = new WorkerProcess('host', workerEnv({ STRATA_HOST_ID: hostId }), join(stack.logs, 'host-worker.log'));
      stack.central.start();
      stack.host.start();
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  async startPostgres(): Promise<void> {
    // After a hard kill the data dir may still be locked for a moment: retry the start.
    await retryStart('Postgres', async () => {
      this.postgres = await startEmbeddedPostgres({ dataDir: this.pgDir, port: this.ports.pg, database: 'strata', logFile: join(this.logs, 'postgres.log') });
    });
    this.env.DATABASE_URL = this.postgres!.adminUrl;
  }

  /** `hard`: SIGKILL to every Postgres process; `fast`: a fast shutdown (SIGINT), which rolls back open transactions. */
  async stopPostgres(mode: 'hard' | 'fast'): Promise<void> {
    if (mode === 'hard') await killPostgresHard(this.pgDir);
    else {
      const pid = postmasterPid(this.pgDir);
      await this.postgres?.stop();
      if (pid) await waitFor(() => !alive(pid), 'Postgres fast shutdown', 60_000);
    }
    this.postgres = undefined;
  }

  async startTemporal(): Promise<void> {
    this.temporal = await startTemporalDevServer({
      port: this.ports.temporal, uiPort: this.ports.temporal + 1000, namespace: 'default', ui: false,
      dbFile: join(this.dataDir, 'temporal.db'), logFile: join(this.logs, 'temporal.log'),
    });
    this.env.TEMPORAL_ADDRESS = `127.0.0.1:${this.ports.temporal}`;
  }

  async killTemporal(): Promise<void> {
    const child = this.temporal?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error('the Temporal dev server is not running');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.temporal = undefined;
  }

  async startVault(): Promise<void> {
    this.vault = await startVaultServer({ port: this.ports.vault, dataDir: join(this.dataDir, 'vault'), logFile: join(this.logs, 'vault.log') });
    this.env.VAULT_ADDR = this.vault.address;
    this.env.VAULT_TOKEN = this.vault.token;
  }

  async killVault(): Promise<void> {
    const child = this.vault?.process.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error('the Vault server is not running');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP / SIGCONT: the server still accepts connections but answers nothing. */
  freezeVault(frozen: boolean): void {
    this.vault?.process.child.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  killAllNow(): void {
    const children = [this.central?.child, this.host?.child, this.temporal?.child, this.vault?.process.child];
    for (const child of children) if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const pid = postmasterPid(this.pgDir);
    if (pid && alive(pid)) process.kill(pid, 'SIGQUIT');
  }

  async stop(): Promise<void> {
    for (const worker of [this.central, this.host]) await worker?.stop().catch((error) => console.error(error));
    if (this.vault) { this.freezeVault(false); await this.vault.process.stop().catch(() => undefined); }
    await this.temporal?.stop().catch(() => undefined);
    await this.postgres?.stop().catch(() => undefined);
  }
}

async function retryStart(what: string, start: () => Promise<void>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await start();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not start: ${error instanceof Error ? error.message : String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
