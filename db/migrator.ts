// Forward-only migrator: bootstraps the roles, then applies sql/NNNNNN_name.sql in
// order, each in its own transaction as strata_owner, recorded with a checksum.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { APP_ROLE } from './settings';
import { projectRoot } from '../lib/paths';

const FUNCTION_ROLES = ['strata_api', 'strata_ingest', 'strata_planner', 'strata_actor',
  'strata_sanitizer', 'strata_indexer', 'strata_remediator', 'strata_report'];
const MIGRATION_NAME = /^(\d{6})_[a-z0-9_]+\.sql$/;
const MIGRATION_LOCK = 7_305_001;

export interface MigrationResult { applied: string[]; current: string[] }

export function defaultMigrationsDir(): string {
  return join(projectRoot(), 'sql');
}

export async function migrate(admin: Pool, appPassword: string, dir = defaultMigrationsDir()): Promise<MigrationResult> {
  const client = await admin.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await bootstrapRoles(client, appPassword);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
      version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map<string, string>(
      (await client.query('SELECT version, checksum FROM schema_version')).rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const file of migrationFiles(dir)) {
      const sql = readFileSync(join(dir, file.name), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(file.version);
      if (previous !== undefined) {
        if (previous !== checksum) throw new Error(`migration ${file.name} was changed after it was applied (checksum differs)`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query('SET LOCAL ROLE strata_owner');
        await client.query(sql);
        await client.query('RESET ROLE');
        await client.query('INSERT INTO schema_version (version, name, checksum) VALUES ($1, $2, $3)',
          [file.version, file.name, checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file.name} failed: ${(error as Error).message}`);
      }
      applied.push(file.name);
    }
    return { applied, current: migrationFiles(dir).map((f) => f.name) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

function migrationFiles(dir: string): { version: string; name: string }[] {
  return readdirSync(dir).filter((name) => name.endsWith('.sql')).sort().map((name) => {
    const match = MIGRATION_NAME.exec(name);
    if (!match) throw new Error(`migration file name ${name} does not match NNNNNN_name.sql`);
    return { version: match[1], name };
  });
}

async function bootstrapRoles(client: import('pg').PoolClient, appPassword: string): Promise<void> {
  const nologin = ['strata_owner', 'strata_auth', ...FUNCTION_ROLES];
  for (const role of nologin) await ensureRole(client, role, 'NOLOGIN');
  await ensureRole(client, APP_ROLE, 'LOGIN NOINHERIT');
  await client.query(`ALTER ROLE ${APP_ROLE} WITH LOGIN NOINHERIT PASSWORD ${quoteLiteral(appPassword)}`);
  for (const role of FUNCTION_ROLES) await client.query(`GRANT ${role} TO ${APP_ROLE}`);
  await client.query('GRANT strata_auth TO strata_owner');
  await client.query('GRANT strata_owner TO CURRENT_USER');
  await client.query('GRANT USAGE, CREATE ON SCHEMA public TO strata_owner');
  await client.query('GRANT USAGE, CREATE ON SCHEMA public TO strata_auth');
  await client.query(`GRANT CONNECT ON DATABASE ${quoteIdent((await client.query('SELECT current_database() AS d')).rows[0].d)} TO ${APP_ROLE}`);
}

async function ensureRole(client: import('pg').PoolClient, role: string, options: string): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (exists.rowCount === 0) await client.query(`CREATE ROLE ${role} ${options}`);
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdent(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}
