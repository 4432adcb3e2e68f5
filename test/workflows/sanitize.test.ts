// sanitize against real services and a real Tier-2 directory: every category is
// found, a dry run changes nothing, and destructive fixes need two approvers.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gateQuery } from '../../workflows/approvalGate.messages';
import { resolveTemporalCli } from '../../scripts/stack/binaries';
import { QUARANTINE_DIR } from '../../activities/sanitize-host';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildTierFixture, type TierFixture } from '../support/tier-fixture';
import { maybeRecordHistory } from '../support/histories';

let harness: Harness;
let tenant: TestTenant;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  for (const [name, role] of [['olga', 'operator'], ['ann', 'approver'], ['bob', 'approver'], ['vic', 'viewer']]) {
    tokens[name] = await issueTokenViaApi(harness.app, tenant, name, role);
  }
});
afterAll(async () => harness.close());

const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  harness.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, payload });

async function startRun(fixture: TierFixture, options: object = {}) {
  const response = await call(tokens.olga, 'POST', '/sanitize', { share: fixture.shareName, ...options });
  expect(response.statusCode).toBe(202);
  return response.json() as { id: string; workflowId: string };
}

async function waitForStatus(id: string, wanted: string[]) {
  for (let i = 0; i < 240; i += 1) {
    const run = (await call(tokens.olga, 'GET', `/sanitize/${id}`)).json();
    if (wanted.includes(run.status)) return run;
    await sleep(250);
  }
  throw new Error(`run ${id} never reached ${wanted.join('/')}`);
}

const tierStates = async (fixture: TierFixture) =>
  (await harness.admin.query('SELECT name, state, last_outcome FROM tier_object WHERE share_name = $1 ORDER BY name', [fixture.shareName])).rows;

