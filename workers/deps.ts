// Builds the dependencies every worker process shares, once, for injection.
import { createAppPool } from '../db/pool';
import { DataKeyCache } from '../lib/data-keys';
import { VaultClient, vaultSettings } from '../lib/vault-client';
import type { ActivityDeps } from '../activities/deps';

export function buildDeps(env: NodeJS.ProcessEnv = process.env): ActivityDeps & { close(): Promise<void> } {
  const pool = createAppPool(Number(env.STRATA_PG_POOL ?? '10'), env);
  const vault = new VaultClient(vaultSettings(env));
  const dataKeys = new DataKeyCache(vault);
  return {
    pool, vault, dataKeys,
    async close() { dataKeys.clear(); await pool.end(); },
  };
}
