// Executing an approved sanitize report on real services: only the report's items are
// touched, each is re-checked (skipped with its reason when it changed), deletes stop
// at the run's limit, kill -9 of the host worker mid-execution does no item twice, and
// on a really tiered share a missing plan is re-queued and a re-warmed stub rehydrated.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUARANTINE_DIR } from '../../activities/sanitize-host';
import { statusQuery } from '../../workflows/sanitize.messages';
import { objectKey, targetUri } from '../../lib/target-uri';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTierFixture, type TierFixture } from '../support/tier-fixture';
import { buildTree, configureShare, contentOf, loadScan, makeRoots, planShare, scanRowsOf, startRun, tierRows, type TreeFile } from '../support/tiering-tree';
import { HostWorkerProcess, requireCurrentBuild } from '../support/tiering-worker';

jest.setTimeout(300_000);

let harness: Harness;
let tenant: TestTenant;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  requireCurrentBuild();
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  for (const [name, role] of [['olga', 'operator'], ['ann', 'approver'], ['bob', 'approver']]) tokens[name] = await issueTokenViaApi(harness.app, tenant, name, role);
});
afterAll(async () => harness.close());

const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  harness.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, payload });

async function waitForStatus(id: string, wanted: string[], pollMs = 250) {
  for (let i = 0; i < 60_000 / pollMs; i += 1) {
    const run = (await call(tokens.olga, 'GET', `/sanitize/${id}?limit=1000`)).json();
    if (wanted.includes(run.status)) return run;
    await sleep(pollMs);
  }
  throw new Error(`run ${id} never reached ${wanted.join('/')}`);
}

/** Puts an object on Tier-2 under the share's key for projects/<name>; returns its URI and path. */
function putObject(fixture: TierFixture, name: string, bytes: number): { uri: string; path: string } {
  const uri = targetUri(fixture.rootUri, objectKey(fixture.shareName, ['projects', name]));
  const path = join(fixture.tier2Root, uri.slice(fixture.rootUri.length + 1));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.alloc(bytes, 3));
  return { uri, path };
}

async function approveTwice(id: string, reportHash: string): Promise<void> {
  for (const who of ['ann', 'bob']) expect((await call(tokens[who], 'POST', `/sanitize/${id}/approvals`, { decision: 'approve', reportHash })).statusCode).toBe(200);
}

