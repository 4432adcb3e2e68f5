// Where Postgres is: the embedded default on its own port, or DATABASE_URL.
// The app never connects as the migrating admin; it uses the strata_app login role.
export const EMBEDDED_PG_PORT = 54329;
export const APP_ROLE = 'strata_app';

export interface DatabaseSettings {
  adminUrl: string;
  appUrl: string;
  appPassword: string;
  external: boolean;
}

export function databaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const port = env.STRATA_PG_PORT ?? String(EMBEDDED_PG_PORT);
  const adminUrl = env.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${port}/strata`;
  const appPassword = env.STRATA_APP_DB_PASSWORD ?? 'strata-app-local';
  const appUrl = env.STRATA_APP_DATABASE_URL ?? withCredentials(adminUrl, APP_ROLE, appPassword);
  return { adminUrl, appUrl, appPassword, external: env.DATABASE_URL !== undefined };
}

function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}
