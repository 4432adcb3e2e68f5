// Per-file test harness over the real stack: pools, a Temporal client, the api
// app in-process, and central/host workers running the real activities.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { createAdminPool, createAppPool } from '../../db/pool';
import { VaultClient, vaultSettings } from '../../lib/vault-client';
import { DataKeyCache } from '../../lib/data-keys';
import { createActivities } from '../../activities';
import { createHostActivities } from '../../activities/host';
import { CORE_TASK_QUEUE, hostTaskQueue } from '../../temporal-config/task-queues';
import { buildApp } from '../../api/app';
import { testDataDir } from '../../scripts/stack/stack';
import { createPayloadCodec, dataConverterWith } from '../../temporal-config/payload-encryption';
import type { VaultPayloadCodec } from '../../lib/payload-codec';

export const TEST_DATA_DIR = testDataDir();
let runtimeInstalled = false;

export function loadStackEnv(): Record<string, string> {
  const env = JSON.parse(readFileSync(join(TEST_DATA_DIR, 'env.json'), 'utf8')) as Record<string, string>;
  Object.assign(process.env, env);
  return env;
}

export interface Harness {
  env: Record<string, string>; pool: Pool; admin: Pool; vault: VaultClient; dataKeys: DataKeyCache;
  temporal: Client; connection: Connection; app: FastifyInstance; hostId: string;
  /** Seals every payload like npm start does (STRATA_PAYLOAD_ENCRYPTION=off: undefined). */
  payloadCodec?: VaultPayloadCodec;
  close(): Promise<void>;
}

export async function startHarness(options: { workers?: boolean; hostId?: string } = {}): Promise<Harness> {
  const env = loadStackEnv();
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const pool = createAppPool(10);
  const admin = createAdminPool();
  const vault = new VaultClient(vaultSettings());
  const dataKeys = new DataKeyCache(vault);
  const payloadCodec = createPayloadCodec(vault);
  const dataConverter = dataConverterWith(payloadCodec);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
  const app = await buildApp({ pool, temporal, temporalConnection: connection, vault, payloadCodec, dataDir: TEST_DATA_DIR });
  const hostId = options.hostId ?? 'test-host';
  const running: { worker: Worker; done: Promise<void> }[] = [];
  let workerConnection: NativeConnection | undefined;
  if (options.workers !== false) {
    workerConnection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    const deps = { pool, vault, dataKeys };
    const central = await Worker.create({
      connection: workerConnection, taskQueue: CORE_TASK_QUEUE, namespace: env.TEMPORAL_NAMESPACE, dataConverter,
      workflowBundle: { codePath: join(TEST_DATA_DIR, 'workflow-bundle.js') }, activities: createActivities(deps),
    });
    const host = await Worker.create({
      connection: workerConnection, taskQueue: hostTaskQueue(hostId), namespace: env.TEMPORAL_NAMESPACE, dataConverter, activities: createHostActivities({ ...deps, hostId }),
    });
    for (const worker of [central, host]) running.push({ worker, done: worker.run() });
  }
  return {
    env, pool, admin, vault, dataKeys, temporal, connection, app, hostId, payloadCodec,
    async close() {
      for (const { worker } of running) worker.shutdown();
      await Promise.all(running.map((r) => r.done));
      await workerConnection?.close();
      await app.close();
      await connection.close();
      dataKeys.clear();
      payloadCodec?.keyring.clear();
      await pool.end();
      await admin.end();
    },
  };
}
