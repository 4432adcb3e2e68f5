// kill -9 of the host worker process at random points of an act run, many times:
// after every kill and at the end, no file is lost and no stub lacks its copy; the
// run completes with every planned file stubbed and no temp file left behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import {
  assertNothingLost, buildTree, configureShare, loadScan, makeRoots, planShare, scanRowsOf, startRun, tierRows, type Roots, type TreeFile,
} from '../support/tiering-tree';
import { HostWorkerProcess, requireCurrentBuild } from '../support/tiering-worker';

jest.setTimeout(600_000);

let harness: Harness;
let tenant: TestTenant;

beforeAll(async () => {
  requireCurrentBuild();
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
});
afterAll(async () => harness.close());

/** Deterministic pseudo-random numbers, so a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
}

function leftovers(roots: Roots): string[] {
  const all = [...readdirSync(roots.source, { recursive: true }), ...readdirSync(roots.target, { recursive: true })].map(String);
  return all.filter((name) => name.includes('strata-stub~tmp') || name.includes('strata-restore~tmp') || name.endsWith('~strata-part'));
}

async function crashRun(label: string, seed: number, kills: number, files: TreeFile[], options: Record<string, unknown>): Promise<number> {
  const next = random(seed);
  const roots = makeRoots(label);
  const hostId = `${label}-${seed}`;
  buildTree(roots.source, files);
  await loadScan(harness.pool, tenant.tenantId, label, scanRowsOf(roots.source, files));
  await configureShare(harness.app, tenant.adminToken, label, { hostId, roots });
  const { planId } = await planShare(harness.app, harness.temporal, tenant.adminToken, label);
  const worker = new HostWorkerProcess(hostId, join(roots.base, 'host-worker.log'), { STRATA_TIER_THREADS: '2' });
  worker.start();
  const run = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options: { heartbeatTimeoutSeconds: 5, ...options } });
  const handle = harness.temporal.workflow.getHandle(run.workflowId);
  let finished = false;
  let killed = 0;
  const result = handle.result().finally(() => { finished = true; });
  try {
    while (killed < kills && !finished) {
      await new Promise((resolve) => setTimeout(resolve, 300 + next() * 2500));
      if (finished) break;
      await worker.kill9();
      killed++;
      assertNothingLost(roots, files);
      worker.start();
    }
    expect(await result).toMatchObject({ status: 'completed', summary: { stubbed: files.length, failed: 0, skipped: 0 } });
  } finally {
    await worker.stop();
  }
  expect(assertNothingLost(roots, files)).toEqual({ stubs: files.length, originals: 0 });
  const rows = await tierRows(harness.admin, tenant.tenantId, 'share_name = $2', [label]);
  expect(rows.every((row) => row.state === 'STUBBED')).toBe(true);
  expect(leftovers(roots)).toEqual([]);
  return killed;
}

const tree = (count: number, size: (i: number) => number): TreeFile[] =>
  Array.from({ length: count }, (_v, i) => ({ relPath: `d${i % 7}/sub ${i % 3}/file-${i}.bin`, size: size(i), idleDays: 400 + (i % 50) }));

describe('kill -9 of the host worker during act', () => {
  it('never loses a file across many kills of a paced run (small files, every phase of a wave)', async () => {
    const killed = await crashRun('crash-paced', 11, 6, tree(400, (i) => 1 + ((i * 7919) % 6000)), { pacing: { filesPerSecond: 40 }, waveSize: 16 });
    expect(killed).toBe(6);
  });

  it('never loses a file across many kills of an unpaced run of larger files (kills land mid-copy)', async () => {
    const killed = await crashRun('crash-big', 23, 5, tree(120, (i) => 200_000 + ((i * 104_729) % 3_000_000)), { waveSize: 8, batchSize: 40 });
    expect(killed).toBeGreaterThanOrEqual(2);
  });
});
