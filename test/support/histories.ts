// Saves a finished workflow's history for the replay suite when
// STRATA_RECORD_HISTORIES=1; committed histories guard determinism.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { projectRoot } from '../../lib/paths';

export const HISTORIES_DIR = join(projectRoot(), 'test', 'replay', 'histories');

export async function maybeRecordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.STRATA_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}