describe('sanitize', () => {
  it('refuses a share without a tiering configuration before starting anything', async () => {
    const before = (await harness.admin.query('SELECT count(*)::int AS n FROM sanitize_run WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n;
    const response = await call(tokens.olga, 'POST', '/sanitize', { share: 'no-such-share' });
    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toContain('share no-such-share has no tiering configuration');
    expect((await harness.admin.query('SELECT count(*)::int AS n FROM sanitize_run WHERE tenant_id = $1', [tenant.tenantId])).rows[0].n).toBe(before);
  });

  it('fails, naming the host, when no worker of the share\'s host picks up the inventory', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, 'sanitize-host-not-connected');
    const { id } = await startRun(fixture, { dryRun: true, hostWaitSeconds: 2 });
    const run = await waitForStatus(id, ['DRY_RUN', 'FAILED']);
    expect(run).toMatchObject({ status: 'FAILED', summary: {
      outcome: 'FAILED', failure: 'host sanitize-host-not-connected did not pick up the work within 2 s: no strata host worker polls strata-host.sanitize-host-not-connected',
    } });
  });

  it('finds all four categories in a dry run, changes nothing, and serves the hashed CSV report', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const before = await tierStates(fixture);
    const { id, workflowId } = await startRun(fixture, { dryRun: true });
    const run = await waitForStatus(id, ['DRY_RUN', 'FAILED']);
    expect(run.status).toBe('DRY_RUN');
    expect(run.items.map((i: { category: string; proposedAction: string; targetUri: string }) => [i.category, i.proposedAction, i.targetUri])).toEqual([
      ['BROKEN_REF', 'close_broken_ref', fixture.uris.broken],
      ['MISSING', 'flag_missing', fixture.uris.missing],
      ['ORPHAN', 'quarantine_orphan', fixture.uris.orphan],
      ['STALE', 'unplan_stale', fixture.uris.stale],
    ]);
    expect(run.totals).toMatchObject({ ORPHAN: { items: 1, bytes: 300 }, MISSING: { items: 1, bytes: 100 } });
    expect(await tierStates(fixture)).toEqual(before);
    expect(existsSync(join(fixture.tier2Root, QUARANTINE_DIR))).toBe(false);
    const csv = await call(tokens.vic, 'GET', `/sanitize/${id}/report.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.body.split('\n')[0]).toBe('item_no,category,proposed_action,destructive,full_path,target_uri,size_bytes,tier_state');
    expect(createHash('sha256').update(csv.rawPayload).digest('hex')).toBe(run.reportHash);
    expect(csv.headers['x-report-hash']).toBe(run.reportHash);
    await maybeRecordHistory('sanitize-dry-run', harness.temporal.workflow.getHandle(workflowId));
  });

  it('needs two distinct approvers, neither the requester, each with the current hash; then executes the report', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const { id, workflowId } = await startRun(fixture);
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    const approve = (who: string, body: object) => call(tokens[who], 'POST', `/sanitize/${id}/approvals`, body);
    const hash = run.reportHash as string;

    expect((await approve('olga', { decision: 'approve', reportHash: hash })).statusCode).toBe(403);
    expect((await approve('vic', { decision: 'approve', reportHash: hash })).statusCode).toBe(403);
    const stale = await approve('ann', { decision: 'approve', reportHash: 'f'.repeat(64) });
    expect(stale.statusCode).toBe(422);
    expect(stale.json().detail).toMatch(/not the current report/);
    const first = await approve('ann', { decision: 'approve', reportHash: hash });
    expect(first.json()).toEqual({ status: 'PENDING', approvals: 1, required: 2 });
    const twice = await approve('ann', { decision: 'approve', reportHash: hash });
    expect(twice.statusCode).toBe(422);
    expect(twice.json().detail).toMatch(/already approved/);
    await sleep(500);
    expect((await waitForStatus(id, ['AWAITING_APPROVAL'])).status).toBe('AWAITING_APPROVAL');
    expect(existsSync(join(fixture.tier2Root, QUARANTINE_DIR))).toBe(false);

    const second = await approve('bob', { decision: 'approve', reportHash: hash });
    expect(second.json()).toEqual({ status: 'APPROVED', approvals: 2, required: 2 });
    const done = await waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.items.every((i: { outcome: string }) => i.outcome === 'done')).toBe(true);
    expect(existsSync(join(fixture.tier2Root, fixture.uris.orphan.slice(fixture.rootUri.length + 1)))).toBe(false);
    expect(readdirSync(join(fixture.tier2Root, QUARANTINE_DIR, id), { recursive: true })).toEqual(expect.arrayContaining([expect.stringMatching(/orphan\.bin$/)]));
    expect(await tierStates(fixture)).toEqual([
      { name: 'gone.txt', state: 'DELETED', last_outcome: 'SOURCE_GONE' },
      { name: 'm.txt', state: 'STUBBED', last_outcome: 'MISSING_ON_TIER2' },
      { name: 'ok.txt', state: 'STUBBED', last_outcome: null },
    ]);
    const audit = await harness.admin.query(`SELECT action, actor FROM audit_log WHERE tenant_id = $1 AND target = $2 ORDER BY seq`, [tenant.tenantId, `sanitize/${id}`]);
    expect(audit.rows).toEqual([
      { action: 'approval.refused', actor: 'ann' }, { action: 'approval.granted', actor: 'ann' },
      { action: 'approval.refused', actor: 'ann' }, { action: 'approval.granted', actor: 'bob' },
    ]);
    const action = await harness.admin.query(`SELECT a.status, array_agg(e.to_status ORDER BY e.id) AS events FROM action a JOIN action_event e ON e.action_id = a.id
      WHERE a.subject = $1 GROUP BY a.status`, [id]);
    expect(action.rows).toEqual([{ status: 'completed', events: ['in_progress', 'completed'] }]);
    await maybeRecordHistory('sanitize-approved-batched', harness.temporal.workflow.getHandle(workflowId));
  });

  it('ends REJECTED with nothing changed when an approver rejects', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const before = await tierStates(fixture);
    const { id } = await startRun(fixture);
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    const reject = await call(tokens.bob, 'POST', `/sanitize/${id}/approvals`, { decision: 'reject', reportHash: run.reportHash, reason: 'not now' });
    expect(reject.json().status).toBe('REJECTED');
    expect((await waitForStatus(id, ['REJECTED'])).items.every((i: { outcome: string | null }) => i.outcome === null)).toBe(true);
    expect(await tierStates(fixture)).toEqual(before);
    expect(existsSync(join(fixture.tier2Root, QUARANTINE_DIR))).toBe(false);
  });

  it('expires without quorum by the deadline', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const { id } = await startRun(fixture, { approvalDeadlineHours: 3 / 3600 });
    await waitForStatus(id, ['AWAITING_APPROVAL']);
    const expired = await waitForStatus(id, ['EXPIRED']);
    expect(expired.summary).toEqual({ outcome: 'EXPIRED' });
    expect(existsSync(join(fixture.tier2Root, QUARANTINE_DIR))).toBe(false);
    const audit = await harness.admin.query(`SELECT actor, details FROM audit_log WHERE tenant_id = $1 AND action = 'approval.expired' AND target = $2`, [tenant.tenantId, `sanitize/${id}`]);
    expect(audit.rows).toEqual([{ actor: 'strata', details: expect.objectContaining({ approvals: 0, required: 2 }) }]);
  });

  it('keeps one unfinished run per share: a second start is refused naming the first, and a run whose workflow was terminated is closed by the next', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const first = await startRun(fixture);
    const pending = await waitForStatus(first.id, ['AWAITING_APPROVAL']);
    const refused = await call(tokens.olga, 'POST', '/sanitize', { share: fixture.shareName });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain(`unfinished sanitize run ${first.id} (AWAITING_APPROVAL)`);
    await harness.temporal.workflow.getHandle(first.workflowId).terminate('test: an operator ended it by hand');
    const second = await startRun(fixture);
    const closed = await waitForStatus(first.id, ['FAILED']);
    expect(closed.summary).toEqual({ failure: 'its workflow ended without finishing the run' });
    const next = await waitForStatus(second.id, ['AWAITING_APPROVAL']);
    expect(next.reportHash).toBe(pending.reportHash);
    expect((await call(tokens.ann, 'POST', `/sanitize/${second.id}/approvals`, { decision: 'reject', reportHash: next.reportHash, reason: 'test over' })).statusCode).toBe(200);
  });

  it('executes a report with nothing destructive in it without waiting for approvals', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    unlinkSync(join(fixture.tier2Root, fixture.uris.orphan.slice(fixture.rootUri.length + 1)));
    const { id } = await startRun(fixture);
    const done = await waitForStatus(id, ['COMPLETED', 'FAILED', 'AWAITING_APPROVAL']);
    expect(done.status).toBe('COMPLETED');
    expect(done.totals.ORPHAN).toBeUndefined();
    expect(done.items.map((item: { proposedAction: string; outcome: string }) => [item.proposedAction, item.outcome]).sort())
      .toEqual([['close_broken_ref', 'done'], ['flag_missing', 'done'], ['unplan_stale', 'done']]);
  });

  it('gives a run 72 hours for approvals by default, and refuses an approval from the admin who requested it, saying why, audited', async () => {
    tokens.ada ??= await issueTokenViaApi(harness.app, tenant, 'ada', 'admin');
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const started = await call(tokens.ada, 'POST', '/sanitize', { share: fixture.shareName });
    expect(started.statusCode).toBe(202);
    const { id } = started.json() as { id: string };
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    const hoursLeft = (Date.parse(run.live.gate.deadline) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(71.9);
    expect(hoursLeft).toBeLessThanOrEqual(72);
    const own = await call(tokens.ada, 'POST', `/sanitize/${id}/approvals`, { decision: 'approve', reportHash: run.reportHash });
    expect(own.statusCode).toBe(422);
    expect(own.json().detail).toMatch(/requester of a run may not approve it/);
    const refused = await harness.admin.query(`SELECT actor, details FROM audit_log WHERE tenant_id = $1 AND action = 'approval.refused' AND target = $2`, [tenant.tenantId, `sanitize/${id}`]);
    expect(refused.rows).toEqual([expect.objectContaining({ actor: 'ada' })]);
    expect((await call(tokens.ann, 'POST', `/sanitize/${id}/approvals`, { decision: 'reject', reportHash: run.reportHash, reason: 'test over' })).statusCode).toBe(200);
    expect((await waitForStatus(id, ['REJECTED'])).status).toBe('REJECTED');
  });

  it('takes approvals as signals from the temporal CLI, recording invalid ones and ignoring them', async () => {
    const fixture = await buildTierFixture(harness.admin, tenant.tenantId, harness.hostId);
    const { id, workflowId } = await startRun(fixture);
    const run = await waitForStatus(id, ['AWAITING_APPROVAL']);
    const signal = (payload: object) => execFileSync(resolveTemporalCli(), ['workflow', 'signal', '--workflow-id', workflowId, '--name', 'approve',
      '--input', JSON.stringify(payload), '--address', harness.env.TEMPORAL_ADDRESS, '--namespace', harness.env.TEMPORAL_NAMESPACE]);
    signal({ approver: 'olga', role: 'approver', reportHash: run.reportHash });
    signal({ approver: 'vic', role: 'approver', reportHash: run.reportHash });
    signal({ approver: 'ann', role: 'approver', reportHash: run.reportHash });
    const handle = harness.temporal.workflow.getHandle(workflowId);
    for (let i = 0; i < 40 && (await handle.query(gateQuery)).approvals.length < 1; i += 1) await sleep(250);
    const gate = await handle.query(gateQuery);
    expect(gate.approvals.map((a) => a.approver)).toEqual(['ann']);
    expect(gate.refusals.map((r) => [r.approver, r.via])).toEqual([['olga', 'signal'], ['vic', 'signal']]);
    expect(gate.refusals[1].reason).toMatch(/does not hold role approver/);
    const refusedSignals = await harness.admin.query(`SELECT actor, details->>'via' AS via FROM audit_log WHERE tenant_id = $1 AND action = 'approval.refused' AND target = $2 ORDER BY seq`,
      [tenant.tenantId, `sanitize/${id}`]);
    expect(refusedSignals.rows).toEqual([{ actor: 'olga', via: 'signal' }, { actor: 'vic', via: 'signal' }]);
    const pending = await waitForStatus(id, ['AWAITING_APPROVAL']);
    expect(pending.live.gate).toMatchObject({ status: 'PENDING', approvals: [{ approver: 'ann' }], refusals: [{ approver: 'olga', via: 'signal' }, { approver: 'vic', via: 'signal' }] });
    signal({ approver: 'bob', role: 'approver', reportHash: run.reportHash });
    expect((await waitForStatus(id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
  });
});
