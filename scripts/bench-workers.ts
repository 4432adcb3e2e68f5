// The central and host workers a benchmark runs in its own process, wired as in
// workers/ (the same activities and workflow bundle), on the stack the benchmark started.
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { createHostActivities } from '../activities/host';
import { DataKeyCache } from '../lib/data-keys';
import { VaultClient, vaultSettings } from '../lib/vault-client';
import { CORE_TASK_QUEUE, hostTaskQueue } from '../temporal-config/task-queues';

export interface BenchWorkers { vault: VaultClient; stop(): Promise<void> }

export async function startBenchWorkers(env: Record<string, string>, pool: Pool, hostId: string, logLevel: LogLevel = 'WARN'): Promise<BenchWorkers> {
  Runtime.install({ logger: new DefaultLogger(logLevel) });
  const vault = new VaultClient(vaultSettings(env));
  const deps = { pool, vault, dataKeys: new DataKeyCache(vault) };
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const central = await Worker.create({
    connection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: CORE_TASK_QUEUE, workflowsPath: require.resolve('../workflows'), activities: createActivities(deps),
  });
  const host = await Worker.create({
    connection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: hostTaskQueue(hostId), activities: createHostActivities({ ...deps, hostId }),
  });
  const running = [central.run(), host.run()];
  return {
    vault,
    async stop() {
      central.shutdown();
      host.shutdown();
      await Promise.all(running);
      await connection.close();
      deps.dataKeys.clear();
    },
  };
}
