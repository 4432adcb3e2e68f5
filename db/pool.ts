// Connection pools: one app pool per process (strata_app, no privileges of its
// own), and short-lived admin pools for migrations and tests only.
import { Pool, types } from 'pg';
import { databaseSettings } from './settings';

// int8 columns carry counts and sizes that fit in a double for any real estate.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

export function createAppPool(max = 10, env: NodeJS.ProcessEnv = process.env): Pool {
  return survivingRestarts(new Pool({ connectionString: databaseSettings(env).appUrl, max, application_name: 'strata' }));
}

export function createAdminPool(env: NodeJS.ProcessEnv = process.env): Pool {
  return survivingRestarts(new Pool({ connectionString: databaseSettings(env).adminUrl, max: 2, application_name: 'strata-admin' }));
}

/**
 * A Postgres restart ends every connection. pg then emits 'error' on the pool (for an
 * idle client) or on a checked-out client between two queries; unhandled, either event
 * would crash the whole worker or api process. The broken client is discarded on
 * release and the next query fails normally, so callers retry as for any other outage.
 */
function survivingRestarts(pool: Pool): Pool {
  const warn = (error: Error) => console.warn(`[pg] connection lost: ${error.message}`);
  pool.on('error', warn);
  pool.on('connect', (client) => client.on('error', warn));
  return pool;
}
