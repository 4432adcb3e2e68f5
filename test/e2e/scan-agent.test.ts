// The reference agent's scan against the real api over HTTP: a tree with awkward
// names lands with exact rows; a killed agent resumes the same scan from its queue;
// an api that is not up yet is retried with backoff.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { projectRoot } from '../../lib/paths';
import { startHarness, TEST_DATA_DIR, type Harness } from '../support/harness';
import { installAdminToken, issueTokenViaApi, onboardViaApi, type TestTenant } from '../support/tenants';
import { fileCount, waitUntil } from '../support/ingest-helpers';
import { runScanAgent } from '../../scripts/agent-scan';
import { closeConnections, type ApiTarget } from '../../scripts/agent-client';

let harness: Harness;
let tenant: TestTenant;
let target: ApiTarget;
const work = mkdtempSync(join(tmpdir(), 'strata-agent-'));

function makeTree(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const dir = join(root, `team ${i % 3}`, `project,${i % 7}`, i % 2 ? 'raw' : 'ünïcode ✓');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, i % 5 === 0 ? `say "hi", ${i}.txt` : `file-${i}.bin`), 'x'.repeat(i % 50));
  }
  symlinkSync(join(root, 'team 0'), join(root, 'link-to-team-0'));
}

beforeAll(async () => {
  harness = await startHarness();
  tenant = await onboardViaApi(harness.app, await installAdminToken());
  const token = await issueTokenViaApi(harness.app, tenant, 'agent-1', 'agent');
  const address = await harness.app.listen({ host: '127.0.0.1', port: 0 });
  target = { api: address, token };
});
afterAll(async () => { closeConnections(); await harness.close(); });

describe('agent scan', () => {
  it('uploads a tree in gzip chunks, seals it and waits: exact rows, awkward names intact, symlinks not followed', async () => {
    const root = join(work, 'tree');
    makeTree(root, 1234);
    const queueDir = join(work, 'queue-1');
    const result = await runScanAgent({ root, share: 'agent-share', srcType: 'POSIX', target, chunkRows: 200, queueDir, wait: true, quiet: true });
    expect(result).toMatchObject({ totalChunks: 7, files: 1234, status: 'OK' });
    expect(await fileCount(harness.admin, tenant.tenantId, result.scanGuid)).toBe(1234);
    const dir = join(root, 'team 0', 'project,0', 'ünïcode ✓');
    const row = await harness.admin.query(
      `SELECT f.size_bytes, f.mtime_unix FROM file f JOIN dir d ON d.id = f.dir_id JOIN scan s ON s.id = f.scan_id
        WHERE s.scan_guid = $1 AND d.dir_path = $2 AND f.name = $3`, [result.scanGuid, dir, 'say "hi", 0.txt']);
    expect(row.rows).toEqual([{ size_bytes: 0, mtime_unix: Math.floor(lstatSync(join(dir, 'say "hi", 0.txt')).mtimeMs / 1000) }]);
    const queue = readdirSync(queueDir);
    expect(queue.filter((name) => name.endsWith('.ok'))).toHaveLength(7);
    expect(queue.filter((name) => name.endsWith('.csv.gz'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(queueDir, 'scan.json'), 'utf8'))).toMatchObject({ sealed: true, totalChunks: 7 });
  });

  it('resumes the same scan after the agent process is killed, without duplicates', async () => {
    const root = join(work, 'tree-2');
    makeTree(root, 1500);
    const queueDir = join(work, 'queue-2');
    const script = join(projectRoot(), 'dist', 'scripts', 'agent.js');
    expect(existsSync(script)).toBe(true);
    const child = spawn(process.execPath, [script, 'scan', root, '--share', 'resume', '--api', target.api, '--token', target.token,
      '--chunk-rows', '10', '--uploads', '1', '--queue', queueDir, '--quiet'], { stdio: 'ignore' });
    const uploaded = () => (existsSync(queueDir) ? readdirSync(queueDir).filter((name) => name.endsWith('.ok')).length : 0);
    await waitUntil('a few chunks uploaded', async () => uploaded() >= 5, 60_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const before = JSON.parse(readFileSync(join(queueDir, 'scan.json'), 'utf8'));
    expect(before.sealed).toBe(false);
    expect(uploaded()).toBeLessThan(150);

    const result = await runScanAgent({ root, share: 'resume', srcType: 'POSIX', target, chunkRows: 10, queueDir, wait: true, quiet: true });
    expect(result).toMatchObject({ scanGuid: before.scanGuid, totalChunks: 150, status: 'OK' });
    expect(await fileCount(harness.admin, tenant.tenantId, result.scanGuid)).toBe(1500);
    const chunks = await harness.admin.query('SELECT count(*)::int AS n FROM ingest_chunk c JOIN scan s ON s.id = c.scan_id WHERE s.scan_guid = $1', [result.scanGuid]);
    expect(chunks.rows[0].n).toBe(150);
  });

  it('retries with backoff until the api comes up', async () => {
    const root = join(work, 'tree-3');
    makeTree(root, 50);
    const port = await freePort();
    let app: FastifyInstance | undefined;
    const later = setTimeout(async () => {
      app = await buildApp({ pool: harness.pool, temporal: harness.temporal, temporalConnection: harness.connection, vault: harness.vault, dataDir: TEST_DATA_DIR });
      await app.listen({ host: '127.0.0.1', port });
    }, 1500);
    try {
      const result = await runScanAgent({
        root, share: 'late-api', srcType: 'POSIX', target: { ...target, api: `http://127.0.0.1:${port}` }, chunkRows: 20,
        queueDir: join(work, 'queue-3'), wait: true, quiet: true, retry: { attempts: 30, baseMs: 100, maxMs: 800 },
      });
      expect(result).toMatchObject({ totalChunks: 3, files: 50, status: 'OK' });
    } finally {
      clearTimeout(later);
      closeConnections();
      await app?.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
