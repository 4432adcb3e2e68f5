// Central worker: all workflows plus the Postgres and Vault activities.
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { CORE_TASK_QUEUE } from '../temporal-config/task-queues';
import { workerTuning } from '../temporal-config/worker-tuning';
import { buildDeps } from './deps';
import { connectWorker } from './connection';
import { createPayloadCodec, dataConverterWith } from '../temporal-config/payload-encryption';

export async function createCentralWorker(env: NodeJS.ProcessEnv = process.env) {
  const deps = buildDeps(env);
  const { connection, namespace } = await connectWorker(env);
  const codec = createPayloadCodec(deps.vault, env);
  const worker = await Worker.create({
    connection, namespace, taskQueue: CORE_TASK_QUEUE, dataConverter: dataConverterWith(codec),
    // A prebuilt bundle (bundleWorkflowCode) lets a restarted worker skip bundling.
    ...(env.STRATA_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: env.STRATA_WORKFLOW_BUNDLE } } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(deps),
    ...workerTuning(env),
  });
  return { worker, async close() { await connection.close(); await deps.close(); codec?.keyring.clear(); } };
}

if (require.main === module) {
  createCentralWorker().then(async ({ worker, close }) => {
    await worker.run();
    await close();
  }).catch((error) => { console.error(error); process.exit(1); });
}
