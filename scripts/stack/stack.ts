// Brings up Postgres, Temporal and Vault for a profile (`run` for npm start,
// `test` for jest), skipping any the environment points at externally, and
// returns the environment the workers and the api need.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';
import { createAdminPool } from '../../db/pool';
import { migrate } from '../../db/migrator';
import { databaseSettings } from '../../db/settings';
import { startEmbeddedPostgres } from './postgres';
import { startTemporalDevServer } from './temporal';
import { startVaultDev, startVaultServer } from './vault';

export type StackProfile = 'run' | 'test';

const DEFAULT_PORTS = {
  run: { pg: 54329, temporal: 7233, ui: 8233, vault: 8200, api: 3000 },
  test: { pg: 54339, temporal: 7243, ui: 8243, vault: 8210, api: 3010 },
};

// STRATA_TEST_SLOT lets several test runs share one machine (ports + 100 per slot).
export function testSlot(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.STRATA_TEST_SLOT ?? '0');
}

export function testDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const slot = testSlot(env);
  return join(projectRoot(), slot === 0 ? '.data-test' : `.data-test-${slot}`);
}

function portsFor(profile: StackProfile, env: NodeJS.ProcessEnv) {
  const defaults = DEFAULT_PORTS[profile];
  const shift = profile === 'test' ? testSlot(env) * 100 : 0;
  const pick = (name: string, fallback: number) => Number(env[name] ?? fallback + shift);
  return {
    pg: pick('STRATA_PG_PORT', defaults.pg), temporal: pick('STRATA_TEMPORAL_PORT', defaults.temporal),
    ui: pick('STRATA_TEMPORAL_UI_PORT', defaults.ui), vault: pick('STRATA_VAULT_PORT', defaults.vault),
    api: pick('STRATA_API_PORT', defaults.api),
  };
}

export interface Stack { env: Record<string, string>; dataDir: string; stop(): Promise<void> }


export async function startStack(profile: StackProfile, base: NodeJS.ProcessEnv = process.env): Promise<Stack> {
  const ports = portsFor(profile, base);
  const dataDir = base.STRATA_DATA_DIR ?? (profile === 'run' ? join(projectRoot(), '.data') : testDataDir(base));
  if (profile === 'test') rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const env: Record<string, string> = { STRATA_DATA_DIR: dataDir, STRATA_API_PORT: String(ports.api), STRATA_TEMPORAL_UI_PORT: String(ports.ui) };
  try {
    if (base.DATABASE_URL) env.DATABASE_URL = base.DATABASE_URL;
    else {
      console.log(`[stack] Postgres (embedded) on 127.0.0.1:${ports.pg}, data in ${join(dataDir, 'pg')}`);
      const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), port: ports.pg, database: 'strata', logFile: join(dataDir, 'logs', 'postgres.log') });
      stops.push(pg.stop);
      env.DATABASE_URL = pg.adminUrl;
    }
    if (base.TEMPORAL_ADDRESS) env.TEMPORAL_ADDRESS = base.TEMPORAL_ADDRESS;
    else {
      console.log(`[stack] Temporal dev server on 127.0.0.1:${ports.temporal}${profile === 'run' ? `, UI http://127.0.0.1:${ports.ui}` : ''}`);
      const temporal = await startTemporalDevServer({
        port: ports.temporal, uiPort: ports.ui, namespace: base.TEMPORAL_NAMESPACE ?? 'default', ui: profile === 'run',
        codecEndpoint: base.STRATA_UI_CODEC_ENDPOINT ?? `http://localhost:${ports.api}/codec`,
        dbFile: profile === 'run' ? join(dataDir, 'temporal.db') : undefined, logFile: join(dataDir, 'logs', 'temporal.log'),
      });
      stops.push(temporal.stop);
      env.TEMPORAL_ADDRESS = `127.0.0.1:${ports.temporal}`;
    }
    env.TEMPORAL_NAMESPACE = base.TEMPORAL_NAMESPACE ?? 'default';
    if (base.VAULT_ADDR) { env.VAULT_ADDR = base.VAULT_ADDR; env.VAULT_TOKEN = base.VAULT_TOKEN ?? ''; }
    else {
      console.log(`[stack] Vault on 127.0.0.1:${ports.vault}${profile === 'run' ? `, storage in ${join(dataDir, 'vault')}` : ' (dev mode)'}`);
      const logFile = join(dataDir, 'logs', 'vault.log');
      const vault = profile === 'run'
        ? await startVaultServer({ port: ports.vault, dataDir: join(dataDir, 'vault'), logFile })
        : await startVaultDev({ port: ports.vault, token: 'strata-test-root', logFile });
      stops.push(vault.process.stop);
      env.VAULT_ADDR = vault.address;
      env.VAULT_TOKEN = vault.token;
    }
    await runMigrations({ ...base, ...env });
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
  return { env, dataDir, async stop() { for (const stop of stops.reverse()) await stop().catch((e) => console.error(e)); } };
}

export async function runMigrations(env: NodeJS.ProcessEnv): Promise<string[]> {
  const admin = createAdminPool(env);
  try {
    const { applied } = await migrate(admin, databaseSettings(env).appPassword);
    if (applied.length > 0) console.log(`[stack] applied migrations: ${applied.join(', ')}`);
    return applied;
  } finally {
    await admin.end();
  }
}
