// Replays committed workflow histories against today's workflow code, so a change
// that would break running workflows (non-determinism) fails CI.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { HISTORIES_DIR } from '../support/histories';
import { TEST_DATA_DIR } from '../support/harness';

const files = readdirSync(HISTORIES_DIR).filter((name) => name.endsWith('.json')).sort();

describe('replay of committed histories', () => {
  it('has histories for the workflows that exist', () => {
    expect(files).toEqual(expect.arrayContaining(['onboardTenant.json', 'rotateTenantKey.json', 'sanitize-dry-run.json', 'sanitize-approved.json']));
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: join(TEST_DATA_DIR, 'workflow-bundle.js') } }, history, file);
  });
});
