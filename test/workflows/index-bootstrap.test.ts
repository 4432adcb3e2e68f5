// bootstrapIndex end to end on a real tree: every entry indexed once with the right
// inode, parent, size, times, owner and ACL; shared descriptors; links not followed;
// awkward names and a 4,000-byte path intact; shares and stats computed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { lastAnalyzed, type AnalyzedAt } from '../support/statistics';
import { installAdminToken, onboardViaApi, type TestTenant } from '../support/tenants';
import { AWKWARD_NAMES, buildSampleTree, expectedEntries, sampleShareConfigs, type ExpectedEntry } from '../support/index-fixtures';
import { escapeName, unescapeName } from '../../activities/index-names';
import { FLAG_DIR, FLAG_SHARE_ROOT, FLAG_SYMLINK } from '../../activities/index-rows';
import { bootstrapIndexWorkflowId, type BootstrapIndexInput, type BootstrapIndexResult } from '../../workflows/bootstrapIndex.messages';
import { CORE_TASK_QUEUE } from '../../temporal-config/task-queues';

let harness: Harness;
let tenant: TestTenant;
let work: string;
let root: string;
let deepFile: string;
let expected: Map<string, ExpectedEntry>;
let result: BootstrapIndexResult;
let rows: Map<string, Record<string, number | string | null>>;
let analyzedBefore: AnalyzedAt;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  work = mkdtempSync(join(tmpdir(), 'strata-index-'));
  root = join(work, 'volume');
  ({ deepFile } = buildSampleTree(root));
  expected = expectedEntries(root);
  analyzedBefore = await lastAnalyzed(harness.admin);
  const response = await harness.app.inject({
    method: 'POST', url: '/api/v1/index/bootstrap', headers: { authorization: `Bearer ${tenant.adminToken}` },
    payload: { hostId: harness.hostId, volume: root, shareSources: { ...sampleShareConfigs(work, root), exportsDir: null, serverName: 'srv1' }, batchRows: 1_000 },
  });
  expect(response.statusCode).toBe(202);
  result = await harness.temporal.workflow.getHandle(response.json().id).result();
  const stored = await harness.admin.query(
    `SELECT d.dir_path, f.name, f.file_ref, f.parent_ref, f.size_bytes, f.mtime_unix, f.mode, f.uid, f.gid, f.flags, f.security_id, f.share_id
       FROM file f JOIN dir d ON d.id = f.dir_id WHERE f.scan_id = $1`, [result.scanId]);
  rows = new Map();
  for (const row of stored.rows) {
    const key = row.dir_path === '/' ? `/${row.name}` : `${row.dir_path}/${row.name}`;
    if (rows.has(key)) throw new Error(`${key} indexed twice`);
    rows.set(key, row);
  }
}, 180_000);

afterAll(async () => {
  await harness.close();
  rmSync(work, { recursive: true, force: true });
});

const rowOf = (relative: string) => rows.get(escapeName(Buffer.from(join(root, relative))))!;

