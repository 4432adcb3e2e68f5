// Test helpers for remediation: trees with real ACLs (setfacl), getfacl dumps and
// ctimes to compare before and after, indexing a tree, driving runs via the api, and
// bare run rows for tests of the remediation tables.
import { spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { randomUUID } from 'node:crypto';

export function sh(command: string, ...args: string[]): string {
  const done = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (done.status !== 0) throw new Error(`${command} ${args.slice(0, 4).join(' ')} failed: ${done.stderr}`);
  return done.stdout;
}

/** setfacl over many files, in chunks that fit a command line. */
export function setfacl(args: string[], files: string[]): void {
  for (let i = 0; i < files.length; i += 500) sh('setfacl', ...args, '--', ...files.slice(i, i + 500));
}

/** Empty files named f0000.. in dir, created with mode. */
export function makeFiles(dir: string, count: number, mode = 0o644, prefix = 'f'): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const path = join(dir, `${prefix}${String(i).padStart(5, '0')}`);
    closeSync(openSync(path, 'w', mode));
    return path;
  });
}

/** getfacl -R with numeric ids: the whole tree's ACLs, owners and modes as text (sorted by path). */
export function getfaclTree(root: string): string {
  const text = sh('getfacl', '-R', '-p', '-n', root);
  return text.split('\n\n').filter(Boolean).sort().join('\n\n');
}

export function getfaclOf(path: string): string {
  return sh('getfacl', '-p', '-n', '-c', path).trim();
}

/** ctime (ns) of every entry below root, links not followed. */
export function ctimes(root: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const visit = (path: string) => {
    const stat = lstatSync(path, { bigint: true });
    out.set(path, stat.ctimeNs);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return out;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Api answers are arbitrary JSON that tests pick fields from.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Indexes a volume through the api and waits for the bootstrap to finish. */
export async function indexVolume(app: FastifyInstance, temporal: Client, token: string, hostId: string, volume: string): Promise<{ scanId: number }> {
  const response = await app.inject({
    method: 'POST', url: '/api/v1/index/bootstrap', headers: bearer(token),
    payload: { hostId, volume, shareSources: { smbConfPath: null, exportsPath: null, exportsDir: null } },
  });
  if (response.statusCode !== 202) throw new Error(`bootstrap refused: ${response.body}`);
  return temporal.workflow.getHandle(response.json().id).result();
}

export async function planViaApi(app: FastifyInstance, token: string, body: Record<string, unknown>): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/remediation/plans', headers: bearer(token), payload: body });
  if (response.statusCode !== 202) throw new Error(`plan refused: ${response.statusCode} ${response.body}`);
  return response.json().id;
}

export async function runView(app: FastifyInstance, token: string, id: string, query = ''): Promise<Json> {
  const response = await app.inject({ method: 'GET', url: `/api/v1/remediation/${id}${query}`, headers: bearer(token) });
  if (response.statusCode !== 200) throw new Error(`GET remediation failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

export async function waitForStatus(app: FastifyInstance, token: string, id: string, statuses: string[], timeoutMs = 120_000): Promise<Json> {
  return waitFor(async () => {
    const view = await runView(app, token, id);
    return statuses.includes(view.status) ? view : undefined;
  }, `remediation ${id} to reach ${statuses.join('|')}`, timeoutMs);
}

/** A remediation run row (and its action) of a tenant, as the api and the workflow would write it; returns its id. */
export async function createRunRow(admin: Pool, tenantId: string): Promise<string> {
  const runId = randomUUID();
  await admin.query(`INSERT INTO action (id, tenant_id, kind, requested_by) VALUES ($1, $2, 'remediation', 'test')`, [runId, tenantId]);
  await admin.query(
    `INSERT INTO remediation_run (id, tenant_id, action_id, workflow_id, requested_by, scope, policy, options)
     VALUES ($1, $2, $1, 'wf', 'test', '{}', '{}', '{}')`, [runId, tenantId]);
  return runId;
}