describe('sanitize execution', () => {
  it('executes exactly the approved report, re-checking each item and stopping deletes at the run limit', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const extra = [1, 2, 3].map((i) => putObject(fixture, `extra-${i}.bin`, 10 * i));
    const started = await call(tokens.olga, 'POST', '/sanitize', { share: fixture.shareName, orphanAction: 'delete', maxDeletes: 1 });
    const { id } = started.json() as { id: string };
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    expect(run.totals).toMatchObject({ ORPHAN: { items: 4 } });

    // Between the report and its execution: an orphan grows, another gains a tier object, a broken ref
    // is rehydrated, and a new object lands on Tier-2. None of them may be touched.
    appendFileSync(extra[2].path, 'grown');
    await harness.admin.query(`INSERT INTO tier_object (tenant_id, share_name, full_path, rel_path, dir_id, name, target_uri, size_bytes, atime_unix, mtime_unix, state, planned_by)
      SELECT tenant_id, share_name, full_path || '.claimed', rel_path || '.claimed', dir_id, name || '.claimed', $2, 20, 0, 0, 'PLANNED', 'test'
        FROM tier_object WHERE tenant_id = $1 AND share_name = $3 AND name = 'ok.txt'`, [tenant.tenantId, extra[1].uri, fixture.shareName]);
    await harness.admin.query(`UPDATE tier_object SET state = 'REHYDRATED' WHERE tenant_id = $1 AND share_name = $2 AND name = 'gone.txt'`, [tenant.tenantId, fixture.shareName]);
    const late = putObject(fixture, 'late.bin', 50);

    await approveTwice(id, run.reportHash);
    const done = await waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    const outcomes = Object.fromEntries(done.items.map((item: { targetUri: string; outcome: string; outcomeReason: string | null }) => [item.targetUri, [item.outcome, item.outcomeReason]]));
    expect(outcomes[extra[2].uri]).toEqual(['skipped', 'size changed since the report (35 bytes)']);
    expect(outcomes[extra[1].uri]).toEqual(['skipped', 'object is referenced by a tier object now']);
    expect(outcomes[fixture.uris.broken]).toEqual(['skipped', 'the tier object changed since the report']);
    const deletable = [fixture.uris.orphan, extra[0].uri];
    expect(deletable.map((uri) => outcomes[uri][0]).sort()).toEqual(['done', 'skipped']);
    expect(deletable.map((uri) => outcomes[uri][1]).filter(Boolean)).toEqual(['max-delete limit of 1 reached']);
    expect(deletable.map((uri) => existsSync(join(fixture.tier2Root, uri.slice(fixture.rootUri.length + 1)))).sort()).toEqual([false, true]);
    expect([extra[1].path, extra[2].path, late.path].every((path) => existsSync(path))).toBe(true);
    expect(existsSync(join(fixture.tier2Root, QUARANTINE_DIR))).toBe(false);
    expect(done.summary).toMatchObject({ outcome: 'COMPLETED', delete_orphan: { done: 1, skipped: 3, pending: 0 }, close_broken_ref: { done: 0, skipped: 1 } });
    const audited = await harness.admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND action = 'sanitize.delete_orphan' AND details->>'runId' = $2`, [tenant.tenantId, id]);
    expect(audited.rows[0].n).toBe(4);
  });

  it('quarantines every orphan exactly once across kill -9 of the host worker mid-execution', async () => {
    const hostId = 'sanitize-crash-host';
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, hostId);
    const orphans = Array.from({ length: 400 }, (_v, i) => putObject(fixture, `bulk/o-${String(i).padStart(3, '0')}.bin`, 1 + (i % 50)));
    const worker = new HostWorkerProcess(hostId, join(fixture.tier2Root, '..', `${hostId}-${Date.now()}.log`), {});
    worker.start();
    let kills = 0;
    try {
      const { id } = (await call(tokens.olga, 'POST', '/sanitize', { share: fixture.shareName, heartbeatTimeoutSeconds: 3 })).json() as { id: string };
      const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
      await approveTwice(id, run.reportHash);
      await waitForStatus(id, ['EXECUTING'], 20);
      for (; kills < 3; kills += 1) {
        await sleep(150 + kills * 200);
        const items = await harness.admin.query(`SELECT count(*) FILTER (WHERE outcome IS NOT NULL)::int AS n FROM sanitize_item WHERE run_id = $1`, [id]);
        if (items.rows[0].n >= orphans.length) break;
        await worker.kill9();
        worker.start();
      }
      const done = await waitForStatus(id, ['COMPLETED', 'FAILED']);
      expect(done.status).toBe('COMPLETED');
      expect(done.summary).toMatchObject({ quarantine_orphan: { done: orphans.length + 1, skipped: 0, pending: 0 } });
      const quarantined = readdirSync(join(fixture.tier2Root, QUARANTINE_DIR, id), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
      expect(quarantined).toHaveLength(orphans.length + 1);
      expect(orphans.filter((orphan) => existsSync(orphan.path))).toEqual([]);
      const audited = await harness.admin.query(`SELECT count(*)::int AS n, count(DISTINCT target)::int AS distinct_targets FROM audit_log
        WHERE tenant_id = $1 AND action = 'sanitize.quarantine_orphan' AND details->>'runId' = $2`, [tenant.tenantId, id]);
      expect(audited.rows[0]).toEqual({ n: orphans.length + 1, distinct_targets: orphans.length + 1 });
    } finally {
      await worker.stop();
    }
    expect(kills).toBeGreaterThanOrEqual(1);
  });

  it('on a tiered share, re-queues a plan whose copy was never made and rehydrates a re-warmed stub', async () => {
    const share = 'sanitize-tiered';
    const roots = makeRoots(share);
    const files: TreeFile[] = ['kept', 'warm', 'unacted'].map((name, i) => ({ relPath: `p/${name}.bin`, size: 700 + i, idleDays: 500 }));
    buildTree(roots.source, files);
    await loadScan(harness.pool, tenant.tenantId, share, scanRowsOf(roots.source, files));
    await configureShare(harness.app, tenant.adminToken, share, { hostId: harness.hostId, roots });
    const { planId } = await planShare(harness.app, harness.temporal, tenant.adminToken, share);
    const act = await startRun(harness.app, tenant.adminToken, `/api/v1/tiering/plans/${planId}/act`, { options: { maxFiles: 2 } });
    expect(await harness.temporal.workflow.getHandle(act.workflowId).result()).toMatchObject({ summary: { stubbed: 2 } });
    await harness.admin.query(`UPDATE tier_object SET rewarmed = true WHERE tenant_id = $1 AND share_name = $2 AND name = 'warm.bin'`, [tenant.tenantId, share]);

    const { id } = (await call(tokens.olga, 'POST', '/sanitize', { share })).json() as { id: string };
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    expect(run.items.map((item: { category: string; proposedAction: string; fullPath: string }) => [item.category, item.proposedAction, item.fullPath])).toEqual([
      ['MISSING', 'requeue_missing', join(roots.source, 'p/unacted.bin')], ['STALE', 'rehydrate_stale', join(roots.source, 'p/warm.bin')],
    ]);
    await approveTwice(id, run.reportHash);
    const done = await waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.items.map((item: { outcome: string }) => item.outcome)).toEqual(['done', 'done']);
    expect(readFileSync(join(roots.source, 'p/warm.bin'))).toEqual(contentOf(files[1]));
    const rows = await tierRows(harness.admin, tenant.tenantId, 'share_name = $2', [share]);
    expect(rows.map((row) => [row.rel_path, row.state, row.last_outcome])).toEqual([
      ['p/kept.bin', 'STUBBED', 'stubbed'], ['p/unacted.bin', 'PLANNED', 'REQUEUED'], ['p/warm.bin', 'REHYDRATED', 'rehydrated'],
    ]);
  });

  it('shows its execution progress in status, batch by batch', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    for (let i = 0; i < 1200; i += 1) putObject(fixture, `many/o-${i}.bin`, 1);
    const { id, workflowId } = (await call(tokens.olga, 'POST', '/sanitize', { share: fixture.shareName })).json() as { id: string; workflowId: string };
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    await approveTwice(id, run.reportHash);
    const handle = harness.temporal.workflow.getHandle(workflowId);
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i += 1) {
      const status = await handle.query(statusQuery);
      if (status.executed) seen.add(status.executed.done);
      if (status.outcome) break;
      await sleep(20);
    }
    expect([...seen].some((done) => done > 0 && done < 1201)).toBe(true);
    expect((await handle.query(statusQuery))).toMatchObject({ outcome: 'COMPLETED', executed: { done: 1201 + 3, skipped: 0 } });
    const batches = (await handle.fetchHistory()).events?.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'executeOrphanItems');
    expect(batches).toHaveLength(3);
  });
});
