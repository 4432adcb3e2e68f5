// Saves a finished workflow's history for the replay suite when
// STRATA_RECORD_HISTORIES=1, exported by the Temporal CLI in its JSON format;
// committed histories guard determinism.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { projectRoot } from '../../lib/paths';
import { resolveTemporalCli } from '../../scripts/stack/binaries';

export const HISTORIES_DIR = join(projectRoot(), 'test', 'replay', 'histories');

export async function maybeRecordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.STRATA_RECORD_HISTORIES !== '1') return;
  const json = execFileSync(resolveTemporalCli(), ['workflow', 'show', '--workflow-id', handle.workflowId,
    '--address', process.env.TEMPORAL_ADDRESS ?? '', '--namespace', process.env.TEMPORAL_NAMESPACE ?? 'default', '--output', 'json'],
  { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), json);
}
