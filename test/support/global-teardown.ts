// Stops what the global setup started.
import type { Stack } from '../../scripts/stack/stack';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { strataStack?: Stack }).strataStack?.stop();
}
