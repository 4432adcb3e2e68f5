// Delta sync: change events (api and host watcher) keep a bootstrapped index equal to
// the tree on disk, including a directory moved with its subtree; applying the
// same events again changes nothing.
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { comparable, comparableRows, expectedEntries, indexedRows } from '../support/index-fixtures';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';
import { changesSignal, indexSyncWorkflowId, indexWatchWorkflowId, statusQuery, type ChangeEvent, type IndexSyncInput, type IndexWatchInput } from '../../workflows/indexSync.messages';
import type { BootstrapIndexResult } from '../../workflows/bootstrapIndex.messages';

let harness: Harness;
let tenant: TestTenant;
let work: string;
let volume: string;
let scanId: number;
let sent = 0;
const p = (relative: string) => join(volume, relative);

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  work = mkdtempSync(join(tmpdir(), 'strata-sync-'));
  volume = join(work, 'vol');
  for (const dir of ['projects/alpha/src/lib', 'projects/beta', 'archive', 'shared']) mkdirSync(p(dir), { recursive: true });
  for (const file of ['projects/alpha/README', 'projects/alpha/src/main.c', 'projects/alpha/src/lib/util.c', 'projects/beta/notes.txt', 'projects/beta/todo.txt', 'shared/old.txt']) {
    writeFileSync(p(file), file, { mode: 0o640 });
  }
  writeFileSync(join(work, 'smb.conf'), `[shared]\npath = ${volume}/shared\n[projects]\npath = ${volume}/projects\n`);
  const response = await post('/api/v1/index/bootstrap', {
    hostId: harness.hostId, volume, shareSources: { smbConfPath: join(work, 'smb.conf'), exportsPath: null, exportsDir: null },
  });
  const result: BootstrapIndexResult = await harness.temporal.workflow.getHandle(response.json().id).result();
  scanId = result.scanId;
}, 120_000);

afterAll(async () => {
  await harness.close();
  rmSync(work, { recursive: true, force: true });
});

