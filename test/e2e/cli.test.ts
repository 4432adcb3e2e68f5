// The built `strata` CLI (dist/cli/strata.js, as installed by the package's bin)
// against the real api of the harness: onboarding and tokens, a scan followed to
// its end with --wait, tiering plan → act → rehydrate on real files, a sanitize dry
// run and its report, an index bootstrap and a remediation dry run, with the exit
// codes scripts rely on for refusals, bad tokens, usage errors and a dead api.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { projectRoot } from '../../lib/paths';
import { startHarness, type Harness } from '../support/harness';
import { installAdminToken, uniqueCode } from '../support/tenants';
import { csvRows, newScanGuid, putChunk } from '../support/ingest-helpers';
import { buildTree, configureShare, loadScan, makeRoots, scanRowsOf, type Roots, type TreeFile } from '../support/tiering-tree';

const CLI = join(projectRoot(), 'dist', 'cli', 'strata.js');
let harness: Harness;
let api: string;
let home: string;
let installAdmin: string;
let code: string;
let tenantAdmin: string;
let roots: Roots;

interface Run { code: number; stdout: string; stderr: string }

/** Runs the CLI as a child process; the api answers from this process, so never block on it. */
function strata(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, STRATA_URL: api, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('error', reject);
    child.once('close', (exitCode) => { clearTimeout(timer); resolve({ code: exitCode ?? -1, stdout, stderr }); });
  });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = await strata(args, env);
  if (run.code !== 0) throw new Error(`strata ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
  return run;
}

const asAdmin = () => ({ STRATA_TOKEN: tenantAdmin });
const json = <T = Record<string, unknown>>(run: Run): T => JSON.parse(run.stdout) as T;

beforeAll(async () => {
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < statSync(join(projectRoot(), 'cli', 'strata.ts')).mtimeMs) throw new Error(`${CLI} is missing or stale: run npm run build`);
  harness = await startHarness();
  api = await harness.app.listen({ host: '127.0.0.1', port: 0 });
  home = mkdtempSync(join(tmpdir(), 'strata-cli-home-'));
  installAdmin = await installAdminToken();
  roots = makeRoots('cli');
}, 120_000);

afterAll(async () => {
  await harness.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(roots.base, { recursive: true, force: true });
});

describe('strata CLI against the api', () => {
  it('onboards a tenant as install admin and prints the first admin token once', async () => {
    code = uniqueCode('cli');
    const created = json<{ code: string; adminToken: { token: string } }>(await ok(['tenants', 'create', code, '--name', 'CLI Tenant', '--json'], { STRATA_TOKEN: installAdmin }));
    expect(created.code).toBe(code);
    tenantAdmin = created.adminToken.token;
    expect(tenantAdmin).toMatch(/^strata_/);
    const again = await strata(['tenants', 'create', code, '--name', 'CLI Tenant'], { STRATA_TOKEN: installAdmin });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/409 Conflict: tenant .* already exists/);
  });

  it('issues and revokes tokens; a revoked token exits 4', async () => {
    const human = await ok(['tokens', 'issue', code, '--user', 'olga', '--role', 'operator'], asAdmin());
    expect(human.stdout).toMatch(/^token id\s+[0-9a-f-]{36}$/m);
    expect(human.stdout).toMatch(/^role\s+operator$/m);
    const issued = json<{ id: string; token: string }>(await ok(['tokens', 'issue', code, '--user', 'temp', '--role', 'viewer', '--json'], asAdmin()));
    expect((await ok(['sanitize', 'list'], { STRATA_TOKEN: issued.token })).stdout).toContain('(none)');
    expect((await ok(['tokens', 'revoke', issued.id], asAdmin())).stdout).toContain(`token ${issued.id} revoked`);
    const refused = await strata(['sanitize', 'list'], { STRATA_TOKEN: issued.token });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/401 Unauthorized: token is unknown, revoked or expired/);
  });

  it('follows a scan to its end with a progress bar', async () => {
    const agent = json<{ token: string }>(await ok(['tokens', 'issue', code, '--user', 'agent', '--role', 'agent', '--json'], asAdmin())).token;
    const guid = newScanGuid();
    for (const [seq, rows] of [[0, csvRows(0, 300)], [1, csvRows(300, 500)]] as const) {
      expect((await putChunk(harness.app, { guid, seq, token: agent, body: rows })).statusCode).toBe(202);
    }
    const follow = strata(['scans', 'status', guid, '--wait', '--interval', '0.2'], asAdmin());
    const sealed = await harness.app.inject({ method: 'POST', url: `/api/v1/scans/${guid}/seal`, headers: { authorization: `Bearer ${agent}` }, payload: { totalChunks: 2 } });
    expect(sealed.statusCode).toBe(202);
    const run = await follow;
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\[#{30}\] 100%  2\/2 chunks/);
    expect(run.stdout).toMatch(/^status\s+OK$/m);
    expect(run.stdout).toMatch(/^rows\s+500$/m);
    const unknown = await strata(['scans', 'status', randomUUID()], asAdmin());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/404 Not Found: scan .* is unknown/);
  });

  it('plans, acts and rehydrates a share through tiering commands', async () => {
    const files: TreeFile[] = [{ relPath: 'old/a.bin', size: 3000, idleDays: 500 }, { relPath: 'old/b.bin', size: 5000, idleDays: 400 }, { relPath: 'new/c.bin', size: 10, idleDays: 1 }];
    buildTree(roots.source, files);
    const tenantId = (await harness.admin.query('SELECT id FROM tenant WHERE code = $1', [code])).rows[0].id;
    await loadScan(harness.pool, tenantId, 'media', scanRowsOf(roots.source, files));
    await configureShare(harness.app, tenantAdmin, 'media', { hostId: harness.hostId, roots });
    const plan = json<{ planId: string; status: string; plannedFiles: number }>(await ok(['tiering', 'plan', 'media', '--idle-days', '365', '--wait', '--interval', '0.2', '--json'], asAdmin()));
    expect(plan).toMatchObject({ status: 'PLANNED', plannedFiles: 2 });
    expect((await ok(['tiering', 'plans'], asAdmin())).stdout).toMatch(new RegExp(`^${plan.planId}\\s+media\\s+PLANNED\\s+2\\s+7\\.8 KiB`, 'm'));
    const report = await ok(['tiering', 'report', plan.planId, '--output', join(home, 'plan.csv')], asAdmin());
    expect(report.stderr).toContain('report written');
    expect(readFileSync(join(home, 'plan.csv'), 'utf8')).toContain('a.bin');
    const acted = await ok(['tiering', 'act', plan.planId, '--wait', '--interval', '0.2'], asAdmin());
    expect(acted.stdout).toMatch(/^status\s+completed$/m);
    expect(acted.stderr).toMatch(/completed\s+\[#{30}\] 100%  2\/2/);
    const back = json<{ status: string; kind: string }>(await ok(['tiering', 'rehydrate', '--plan', plan.planId, '--wait', '--interval', '0.2', '--json'], asAdmin()));
    expect(back).toMatchObject({ status: 'completed', kind: 'tiering.rehydrate' });
    expect(readFileSync(join(roots.source, 'old/a.bin')).length).toBe(3000);
    const unknown = await strata(['tiering', 'show', randomUUID()], asAdmin());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/404 Not Found/);
  }, 180_000);

  it('runs a sanitize dry run; approving a finished dry run is refused', async () => {
    const run = json<{ id: string; status: string; reportHash: string }>(await ok(['sanitize', 'run', 'media', '--dry-run', '--wait', '--interval', '0.2', '--json'], asAdmin()));
    expect(run.status).toBe('DRY_RUN');
    expect(run.reportHash).toMatch(/^[0-9a-f]{64}$/);
    const report = await ok(['sanitize', 'report', run.id], asAdmin());
    expect(report.stdout).toMatch(new RegExp(`^report hash\\s+${run.reportHash}$`, 'm'));
    const csv = await ok(['sanitize', 'report', run.id, '--csv'], asAdmin());
    expect(csv.stdout.split('\n')[0]).toMatch(/category/);
    const approval = await strata(['sanitize', 'approve', run.id, '--hash', run.reportHash], asAdmin());
    expect(approval.code).toBe(2);
    expect(approval.stderr).toMatch(/approvals: 404 Not Found: no such run/);
  }, 120_000);

  it('bootstraps an index and plans a remediation dry run on it', async () => {
    const started = json<{ id: string }>(await ok(['index', 'bootstrap', harness.hostId, roots.source, '--json'], asAdmin()));
    const indexed = await ok(['index', 'status', started.id, '--wait', '--interval', '0.2'], asAdmin());
    expect(indexed.stdout).toMatch(/^status\s+COMPLETED$/m);
    const plan = json<{ id: string; status: string; reportHash: string }>(await ok(['remediation', 'plan', '--host', harness.hostId, '--path-prefix', roots.source,
      '--remove', 'other', '--add', 'group:staff=rx', '--dry-run', '--wait', '--interval', '0.2', '--json'], asAdmin()));
    expect(plan.status).toBe('DRY_RUN');
    expect((await ok(['remediation', 'show', plan.id], asAdmin())).stdout).toMatch(/^status\s+DRY_RUN$/m);
    expect((await ok(['remediation', 'list', '--status', 'DRY_RUN'], asAdmin())).stdout).toMatch(new RegExp(`^${plan.id}\\s+DRY_RUN\\s+${roots.source}\\s`, 'm'));
    const listed = json<{ runs: { id: string }[] }>(await ok(['remediation', 'list', '--status', 'AWAITING_APPROVAL', '--json'], asAdmin()));
    expect(listed.runs.map((r) => r.id)).not.toContain(plan.id);
    const rollback = await strata(['remediation', 'rollback', plan.id], asAdmin());
    expect(rollback.code).toBe(2);
  }, 180_000);

  it('acts for a tenant as install admin with --tenant', async () => {
    expect((await ok(['--tenant', code, 'sanitize', 'list'], { STRATA_TOKEN: installAdmin })).stdout).toMatch(/DRY_RUN/);
    const withoutTenant = await strata(['sanitize', 'list'], { STRATA_TOKEN: installAdmin });
    expect(withoutTenant.code).toBe(4);
    expect(withoutTenant.stderr).toMatch(/must name the tenant/);
  });

  it('reads url and token from the 0600 config file written by login', async () => {
    const config = join(home, 'cfg', 'config.json');
    await ok(['login', '--url', api, '--token', tenantAdmin], { STRATA_CONFIG: config, STRATA_URL: '' });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const run = await strata(['sanitize', 'list', '--json'], { STRATA_CONFIG: config, STRATA_URL: '' });
    expect(run.code).toBe(0);
    expect(json<{ runs: unknown[] }>(run).runs.length).toBe(1);
  });

  it('exits 1 on usage errors and 3 when the api is unreachable', async () => {
    const usage = await strata(['tiering', 'plan'], asAdmin());
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/takes 1 argument, got 0/);
    const dead = await strata(['sanitize', 'list'], { ...asAdmin(), STRATA_URL: 'http://127.0.0.1:1' });
    expect(dead.code).toBe(3);
    expect(dead.stderr).toMatch(/cannot reach the strata api/);
  });
});
