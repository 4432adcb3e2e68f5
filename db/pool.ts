// Connection pools: one app pool per process (strata_app, no privileges of its
// own), and short-lived admin pools for migrations and tests only.
import { Pool, types } from 'pg';
import { databaseSettings } from './settings';

// int8 columns carry counts and sizes that fit in a double for any real estate.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

export function createAppPool(max = 10, env: NodeJS.ProcessEnv = process.env): Pool {
  return new Pool({ connectionString: databaseSettings(env).appUrl, max, application_name: 'strata' });
}

export function createAdminPool(env: NodeJS.ProcessEnv = process.env): Pool {
  return new Pool({ connectionString: databaseSettings(env).adminUrl, max: 2, application_name: 'strata-admin' });
}
