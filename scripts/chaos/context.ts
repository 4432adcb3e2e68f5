// What every chaos scenario gets: the stack, the api in-process (as an agent or
// operator would call it), pools, a Temporal client, one tenant with its tokens,
// and helpers that keep calling through an outage the way a real client retries.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Pool } from 'pg';
import { buildApp } from '../../api/app';
import { createAdminPool, createAppPool } from '../../db/pool';
import { VaultClient, vaultSettings } from '../../lib/vault-client';
import { ensureInstallAdmin } from '../admin-token';
import { createPayloadCodec, dataConverterWith } from '../../temporal-config/payload-encryption';
import type { ChaosStack } from './stack';

export interface ChaosTenant { tenantId: string; code: string; tokens: Record<'admin' | 'op' | 'ap1' | 'ap2' | 'agent', string> }

export interface ChaosContext {
  stack: ChaosStack; app: FastifyInstance; pool: Pool; admin: Pool; vault: VaultClient; temporal: Client;
  tenant: ChaosTenant; installToken: string; work: string; random: () => number;
  close(): Promise<void>;
}

/** Deterministic pseudo-random numbers, so a failing trial can be repeated with its seed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function createContext(stack: ChaosStack, seed: number): Promise<ChaosContext> {
  Object.assign(process.env, stack.env);
  const pool = createAppPool(6);
  const admin = createAdminPool();
  const vault = new VaultClient(vaultSettings());
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  // The same payload encryption as the api server and the workers (api/server.ts).
  const payloadCodec = createPayloadCodec(vault);
  const temporal = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE, dataConverter: dataConverterWith(payloadCodec) });
  const app = await buildApp({ pool, temporal, temporalConnection: connection, vault, payloadCodec, dataDir: stack.dataDir },
    { logger: { level: 'error', file: join(stack.logs, 'api.log') } });
  const installToken = `strata_${randomBytes(32).toString('base64url')}`;
  await ensureInstallAdmin(stack.env.DATABASE_URL, installToken);
  const work = join(stack.dataDir, 'work');
  mkdirSync(work, { recursive: true });
  const context: ChaosContext = {
    stack, app, pool, admin, vault, temporal, installToken, work, random: seeded(seed), tenant: undefined as unknown as ChaosTenant,
    async close() { await app.close(); await connection.close(); await pool.end(); await admin.end(); payloadCodec?.keyring.clear(); },
  };
  context.tenant = await onboardChaosTenant(context);
  return context;
}

async function onboardChaosTenant(context: ChaosContext): Promise<ChaosTenant> {
  const code = `chaos-${Date.now().toString(36)}`;
  const onboarded = await call(context, context.installToken, 'POST', '/tenants', { code, name: 'Chaos tenant' });
  if (onboarded.statusCode !== 201) throw new Error(`onboarding the chaos tenant failed: ${onboarded.statusCode} ${onboarded.body}`);
  const { tenantId, adminToken } = onboarded.json();
  const tokens = { admin: adminToken.token as string } as ChaosTenant['tokens'];
  for (const [name, role] of [['op', 'operator'], ['ap1', 'approver'], ['ap2', 'approver'], ['agent', 'agent']] as const) {
    const issued = await call(context, tokens.admin, 'POST', `/tenants/${code}/tokens`, { userName: `chaos-${name}`, role });
    if (issued.statusCode !== 201) throw new Error(`token ${name} failed: ${issued.statusCode} ${issued.body}`);
    tokens[name] = issued.json().token;
  }
  return { tenantId, code, tokens };
}

export function call(context: ChaosContext, token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown,
  headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return context.app.inject({
    method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}`, ...headers },
    payload: payload as string | Buffer | object | undefined,
  });
}

/**
 * Calls until an answer other than a 5xx (or a thrown connection error) comes back,
 * as an agent or operator retries while a server is down; gives up after timeoutMs.
 */
export async function persist(what: string, attempt: () => Promise<LightMyRequestResponse>, timeoutMs = 180_000): Promise<LightMyRequestResponse> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const answer = await attempt();
      if (answer.statusCode < 500) return answer;
      last = `${answer.statusCode} ${answer.body.slice(0, 300)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${last}`);
    await sleep(500);
  }
}

/** Polls probe (errors count as "not yet") until it returns a value. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(300);
  }
}

/** The result of a workflow once it has closed, read through outages of the Temporal server. */
export async function workflowOutcome<T>(context: ChaosContext, workflowId: string, timeoutMs = 240_000): Promise<T> {
  const handle = context.temporal.workflow.getHandle(workflowId);
  await eventually(`workflow ${workflowId} to close`, async () => ((await handle.describe()).status.name === 'RUNNING' ? undefined : true), timeoutMs);
  return eventually(`the result of ${workflowId}`, async () => (await handle.result()) as T, 60_000);
}

export function check(violations: string[], condition: boolean, message: string): void {
  if (!condition) violations.push(message);
}

export function trialDir(context: ChaosContext, label: string): string {
  const dir = join(context.work, `${label}-${Date.now().toString(36)}-${Math.floor(context.random() * 1e6)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
