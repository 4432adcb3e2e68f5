// The browse and audit api over a bootstrapped real tree: answers must match the
// tree on disk (listing, owners, permissions, world access, accessible-by).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { buildSampleTree, expectedEntries, sampleShareConfigs, type ExpectedEntry } from '../support/index-fixtures';
import { escapeName } from '../../activities/index-names';

let harness: Harness;
let tenant: TestTenant;
let viewer: string;
let work: string;
let root: string;
let expected: Map<string, ExpectedEntry>;

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  viewer = await issueTokenViaApi(harness.app, tenant, 'vic', 'viewer');
  work = mkdtempSync(join(tmpdir(), 'strata-browse-'));
  root = join(work, 'volume');
  buildSampleTree(root);
  expected = expectedEntries(root);
  const started = await call('POST', '/api/v1/index/bootstrap', tenant.adminToken, {
    hostId: harness.hostId, volume: root, shareSources: { ...sampleShareConfigs(work, root), exportsDir: null },
  });
  expect(started.statusCode).toBe(202);
  await harness.temporal.workflow.getHandle(started.json().id).result();
}, 180_000);

afterAll(async () => {
  await harness.close();
  rmSync(work, { recursive: true, force: true });
});

function call(method: 'GET' | 'POST', url: string, token: string, payload?: object) {
  return harness.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
}

/** Every entry of a paged listing, following `next` as the `after` cursor. */
async function getAll(url: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let next: string | null = null;
  do {
    const response = await call('GET', `${url}${next === null ? '' : `&after=${encodeURIComponent(next)}`}`, viewer);
    expect(response.statusCode).toBe(200);
    items.push(...response.json().entries);
    next = response.json().next;
  } while (next !== null);
  return items;
}

describe('GET /shares', () => {
  it('lists every share with stats and risk, riskiest first', async () => {
    const response = await call('GET', '/api/v1/shares', viewer);
    expect(response.statusCode).toBe(200);
    const shares = response.json().shares;
    expect(shares.map((s: { protocol: string; name: string }) => `${s.protocol}:${s.name}`).sort())
      .toEqual(['nfs:' + root + '/private', 'nfs:' + root + '/public', 'smb:docs', 'smb:elsewhere', 'smb:public'].sort());
    const pub = shares.find((s: { protocol: string; name: string }) => s.protocol === 'smb' && s.name === 'public');
    expect(pub).toMatchObject({ files: 5, worldFiles: 5, bytes: 150, uncPath: expect.stringMatching(/^\\\\.+\\public$/), risk: { level: 'CRITICAL' } });
    expect(pub.risk.factors).toContain('guest access allowed');
    expect(shares[0].risk.score).toBeGreaterThanOrEqual(shares[shares.length - 1].risk.score);
  });
});

describe('GET /browse', () => {
  it('lists a share directory like the tree on disk, with owners, permissions and subtree stats', async () => {
    const entries = await getAll('/api/v1/browse?share=docs&path=/&limit=2');
    const onDisk = [...expected.values()].filter((e) => e.dirPath === escapeName(Buffer.from(join(root, 'docs'))));
    expect(entries.map((e) => e.name)).toEqual(onDisk.map((e) => e.name).sort());
    const a = entries.find((e) => e.name === 'a.txt')!;
    expect(a).toMatchObject({ type: 'file', size: 100, owner: 'root', mode: '0640', worldAccess: false, extendedAcl: true,
      permissions: 'user::rw-,user:nobody:r--,group::r--,mask::r--,other::---' });
    expect(entries.find((e) => e.name === 'sub')).toMatchObject({ type: 'dir', subtree: { files: 1, dirs: 0, bytes: 400, worldFiles: 1 } });
    const top = await call('GET', '/api/v1/browse?share=docs', viewer);
    expect(top.json().directory).toMatchObject({ path: join(root, 'docs'), subtree: { files: 4, dirs: 1, bytes: 1000, worldFiles: 1 } });
  });

  it('browses by parent inode and by host and volume, with awkward names intact', async () => {
    const awkward = [...expected.values()].find((e) => e.path === escapeName(Buffer.from(join(root, 'awkward'))))!;
    const byRef = await call('GET', `/api/v1/browse?host=${harness.hostId}&volume=${encodeURIComponent(root)}&parent_ref=${awkward.ino}&limit=1000`, viewer);
    expect(byRef.statusCode).toBe(200);
    const names = byRef.json().entries.map((e: { name: string }) => e.name);
    expect(names.sort()).toEqual([...expected.values()].filter((e) => e.dirPath === awkward.path).map((e) => e.name).sort());
    const links = await call('GET', `/api/v1/browse?host=${harness.hostId}&volume=${encodeURIComponent(root)}&path=${encodeURIComponent(join(root, 'links'))}`, viewer);
    expect(links.json().entries.map((e: { type: string }) => e.type)).toEqual(['symlink', 'symlink', 'symlink', 'symlink']);
  });

  it('answers problem+json for unknown shares, missing directories and ambiguous scope', async () => {
    expect((await call('GET', '/api/v1/browse?share=nope', viewer)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/browse?share=docs&path=/missing', viewer)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/browse?share=docs&path=/../..', viewer)).statusCode).toBe(400);
    const bad = await call('GET', '/api/v1/browse?share=docs&limit=0', viewer);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('querystring.limit');
    expect((await call('GET', '/api/v1/browse', 'strata_' + 'x'.repeat(43))).statusCode).toBe(401);
  });
});

