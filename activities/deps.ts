// The dependencies activities receive: built once per worker process, injected.
import type { Pool } from 'pg';
import type { VaultClient } from '../lib/vault-client';
import type { DataKeyCache } from '../lib/data-keys';

export interface ActivityDeps {
  pool: Pool;
  vault: VaultClient;
  dataKeys: DataKeyCache;
}
