// `npm start` end to end: the whole stack comes up from the start script, serves
// the api and the Temporal UI, stops cleanly on Ctrl-C and keeps its data.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';

const slotShift = Number(process.env.STRATA_TEST_SLOT ?? '0') * 100 + 50;
const ports = { pg: 54339 + slotShift, temporal: 7243 + slotShift, ui: 8243 + slotShift, vault: 8210 + slotShift, api: 3010 + slotShift };
const dataDir = mkdtempSync(join(tmpdir(), 'strata-start-'));
// Postgres runs as its own user and must be able to reach its data directory.
chmodSync(dataDir, 0o755);

function startStrata(): { child: ChildProcess; output: () => string; banner: Promise<string> } {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, STRATA_DATA_DIR: dataDir,
    STRATA_PG_PORT: String(ports.pg), STRATA_TEMPORAL_PORT: String(ports.temporal), STRATA_TEMPORAL_UI_PORT: String(ports.ui),
    STRATA_VAULT_PORT: String(ports.vault), STRATA_API_PORT: String(ports.api), STRATA_HOST_ID: 'e2e-host',
  };
  const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'start.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const banner = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => { output += chunk.toString(); if (output.includes('strata is running')) resolve(output); };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`start exited early (${code}):\n${output}`)));
  });
  return { child, output: () => output, banner };
}

async function stopWithCtrlC(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  return exited;
}

async function refused(url: string): Promise<boolean> {
  try { await fetch(url, { signal: AbortSignal.timeout(2000) }); return false; } catch { return true; }
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('runs the whole stack, stops on Ctrl-C, and finds the same data on the next start', async () => {
    const first = startStrata();
    const banner = await first.banner;
    const token = /Install admin token \(shown once, store it now\): (strata_\S+)/.exec(banner)?.[1];
    expect(token).toBeDefined();
    expect(banner).toContain(`http://127.0.0.1:${ports.api}/docs`);
    const api = `http://127.0.0.1:${ports.api}`;
    expect(await (await fetch(`${api}/readyz`)).json()).toMatchObject({ ready: true });
    expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
    expect((await fetch(`${api}/docs`)).status).toBe(200);
    const onboard = await fetch(`${api}/api/v1/tenants`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'persisted', name: 'Persisted Tenant' }),
    });
    expect(onboard.status).toBe(201);
    const tenantToken = ((await onboard.json()) as { adminToken: { token: string } }).adminToken.token;
    expect(await stopWithCtrlC(first.child)).toBe(0);
    for (const port of [ports.api, ports.ui, ports.vault, ports.temporal]) expect(await refused(`http://127.0.0.1:${port}/`)).toBe(true);

    const second = startStrata();
    const secondBanner = await second.banner;
    expect(secondBanner).toContain('Install admin token: created earlier');
    const events = await fetch(`${api}/api/v1/audit/events`, { headers: { authorization: `Bearer ${tenantToken}` } });
    expect(events.status).toBe(200);
    expect(((await events.json()) as { events: { action: string }[] }).events.map((e: { action: string }) => e.action)).toContain('tenant.onboarded');
    const again = await fetch(`${api}/api/v1/tenants`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'persisted', name: 'Persisted Tenant' }),
    });
    expect(again.status).toBe(409);
    expect(await stopWithCtrlC(second.child)).toBe(0);
  }, 600_000);
});
