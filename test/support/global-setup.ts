// Starts the real stack for the test run (or uses the external services the
// environment names), bundles the workflows once, and shares the settings.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startStack, type Stack } from '../../scripts/stack/stack';
import { FAILURE_CONVERTER_PATH, payloadEncryptionEnabled } from '../../temporal-config/payload-encryption';

export default async function globalSetup(): Promise<void> {
  const stack = await startStack('test');
  (globalThis as { strataStack?: Stack }).strataStack = stack;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'), logger: quietLogger,
    failureConverterPath: payloadEncryptionEnabled() ? FAILURE_CONVERTER_PATH : undefined,
  });
  writeFileSync(join(stack.dataDir, 'workflow-bundle.js'), code);
  writeFileSync(join(stack.dataDir, 'env.json'), JSON.stringify(stack.env));
}

const quietLogger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (message: string) => console.warn(message), error: (message: string) => console.error(message),
};
