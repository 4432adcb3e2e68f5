// Saves a finished workflow's history for the replay suite when
// STRATA_RECORD_HISTORIES=1, exported by the Temporal CLI in its JSON format;
// committed histories guard determinism. Payloads are stored decoded: the test
// stack's Vault (and its payload key) is gone after the run.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { projectRoot } from '../../lib/paths';
import { resolveTemporalCli } from '../../scripts/stack/binaries';
import { decodeJsonPayloads } from '../../lib/payload-json';
import { VaultClient, vaultSettings } from '../../lib/vault-client';
import { createPayloadCodec } from '../../temporal-config/payload-encryption';

export const HISTORIES_DIR = join(projectRoot(), 'test', 'replay', 'histories');

export async function maybeRecordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.STRATA_RECORD_HISTORIES !== '1') return;
  const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', handle.workflowId,
    '--address', process.env.TEMPORAL_ADDRESS ?? '', '--namespace', process.env.TEMPORAL_NAMESPACE ?? 'default', '--output', 'json'],
  { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const codec = createPayloadCodec(new VaultClient(vaultSettings()));
  const history = codec ? await decodeJsonPayloads(JSON.parse(json), codec) : JSON.parse(json);
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), `${JSON.stringify(history, null, 2)}\n`);
}
