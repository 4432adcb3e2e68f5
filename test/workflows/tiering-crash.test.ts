// kill -9 of the host worker process at random points of an act or rehydrate run, many
// times: after every kill and at the end, no file is lost and no stub lacks its copy;
// the run completes with every file stubbed (or restored) and no temp file left behind.
import { lstatSync, readdirSync } from 'node:fs';
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

/** Kills the host worker at random moments of a run (checking no file is lost after each kill) until it ends; how many kills landed. */
async function killDuring(workflowId: string, worker: HostWorkerProcess, next: () => number, kills: number, roots: Roots, files: TreeFile[]): Promise<{ result: unknown; killed: number }> {
  let finished = false;
  let killed = 0;
  const result = harness.temporal.workflow.getHandle(workflowId).result().finally(() => { finished = true; });
  while (killed < kills && !finished) {
    await new Promise((resolve) => setTimeout(resolve, 300 + next() * 2500));
    if (finished) break;
    await worker.kill9();
    killed++;
    assertNothingLost(roots, files);
    worker.start();
  }
  return { result: await result, killed };
}

interface CrashedShare { roots: Roots; planId: string; hostId: string; killed: number }

async function crashRun(label: string, seed: number, kills: number, files: TreeFile[], options: Record<string, unknown>): Promise<CrashedShare> {
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
  let killed: number;
  try {
    const outcome = await killDuring(run.workflowId, worker, next, kills, roots, files);
    killed = outcome.killed;
    expect(outcome.result).toMatchObject({ status: 'completed', summary: { stubbed: files.length, failed: 0, skipped: 0 } });
  } finally {
    await worker.stop();
  }
  expect(assertNothingLost(roots, files)).toEqual({ stubs: files.length, originals: 0 });
  const rows = await tierRows(harness.admin, tenant.tenantId, 'share_name = $2', [label]);
  expect(rows.every((row) => row.state === 'STUBBED')).toBe(true);
  expect(leftovers(roots)).toEqual([]);
  return { roots, planId, hostId, killed };
}

const tree = (count: number, size: (i: number) => number): TreeFile[] =>
  Array.from({ length: count }, (_v, i) => ({ relPath: `d${i % 7}/sub ${i % 3}/file-${i}.bin`, size: size(i), idleDays: 400 + (i % 50) }));

describe('kill -9 of the host worker during act', () => {
  it('never loses a file across many kills of a paced run (small files, every phase of a wave)', async () => {
    const { killed } = await crashRun('crash-paced', 11, 6, tree(400, (i) => 1 + ((i * 7919) % 6000)), { pacing: { filesPerSecond: 40 }, waveSize: 16 });
    expect(killed).toBe(6);
  });

  it('never loses a file across many kills of an unpaced run of larger files (kills land mid-copy)', async () => {
    const { killed } = await crashRun('crash-big', 23, 5, tree(120, (i) => 200_000 + ((i * 104_729) % 3_000_000)), { waveSize: 8, batchSize: 40 });
    expect(killed).toBeGreaterThanOrEqual(2);
  });
});

describe('kill -9 of the host worker during rehydrate', () => {
  it('restores every stub from its verified copy across many kills, with its times, and leaves no temp file', async () => {
    const files = tree(300, (i) => 1 + ((i * 7919) % 6000));
    const { roots, planId, hostId } = await crashRun('crash-rehydrate', 37, 0, files, { waveSize: 32 });
    const pathOf = (file: TreeFile) => join(roots.source, file.relPath);
    // Stubs keep their file's times; the restored files must have them too.
    const stubTimes = new Map(files.map((file) => [file.relPath, lstatSync(pathOf(file), { bigint: true }).mtimeNs]));
    const worker = new HostWorkerProcess(hostId, join(roots.base, 'host-worker-rehydrate.log'), { STRATA_TIER_THREADS: '2' });
    worker.start();
    const run = await startRun(harness.app, tenant.adminToken, '/api/v1/tiering/rehydrate',
      { planId, options: { heartbeatTimeoutSeconds: 5, pacing: { filesPerSecond: 50 }, waveSize: 16 } });
    try {
      const { result, killed } = await killDuring(run.workflowId, worker, random(41), 4, roots, files);
      expect(killed).toBe(4);
      expect(result).toMatchObject({ status: 'completed', summary: { rehydrated: files.length, failed: 0, skipped: 0 } });
    } finally {
      await worker.stop();
    }
    expect(assertNothingLost(roots, files)).toEqual({ stubs: 0, originals: files.length });
    expect(files.filter((file) => {
      const st = lstatSync(pathOf(file), { bigint: true });
      return st.size !== BigInt(file.size) || st.mtimeNs !== stubTimes.get(file.relPath);
    })).toEqual([]);
    const rows = await tierRows(harness.admin, tenant.tenantId, 'share_name = $2', ['crash-rehydrate']);
    expect(rows.map((row) => row.state)).toEqual(files.map(() => 'REHYDRATED'));
    expect(leftovers(roots)).toEqual([]);
  });
});
