// Tiering test helpers: a real directory tree with idle and warm files, its scan
// loaded into the index, the share configured through the api, runs started and
// awaited, and the invariant every test checks: no file ever lost.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { loadScanSnapshot, type ScanFileRow } from '../../db/queries/tiering-scan-load';
import { readStub } from '../../activities/stub-format';

export const DAY = 86_400;
export const NOW = () => Math.floor(Date.now() / 1000);

export interface TreeFile { relPath: string; size: number; idleDays: number; mode?: number; content?: Buffer }
export interface Roots { base: string; source: string; target: string; targetUri: string }

export function makeRoots(label = 'tier'): Roots {
  const base = mkdtempSync(join(tmpdir(), `strata-${label}-`));
  const source = join(base, 'share');
  const target = join(base, 'tier2');
  mkdirSync(source);
  mkdirSync(target);
  return { base, source, target, targetUri: pathToFileURL(target).href };
}

export function contentOf(file: TreeFile): Buffer {
  if (file.content) return file.content;
  const seed = createHash('sha256').update(file.relPath).digest();
  const out = Buffer.alloc(file.size);
  for (let i = 0; i < file.size; i++) out[i] = seed[i % seed.length] ^ (i & 0xff);
  return out;
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Writes the files; idle ones get atime and mtime idleDays in the past. */
export function buildTree(root: string, files: TreeFile[]): void {
  for (const file of files) {
    const path = join(root, file.relPath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contentOf(file), { mode: file.mode ?? 0o640 });
    const when = NOW() - file.idleDays * DAY;
    utimesSync(path, when - 3600, when);
  }
}

/** Scan rows as an agent on this host would report them: absolute POSIX directory paths. */
export function scanRowsOf(root: string, files: TreeFile[]): ScanFileRow[] {
  return files.map((file) => {
    const st = lstatSync(join(root, file.relPath));
    const path = join(root, file.relPath);
    return {
      dirPath: dirname(path), name: path.slice(dirname(path).length + 1), size: st.size,
      atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000), ctime: Math.floor(st.ctimeMs / 1000),
    };
  });
}

export async function loadScan(pool: Pool, tenantId: string, shareName: string, rows: ScanFileRow[]): Promise<number> {
  return withTenant(pool, { tenantId, role: 'strata_ingest' }, (client) => loadScanSnapshot(client, tenantId, { shareName, srcType: 'POSIX', rows }));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function configureShare(app: FastifyInstance, token: string, shareName: string, config: { hostId: string; roots: Roots; credentials?: Record<string, string> }): Promise<void> {
  const response = await app.inject({
    method: 'PUT', url: `/api/v1/tiering/shares/${encodeURIComponent(shareName)}`, headers: bearer(token),
    payload: { source: { hostId: config.hostId, rootPath: config.roots.source, scanPathPrefix: config.roots.source }, target: { uri: config.roots.targetUri, credentials: config.credentials } },
  });
  if (response.statusCode !== 200) throw new Error(`configuring ${shareName} failed: ${response.statusCode} ${response.body}`);
}

export async function planShare(app: FastifyInstance, temporal: Client, token: string, shareName: string, policy: Record<string, unknown> = {}): Promise<{ planId: string; workflowId: string; summary: Record<string, unknown> }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/tiering/plans', headers: bearer(token), payload: { shareName, policy } });
  if (response.statusCode !== 202) throw new Error(`plan failed: ${response.statusCode} ${response.body}`);
  const { planId, workflowId } = response.json();
  const result = await temporal.workflow.getHandle(workflowId).result();
  return { planId, workflowId, summary: result.summary };
}

export async function startRun(app: FastifyInstance, token: string, url: string, payload: Record<string, unknown>): Promise<{ actionId: string; workflowId: string }> {
  const response = await app.inject({ method: 'POST', url, headers: bearer(token), payload });
  if (response.statusCode !== 202) throw new Error(`${url} failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

export interface TierRow { id: number; rel_path: string; state: string; target_uri: string; content_sha256: string | null; last_outcome: string | null; size_bytes: number }

export async function tierRows(admin: Pool, tenantId: string, where = 'TRUE', params: unknown[] = []): Promise<TierRow[]> {
  return (await admin.query(`SELECT id, rel_path, state, target_uri, content_sha256, last_outcome, size_bytes FROM tier_object
    WHERE tenant_id = $1 AND ${where} ORDER BY rel_path`, [tenantId, ...params])).rows;
}

/**
 * Every file of the tree is intact: either the original content at its path, or a
 * stub whose xattrs name a Tier-2 copy holding exactly that content.
 */
export function assertNothingLost(roots: Roots, files: TreeFile[]): { stubs: number; originals: number } {
  let stubs = 0;
  let originals = 0;
  for (const file of files) {
    const path = join(roots.source, file.relPath);
    const expected = sha256(contentOf(file));
    const stub = readStub(path);
    if (!stub) {
      if (sha256(readFileSync(path)) !== expected) throw new Error(`${file.relPath} lost its content`);
      originals++;
      continue;
    }
    const uri = stub.uri;
    if (stub.sha256 !== expected) throw new Error(`stub of ${file.relPath} records hash ${stub.sha256}, content was ${expected}`);
    if (sha256(readFileSync(fileURLToPath(uri))) !== expected) throw new Error(`stub of ${file.relPath} points at ${uri}, which does not hold its content`);
    stubs++;
  }
  return { stubs, originals };
}