describe('bootstrap indexing of a real tree', () => {
  it('indexes every entry exactly once with its inode, parent, size, time, mode and owner', () => {
    expect(result.status).toBe('OK');
    expect(result.entries).toBe(expected.size);
    expect(rows.size).toBe(expected.size);
    for (const entry of expected.values()) {
      const row = rows.get(entry.path);
      expect(row).toBeDefined();
      expect({ path: entry.path, ino: row!.file_ref, parent: row!.parent_ref, size: row!.size_bytes, mtime: row!.mtime_unix, mode: row!.mode, uid: row!.uid, gid: row!.gid })
        .toEqual({ path: entry.path, ino: entry.ino, parent: entry.parentIno, size: entry.size, mtime: entry.mtime, mode: entry.mode, uid: entry.uid, gid: entry.gid });
    }
  });

  it('refreshes the statistics of file and dir once the volume is loaded', async () => {
    const analyzedAfter = await lastAnalyzed(harness.admin);
    for (const table of ['file', 'dir'] as const) expect(analyzedAfter[table]).toBeGreaterThan(analyzedBefore[table]);
  });

  it('shares one descriptor between files with the same owner and ACL, and stores its entries', async () => {
    const [a, b, c] = ['docs/a.txt', 'docs/b.txt', 'docs/c.txt'].map(rowOf);
    expect(a.security_id).toBe(b.security_id);
    expect(c.security_id).not.toBe(a.security_id);
    const sd = await harness.admin.query('SELECT entries, summary, extended, grants_world_access FROM security_descriptor WHERE tenant_id = $1 AND id = $2', [tenant.tenantId, a.security_id]);
    expect(sd.rows[0]).toMatchObject({ summary: 'user::rw-,user:nobody:r--,group::r--,mask::r--,other::---', extended: true, grants_world_access: false });
    expect(sd.rows[0].entries).toContainEqual({ tag: 'user', id: 65534, perm: 4, name: 'nobody' });
    const docs = await harness.admin.query('SELECT default_entries FROM security_descriptor WHERE tenant_id = $1 AND id = $2', [tenant.tenantId, rowOf('docs').security_id]);
    expect(docs.rows[0].default_entries).toContainEqual({ tag: 'group', id: 100, perm: 5, name: 'users' });
    const distinct = await harness.admin.query('SELECT count(DISTINCT security_id)::int AS n FROM file WHERE scan_id = $1', [result.scanId]);
    const descriptors = await harness.admin.query('SELECT count(*)::int AS n FROM security_descriptor WHERE tenant_id = $1', [tenant.tenantId]);
    expect(descriptors.rows[0].n).toBe(distinct.rows[0].n);
  });

  it('flags world access from other-read and from the users group', async () => {
    const world = await harness.admin.query(
      `SELECT f.file_ref FROM file f JOIN security_descriptor s ON s.tenant_id = f.tenant_id AND s.id = f.security_id
        WHERE f.scan_id = $1 AND s.grants_world_access`, [result.scanId]);
    const refs = new Set(world.rows.map((r) => r.file_ref));
    for (const name of ['public/p1', 'public/p5', 'docs/sub/d.txt', 'docs']) expect(refs.has(rowOf(name).file_ref)).toBe(true);
    for (const name of ['docs/a.txt', 'docs/c.txt', 'private', 'private/secret']) expect(refs.has(rowOf(name).file_ref)).toBe(false);
  });

  it('does not follow symbolic links', () => {
    for (const link of ['links/to_dir', 'links/to_file', 'links/dangling', 'links/abs']) {
      expect(Number(rowOf(link).flags) & FLAG_SYMLINK).toBe(FLAG_SYMLINK);
      expect(rowOf(link).security_id).toBeNull();
    }
    expect([...rows.keys()].filter((path) => path.includes('/links/to_dir/') || path.includes('/links/abs/'))).toEqual([]);
  });

  it('keeps awkward names and a 4,000-byte path byte for byte', () => {
    for (const name of AWKWARD_NAMES) {
      const raw = Buffer.concat([Buffer.from(`${root}/awkward/`), name]);
      const row = rows.get(escapeName(raw));
      expect(row).toBeDefined();
      expect(unescapeName(`${row!.dir_path}/${row!.name}`)).toEqual(raw);
    }
    const deep = rows.get(escapeName(Buffer.from(deepFile)))!;
    expect(Buffer.byteLength(`${deep.dir_path}/${deep.name}`)).toBeGreaterThanOrEqual(3_990);
    expect(deep.size_bytes).toBe(4);
  });

  it('maps shares to their root inodes and computes share and directory stats', async () => {
    const shares = await harness.admin.query(
      `SELECT protocol, name, root_file_ref, file_count, world_files, total_bytes, risk_level, is_active FROM share WHERE tenant_id = $1 ORDER BY protocol, name`, [tenant.tenantId]);
    const byName = new Map(shares.rows.map((s) => [`${s.protocol}:${s.name}`, s]));
    expect(byName.get('smb:docs')).toMatchObject({ root_file_ref: rowOf('docs').file_ref, file_count: 4, world_files: 1, total_bytes: 1000 });
    expect(byName.get('smb:public')).toMatchObject({ file_count: 5, world_files: 5, risk_level: 'CRITICAL' });
    expect(byName.get(`nfs:${root}/private`)).toMatchObject({ file_count: 1, world_files: 0 });
    expect(byName.get('smb:elsewhere')).toMatchObject({ root_file_ref: null, file_count: 0 });
    expect(Number(rowOf('docs').flags) & FLAG_SHARE_ROOT).toBe(FLAG_SHARE_ROOT);
    expect(rowOf('docs/sub/d.txt').share_id).toBe(rowOf('docs/a.txt').share_id);
    const files = [...expected.values()].filter((e) => !e.isDir);
    const rootStats = await harness.admin.query('SELECT files, dirs, bytes FROM index_dir_stats WHERE scan_id = $1 AND dir_ref = $2', [result.scanId, rowOf('').file_ref]);
    expect(rootStats.rows[0]).toEqual({ files: files.length, dirs: expected.size - files.length - 1, bytes: files.reduce((sum, e) => sum + e.size, 0) });
    expect(Number(rowOf('').flags) & FLAG_DIR).toBe(FLAG_DIR);
  });

  it('records the scan as an OK POSIX scan with the volume as its live index, and audits it', async () => {
    const scan = await harness.admin.query('SELECT src_type, status, host_id, volume, finished_at FROM scan WHERE id = $1', [result.scanId]);
    expect(scan.rows[0]).toMatchObject({ src_type: 'POSIX', status: 'OK', host_id: harness.hostId, volume: root });
    const volume = await harness.admin.query('SELECT current_scan_id, building_scan_id FROM index_volume WHERE tenant_id = $1', [tenant.tenantId]);
    expect(volume.rows).toEqual([{ current_scan_id: result.scanId, building_scan_id: null }]);
    const audit = await harness.admin.query(`SELECT details FROM audit_log WHERE tenant_id = $1 AND action = 'index.bootstrapped'`, [tenant.tenantId]);
    expect(audit.rows[0].details).toMatchObject({ scanId: result.scanId, entries: expected.size });
    const progress = await harness.app.inject({ method: 'GET', url: `/api/v1/index/${result.scanGuid}`, headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(progress.statusCode).toBe(200);
    expect(progress.json()).toMatchObject({ runStatus: 'COMPLETED', phase: 'done', scan: { status: 'OK' }, progress: { entries: expected.size, pendingPartitions: 0 } });
  });
});

describe('bootstrap indexing of a volume split into many slices', () => {
  it('splits slices into partitions, continues as new to bound history, and still indexes everything once', async () => {
    const volume = join(work, 'many');
    for (let top = 0; top < 6; top += 1) {
      for (let sub = 0; sub < 8; sub += 1) {
        mkdirSync(join(volume, `t${top}`, `s${sub}`), { recursive: true });
        for (let f = 0; f < 30; f += 1) writeFileSync(join(volume, `t${top}`, `s${sub}`, `f${f}`), `${top}/${sub}/${f}`);
      }
    }
    spawnSync('setfacl', ['-m', 'u:nobody:rw', join(volume, 't5', 's7', 'f29')]);
    const onDisk = expectedEntries(volume);
    // lgetxattr on full paths instead of getxattrat: the path kernels before 6.13 take.
    const input: BootstrapIndexInput = {
      tenantId: tenant.tenantId, tenantCode: tenant.code, hostId: harness.hostId, volume, requestedBy: 'test', useGetxattrat: false,
      shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null }, sliceEntries: 60, batchRows: 25, parallelism: 3, historyLimit: 60,
    };
    const handle = await harness.temporal.workflow.start('bootstrapIndex', {
      workflowId: bootstrapIndexWorkflowId(tenant.code, harness.hostId, volume), taskQueue: CORE_TASK_QUEUE, args: [input],
    });
    const done: BootstrapIndexResult = await handle.result();
    expect(done).toMatchObject({ entries: onDisk.size, status: 'OK' });
    expect(done.partitions).toBeGreaterThan(20);
    const first = await harness.temporal.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const stored = await harness.admin.query(
      `SELECT count(*)::int AS n, count(DISTINCT (dir_id, name))::int AS unique_names FROM file WHERE scan_id = $1`, [done.scanId]);
    expect(stored.rows[0]).toEqual({ n: onDisk.size, unique_names: onDisk.size });
    const acl = await harness.admin.query(
      `SELECT s.summary FROM file f JOIN security_descriptor s ON s.tenant_id = f.tenant_id AND s.id = f.security_id
        WHERE f.scan_id = $1 AND f.name = 'f29' AND f.file_ref = $2`, [done.scanId, onDisk.get(join(volume, 't5', 's7', 'f29'))!.ino]);
    expect(acl.rows[0].summary).toMatch(/user:nobody:rw-/);
  }, 180_000);
});

describe('bootstrap indexing of a volume that is not there', () => {
  it('fails fast with the reason and marks the scan ERROR', async () => {
    const volume = join(work, 'missing-volume');
    const input: BootstrapIndexInput = {
      tenantId: tenant.tenantId, tenantCode: tenant.code, hostId: harness.hostId, volume, requestedBy: 'test',
      shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null },
    };
    const handle = await harness.temporal.workflow.start('bootstrapIndex', {
      workflowId: bootstrapIndexWorkflowId(tenant.code, harness.hostId, volume), taskQueue: CORE_TASK_QUEUE, args: [input],
    });
    await expect(handle.result()).rejects.toThrow();
    const scan = await harness.admin.query('SELECT status, status_reason FROM scan WHERE tenant_id = $1 AND volume = $2', [tenant.tenantId, volume]);
    expect(scan.rows).toEqual([{ status: 'ERROR', status_reason: expect.stringMatching(/cannot be indexed on this host.*ENOENT/) }]);
  });
});

describe('bootstrap indexing on a host with no worker connected', () => {
  it('fails after the host wait, naming the host and its queue, and marks the scan ERROR', async () => {
    const volume = join(work, 'volume');
    const input: BootstrapIndexInput = {
      tenantId: tenant.tenantId, tenantCode: tenant.code, hostId: 'host-not-connected', volume, requestedBy: 'test', hostWaitSeconds: 2,
    };
    const handle = await harness.temporal.workflow.start('bootstrapIndex', {
      workflowId: bootstrapIndexWorkflowId(tenant.code, input.hostId, volume), taskQueue: CORE_TASK_QUEUE, args: [input],
    });
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'HostNotConnected' } });
    const scan = await harness.admin.query("SELECT status, status_reason FROM scan WHERE tenant_id = $1 AND host_id = 'host-not-connected'", [tenant.tenantId]);
    expect(scan.rows).toEqual([{ status: 'ERROR', status_reason: 'host host-not-connected did not pick up the work within 2 s: no strata host worker polls strata-host.host-not-connected' }]);
  });
});
