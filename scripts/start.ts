// `npm start`: the whole stack on one machine. Postgres, Temporal (with UI) and
// Vault, migrations, then the central worker, one host worker and the api as
// child processes. Ctrl-C stops everything; data stays under .data/.
import { join } from 'node:path';
import { startStack } from './stack/stack';
import { startProcess, waitUntil, type ManagedProcess } from './stack/processes';
import { ensureInstallAdmin } from './admin-token';

async function main(): Promise<void> {
  const stack = await startStack('run');
  const uiOrigins = [`http://localhost:${stack.env.STRATA_TEMPORAL_UI_PORT}`, `http://127.0.0.1:${stack.env.STRATA_TEMPORAL_UI_PORT}`];
  const env = { STRATA_CODEC_CORS_ORIGINS: uiOrigins.join(','), ...process.env, ...stack.env };
  const adminToken = await ensureInstallAdmin(stack.env.DATABASE_URL, process.env.STRATA_ADMIN_TOKEN);
  const logs = join(stack.dataDir, 'logs');
  const dist = join(__dirname, '..');
  const children: ManagedProcess[] = [
    startProcess('central-worker', process.execPath, [join(dist, 'workers', 'central.js')], join(logs, 'central-worker.log'), env),
    startProcess('host-worker', process.execPath, [join(dist, 'workers', 'host.js')], join(logs, 'host-worker.log'), env),
    startProcess('api', process.execPath, [join(dist, 'api', 'server.js')], join(logs, 'api.log'), env),
  ];
  const api = `http://127.0.0.1:${stack.env.STRATA_API_PORT}`;
  await waitUntil('api', async () => (await fetch(`${api}/readyz`)).ok, 120_000, children[2]);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\n[stack] stopping...');
    for (const child of children.reverse()) await child.stop();
    await stack.stop();
    process.exit(code);
  };
  for (const child of children) {
    child.child.once('exit', (exitCode) => {
      if (!stopping) { console.error(`[stack] ${child.name} exited (${exitCode}); see ${join(logs, `${child.name}.log`)}`); void stop(1); }
    });
  }
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  printBanner(api, stack.env, logs, adminToken);
}

function printBanner(api: string, env: Record<string, string>, logs: string, adminToken?: string): void {
  const ui = process.env.TEMPORAL_ADDRESS ? `(external Temporal at ${env.TEMPORAL_ADDRESS})` : `http://localhost:${env.STRATA_TEMPORAL_UI_PORT}`;
  console.log(['', 'strata is running', `  API          ${api}/api/v1`, `  API docs     ${api}/docs`,
    `  Temporal UI  ${ui}`, `  Codec        ${api}/codec (payloads are encrypted; sign in at http://localhost:${env.STRATA_API_PORT}/codec/login to read them in the UI)`,
    `  Health       ${api}/readyz   metrics ${api}/metrics`, `  Logs         ${logs}`,
    adminToken ? `  Install admin token (shown once, store it now): ${adminToken}` : '  Install admin token: created earlier (or STRATA_ADMIN_TOKEN)',
    '  Ctrl-C stops everything; data stays in .data/', ''].join('\n'));
}

main().catch((error) => { console.error(`[stack] failed to start: ${error.stack ?? error}`); process.exit(1); });
