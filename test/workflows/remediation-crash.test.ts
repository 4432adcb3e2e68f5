// Remediation across a host worker crash: the host worker runs in its own process
// (dist/ must be built, as `npm test` does) and is killed with SIGKILL in the middle of
// the apply phase. A new worker of the same host resumes the batch: every file ends
// either fully remediated (access and default ACL) or, after a cancel, fully restored
// to the snapshot, so `getfacl -R` is identical to before. No file is left half-done.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { spawnHostWorker, waitForPoller } from '../support/index-fixtures';
import { hostTaskQueue } from '../../temporal-config/task-queues';
import { cancelSignal } from '../../workflows/remediation.messages';
import {
  bearer, getfaclOf, getfaclTree, indexVolume, makeFiles, planViaApi, setfacl, waitFor, waitForStatus,
} from '../support/remediation-fixtures';

const HOST = 'crash-host';
let harness: Harness;
let tenant: TestTenant;
let work: string;
const children: ChildProcess[] = [];
const tokens: Record<string, string> = {};

async function startWorker(): Promise<ChildProcess> {
  const child = spawnHostWorker(harness.env, HOST);
  children.push(child);
  await waitForPoller(harness.temporal, hostTaskQueue(HOST));
  return child;
}

/** 1,500 world-readable files with a named user, and 30 directories whose default ACLs change too. */
function buildTree(root: string): void {
  for (let d = 0; d < 30; d += 1) {
    const dir = join(root, `d${String(d).padStart(2, '0')}`);
    setfacl(['-m', 'u:1001:r'], makeFiles(dir, 50, 0o644));
    setfacl(['-d', '-m', 'u:1001:rx,o::rx'], [dir]);
  }
}

async function startRun(root: string): Promise<{ id: string; workflowId: string }> {
  const id = await planViaApi(harness.app, tokens.op, {
    scope: { host: HOST, pathPrefix: root },
    policy: { remove: ['other', 'user:1001'], add: [{ principal: 'group:3000', access: 'r' }] },
    options: { maxFilesPerSecond: 300, batchSize: 400, parallelism: 2, heartbeatTimeoutSeconds: 3 },
  });
  const planned = await waitForStatus(harness.app, tokens.op, id, ['AWAITING_APPROVAL']);
  const approved = await harness.app.inject({ method: 'POST', url: `/api/v1/remediation/${id}/execute`, headers: bearer(tokens.ap), payload: { reportHash: planned.reportHash } });
  expect(approved.statusCode).toBe(200);
  return { id, workflowId: planned.workflowId };
}

async function killMidApply(id: string, worker: ChildProcess): Promise<number> {
  const applied = await waitFor(async () => {
    const rows = await harness.admin.query(`SELECT count(*)::int AS n FROM remediation_item WHERE run_id = $1 AND outcome = 'applied'`, [id]);
    return rows.rows[0].n >= 150 ? rows.rows[0].n : undefined;
  }, 'the apply phase to be under way');
  worker.kill('SIGKILL');
  await new Promise((resolve) => worker.once('exit', resolve));
  return applied;
}

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  tokens.op = await issueTokenViaApi(harness.app, tenant, 'op', 'operator');
  tokens.ap = await issueTokenViaApi(harness.app, tenant, 'ap', 'approver');
  work = mkdtempSync(join(tmpdir(), 'strata-remediation-crash-'));
  buildTree(join(work, 'vol', 'complete'));
  buildTree(join(work, 'vol', 'cancel'));
  setfacl(['-m', 'u:1001:r'], makeFiles(join(work, 'vol', 'unhosted'), 20, 0o644));
  await startWorker();
  await indexVolume(harness.app, harness.temporal, tenant.adminToken, HOST, join(work, 'vol'));
}, 180_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await harness.temporal.schedule.getHandle(`drift/${tenant.code}`).delete().catch(() => undefined);
  await harness.close();
  rmSync(work, { recursive: true, force: true });
});

describe('remediation across a kill -9 of the host worker', () => {
  it('completes after the crash with every file fully on its target', async () => {
    const root = join(work, 'vol', 'complete');
    const { id } = await startRun(root);
    const appliedAtKill = await killMidApply(id, children[children.length - 1]);
    expect(appliedAtKill).toBeLessThan(1_530);
    await startWorker();
    const done = await waitForStatus(harness.app, tokens.op, id, ['COMPLETED', 'FAILED', 'ROLLED_BACK'], 180_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.counters).toMatchObject({ items: 1_531, verified: 1_531, failed: 0, skippedChanged: 0, pending: 0 });
    expect(done.counters.applied + done.counters.already).toBe(1_531);
    for (let d = 0; d < 30; d += 1) {
      const dir = join(root, `d${String(d).padStart(2, '0')}`);
      const acl = getfaclOf(dir);
      expect([acl.includes('default:group:3000:r--'), acl.includes('default:other::---'), acl.includes('user:1001'), acl.includes('other::---')]).toEqual([true, true, false, true]);
      for (const file of [0, 17, 49]) expect(getfaclOf(join(dir, `f${String(file).padStart(5, '0')}`))).toBe('user::rw-\ngroup::r--\ngroup:3000:r--\nmask::r--\nother::---');
    }
  });

  it('rolls back after the crash and a cancel, leaving getfacl -R as before', async () => {
    const root = join(work, 'vol', 'cancel');
    const before = getfaclTree(root);
    const { id, workflowId } = await startRun(root);
    await killMidApply(id, children[children.length - 1]);
    await harness.temporal.workflow.getHandle(workflowId).signal(cancelSignal, { by: 'test', reason: 'crash drill' });
    await startWorker();
    const done = await waitForStatus(harness.app, tokens.op, id, ['ROLLED_BACK', 'FAILED', 'COMPLETED'], 180_000);
    expect([done.status, done.statusReason]).toEqual(['ROLLED_BACK', expect.stringContaining('cancelled by test: crash drill')]);
    expect(done.counters.rollbackFailed + done.counters.rollbackConflicts).toBe(0);
    expect(getfaclTree(root)).toBe(before);
    expect(done.action.status).toBe('rolled_back');
  });

  it('fails before touching a file, naming the host, when no worker of the host picks the run up', async () => {
    const root = join(work, 'vol', 'unhosted');
    const before = getfaclTree(root);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    const id = await planViaApi(harness.app, tokens.op, {
      scope: { host: HOST, pathPrefix: root }, policy: { remove: ['other', 'user:1001'] }, options: { hostWaitSeconds: 2 },
    });
    const planned = await waitForStatus(harness.app, tokens.op, id, ['AWAITING_APPROVAL']);
    const approved = await harness.app.inject({ method: 'POST', url: `/api/v1/remediation/${id}/execute`, headers: bearer(tokens.ap), payload: { reportHash: planned.reportHash } });
    expect(approved.statusCode).toBe(200);
    const done = await waitForStatus(harness.app, tokens.op, id, ['FAILED', 'COMPLETED', 'ROLLED_BACK'], 120_000);
    expect([done.status, done.statusReason]).toEqual(['FAILED', expect.stringContaining(
      `host ${HOST} did not pick up the work within 2 s: no strata host worker polls strata-host.${HOST}`)]);
    expect(getfaclTree(root)).toBe(before);
  });
});
