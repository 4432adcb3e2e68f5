// Host worker: runs on a file server and serves strata-host.<hostId>, doing the
// filesystem work on that server's own disks.
import { hostname } from 'node:os';
import { Worker } from '@temporalio/worker';
import { createHostActivities } from '../activities/host';
import { hostTaskQueue } from '../temporal-config/task-queues';
import { workerTuning } from '../temporal-config/worker-tuning';
import { connectWorker } from './connection';
import { buildDeps } from './deps';
import { createPayloadCodec, dataConverterWith } from '../temporal-config/payload-encryption';

export function hostIdFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.STRATA_HOST_ID ?? hostname().toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

export async function createHostWorker(env: NodeJS.ProcessEnv = process.env) {
  const deps = buildDeps(env);
  const hostId = hostIdFromEnv(env);
  const { connection, namespace } = await connectWorker(env);
  const codec = createPayloadCodec(deps.vault, env);
  const worker = await Worker.create({
    connection, namespace, taskQueue: hostTaskQueue(hostId), dataConverter: dataConverterWith(codec),
    activities: createHostActivities({ ...deps, hostId }),
    ...workerTuning(env),
  });
  return { worker, hostId, async close() { await connection.close(); await deps.close(); codec?.keyring.clear(); } };
}

if (require.main === module) {
  createHostWorker().then(async ({ worker, close }) => {
    await worker.run();
    await close();
  }).catch((error) => { console.error(error); process.exit(1); });
}
