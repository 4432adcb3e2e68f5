// Opens the worker's connection to the Temporal server named by the settings.
import { NativeConnection } from '@temporalio/worker';
import { temporalSettings } from '../temporal-config/dev-server';

export async function connectWorker(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: NativeConnection; namespace: string }> {
  const settings = temporalSettings(env);
  const connection = await NativeConnection.connect({ address: settings.address });
  return { connection, namespace: settings.namespace };
}