describe('GET /audit/world-access and /audit/accessible-by', () => {
  const worldOnDisk = () => [...expected.values()].filter((e) => !e.isSymlink && (e.mode & 0o004) !== 0).map((e) => e.path);

  it('pages exactly the entries everyone can read', async () => {
    const entries = await getAll('/api/v1/audit/world-access?limit=7');
    // docs/sub/d.txt is readable through the world-like group `users`; its mode has no other-read.
    const expectedPaths = [...worldOnDisk(), escapeName(Buffer.from(join(root, 'docs/sub/d.txt')))].sort();
    expect(entries.map((e) => e.path).sort()).toEqual(expectedPaths);
    const files = await call('GET', '/api/v1/audit/world-access?share=public&kind=file', viewer);
    expect(files.json().entries.map((e: { path: string }) => e.path).sort()).toEqual([1, 2, 3, 4, 5].map((i) => join(root, `public/p${i}`)));
  });

  it('finds what a named user can read through a named entry or other, and not what it cannot', async () => {
    const response = await call('GET', '/api/v1/audit/accessible-by?principal=user:nobody&kind=file&limit=1000', viewer);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.principal).toMatchObject({ kind: 'user', name: 'nobody', hosts: [expect.objectContaining({ hostId: harness.hostId, id: 65534 })] });
    const paths = body.entries.map((e: { path: string }) => e.path);
    for (const readable of ['docs/a.txt', 'docs/b.txt', 'public/p3']) expect(paths).toContain(join(root, readable));
    for (const hidden of ['docs/c.txt', 'private/secret']) expect(paths).not.toContain(join(root, hidden));
    const root_ = await call('GET', '/api/v1/audit/accessible-by?principal=root&kind=file&limit=1000', viewer);
    expect(root_.json().entries.map((e: { path: string }) => e.path)).toContain(join(root, 'private/secret'));
    expect((await call('GET', '/api/v1/audit/accessible-by?principal=user:nobody-at-all', viewer)).statusCode).toBe(404);
  });
});

describe('POST /index/bootstrap', () => {
  it('refuses viewers, bad volumes and a second run of a running volume', async () => {
    expect((await call('POST', '/api/v1/index/bootstrap', viewer, { hostId: harness.hostId, volume: root })).statusCode).toBe(403);
    const bad = await call('POST', '/api/v1/index/bootstrap', tenant.adminToken, { hostId: 'Bad Host', volume: 'relative' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.hostId', 'body.volume']);
    const other = join(work, 'slow');
    mkdirSync(other);
    const first = await call('POST', '/api/v1/index/bootstrap', tenant.adminToken, { hostId: 'absent-host', volume: other });
    expect(first.statusCode).toBe(202);
    const again = await call('POST', '/api/v1/index/bootstrap', tenant.adminToken, { hostId: 'absent-host', volume: other });
    expect(again.statusCode).toBe(409);
    await harness.temporal.workflow.getHandle(first.json().id).terminate('test done');
  });
});