function post(url: string, payload: object) {
  return harness.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tenant.adminToken}` }, payload });
}

/** Sends events through the api and waits until indexSync has applied them. */
async function sendAndWait(events: ChangeEvent[]): Promise<void> {
  const response = await post('/api/v1/index/changes', { hostId: harness.hostId, volume, events });
  expect(response.statusCode).toBe(202);
  sent += events.length;
  const handle = harness.temporal.workflow.getHandle(response.json().workflowId);
  for (let status = await handle.query(statusQuery); !(status.received >= sent && status.queued === 0 && status.phase === 'idle'); status = await handle.query(statusQuery)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const done = await handle.query(statusQuery);
  expect({ failed: done.failed, errors: done.lastErrors }).toEqual({ failed: 0, errors: [] });
}

async function indexState() {
  const rows = await indexedRows(harness.admin, scanId);
  const stats = await harness.admin.query('SELECT dir_ref, files, dirs, bytes, world_files FROM index_dir_stats WHERE scan_id = $1 ORDER BY dir_ref', [scanId]);
  const shares = await harness.admin.query('SELECT name, file_count, world_files, total_bytes FROM share WHERE tenant_id = $1 ORDER BY name', [tenant.tenantId]);
  return { rows, stats: stats.rows, shares: shares.rows };
}

function onDiskTotals(dir: string) {
  const below = [...expectedEntries(volume).values()].filter((e) => e.path.startsWith(`${dir}/`));
  const files = below.filter((e) => !e.isDir);
  return {
    files: files.length, dirs: below.length - files.length, bytes: files.reduce((sum, e) => sum + e.size, 0),
    world_files: files.filter((e) => (e.mode & 0o004) !== 0).length,
  };
}

describe('delta sync of a bootstrapped index', () => {
  const events = (): ChangeEvent[] => [
    { type: 'create', path: p('shared/new.txt') },
    { type: 'modify', path: p('projects/beta/notes.txt') },
    { type: 'attrib', path: p('shared/old.txt') },
    { type: 'attrib', path: p('archive/alpha-2024/README') },
    { type: 'rename', oldPath: p('projects/alpha'), path: p('archive/alpha-2024') },
    { type: 'create', path: p('shared/incoming') },
    { type: 'delete', path: p('projects/beta/todo.txt') },
  ];

  it('applies create, modify, attrib and ACL changes, delete, a directory move and a new subtree', async () => {
    const before = await indexedRows(harness.admin, scanId);
    writeFileSync(p('shared/new.txt'), 'new file', { mode: 0o644 });
    appendFileSync(p('projects/beta/notes.txt'), ' and more');
    chmodSync(p('shared/old.txt'), 0o644);
    execFileSync('setfacl', ['-m', 'u:nobody:rw', p('projects/alpha/README')]);
    renameSync(p('projects/alpha'), p('archive/alpha-2024'));
    mkdirSync(p('shared/incoming/batch1'), { recursive: true });
    writeFileSync(p('shared/incoming/batch1/a.csv'), 'a,b', { mode: 0o644 });
    unlinkSync(p('projects/beta/todo.txt'));
    await sendAndWait(events());

    const after = await indexedRows(harness.admin, scanId);
    expect(comparableRows(after.values())).toEqual(comparable(expectedEntries(volume).values()));
    expect(after.get(p('archive/alpha-2024'))!.id).toBe(before.get(p('projects/alpha'))!.id);
    expect(after.get(p('archive/alpha-2024/src/lib/util.c'))!.id).toBe(before.get(p('projects/alpha/src/lib/util.c'))!.id);
    expect(after.get(p('archive/alpha-2024/README'))!.securityId).not.toBe(before.get(p('projects/alpha/README'))!.securityId);
    const { stats, shares } = await indexState();
    const statOf = (dir: string) => stats.find((s) => s.dir_ref === after.get(dir)!.ino);
    for (const dir of ['', 'archive', 'projects', 'shared', 'shared/incoming']) {
      expect({ dir, ...statOf(dir ? p(dir) : volume), dir_ref: undefined }).toEqual({ dir, ...onDiskTotals(dir ? p(dir) : volume), dir_ref: undefined });
    }
    expect(shares.find((s) => s.name === 'shared')).toMatchObject({ file_count: 3, world_files: 3 });
    expect(shares.find((s) => s.name === 'projects')).toMatchObject({ file_count: 1, world_files: 0 });
  });

  it('is idempotent: the same events again leave rows, stats and shares unchanged', async () => {
    const before = await indexState();
    await sendAndWait(events());
    await sendAndWait(events().reverse());
    expect(await indexState()).toEqual(before);
  });

  it('moves a directory whose entries were already seen under the new name in an earlier batch', async () => {
    const before = await indexedRows(harness.admin, scanId);
    renameSync(p('projects/beta'), p('archive/beta-old'));
    await sendAndWait([{ type: 'modify', path: p('archive/beta-old/notes.txt') }]);
    await sendAndWait([{ type: 'rename', oldPath: p('projects/beta'), path: p('archive/beta-old') }]);
    const after = await indexedRows(harness.admin, scanId);
    expect(comparableRows(after.values())).toEqual(comparable(expectedEntries(volume).values()));
    expect(after.get(p('archive/beta-old'))!.id).toBe(before.get(p('projects/beta'))!.id);
    const { stats } = await indexState();
    for (const dir of ['', 'archive', 'projects']) {
      const ref = after.get(dir ? p(dir) : volume)!.ino;
      expect({ dir, ...stats.find((st) => st.dir_ref === ref), dir_ref: undefined }).toEqual({ dir, ...onDiskTotals(dir ? p(dir) : volume), dir_ref: undefined });
    }
  });

  it('continues as new to bound its history, carrying its counts', async () => {
    const workflowId = indexSyncWorkflowId(tenant.code, harness.hostId, volume);
    await harness.temporal.workflow.getHandle(workflowId).terminate('restart with a small history limit');
    const input: IndexSyncInput = { tenantId: tenant.tenantId, tenantCode: tenant.code, hostId: harness.hostId, volume, historyLimit: 25 };
    let firstRunId: string | undefined;
    for (let i = 0; i < 8; i += 1) {
      writeFileSync(p(`shared/many-${i}.txt`), String(i));
      const handle = await harness.temporal.workflow.signalWithStart('indexSync', {
        workflowId, taskQueue: CORE_TASK_QUEUE, args: [input], signal: changesSignal, signalArgs: [{ events: [{ type: 'create', path: p(`shared/many-${i}.txt`) }], source: 'api' }],
      });
      firstRunId ??= handle.signaledRunId;
      const latest = harness.temporal.workflow.getHandle(workflowId);
      for (let status = await latest.query(statusQuery); status.applied < i + 1 || status.queued > 0; status = await latest.query(statusQuery)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect((await harness.temporal.workflow.getHandle(workflowId, firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
    expect(await harness.temporal.workflow.getHandle(workflowId).query(statusQuery)).toMatchObject({ received: 8, applied: 8, failed: 0 });
    expect(comparableRows((await indexedRows(harness.admin, scanId)).values())).toEqual(comparable(expectedEntries(volume).values()));
  });

  it('refuses malformed change batches', async () => {
    const missingOld = await post('/api/v1/index/changes', { hostId: harness.hostId, volume, events: [{ type: 'rename', path: p('x') }] });
    expect(missingOld.statusCode).toBe(400);
    expect(missingOld.json().errors[0].field).toMatch(/oldPath/);
    const relative = await post('/api/v1/index/changes', { hostId: harness.hostId, volume, events: [{ type: 'create', path: 'x' }] });
    expect(relative.statusCode).toBe(400);
  });

  it('follows changes on disk through the host watcher', async () => {
    const input: IndexWatchInput = { tenantId: tenant.tenantId, tenantCode: tenant.code, hostId: harness.hostId, volume, flushMs: 200 };
    const watcher = await harness.temporal.workflow.start('indexSyncWatcher', {
      workflowId: indexWatchWorkflowId(tenant.code, harness.hostId, volume), taskQueue: CORE_TASK_QUEUE, args: [input],
    });
    const watching = async () => ((await watcher.describe()).raw.pendingActivities ?? []).some((a) => a.heartbeatDetails);
    while (!(await watching())) await new Promise((resolve) => setTimeout(resolve, 100));
    writeFileSync(p('shared/watched.txt'), 'seen by inotify');
    renameSync(p('archive/alpha-2024'), p('shared/alpha'));
    const expectedNow = comparable(expectedEntries(volume).values());
    let rows = comparableRows((await indexedRows(harness.admin, scanId)).values());
    for (let i = 0; i < 300 && JSON.stringify(rows) !== JSON.stringify(expectedNow); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = comparableRows((await indexedRows(harness.admin, scanId)).values());
    }
    expect(rows).toEqual(expectedNow);
    await watcher.cancel();
    await expect(watcher.result()).rejects.toThrow();
  });
});
