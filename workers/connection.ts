// Opens the worker's connection to the Temporal server named by the settings. A
// worker that starts while the server is restarting waits for it instead of exiting
// (found by the chaos run); it gives up after STRATA_TEMPORAL_CONNECT_SECONDS (300).
import { NativeConnection } from '@temporalio/worker';
import { temporalSettings } from '../temporal-config/dev-server';

export async function connectWorker(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: NativeConnection; namespace: string }> {
  const settings = temporalSettings(env);
  const connection = await connectPatiently(settings.address, Number(env.STRATA_TEMPORAL_CONNECT_SECONDS ?? '300') * 1000);
  return { connection, namespace: settings.namespace };
}

async function connectPatiently(address: string, giveUpAfterMs: number): Promise<NativeConnection> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await NativeConnection.connect({ address });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      const waitMs = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
      console.warn(`[worker] Temporal at ${address} is not reachable (${(error as Error).message}); retrying in ${waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
