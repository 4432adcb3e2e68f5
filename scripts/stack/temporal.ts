// The Temporal CLI dev server: SQLite file under .data/ (or in memory for tests),
// web UI on, and strata's custom search attributes registered at start.
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../../temporal-config/search-attributes';
import { resolveTemporalCli } from './binaries';
import { startProcess, waitUntil, type ManagedProcess } from './processes';

export interface TemporalDevOptions { port: number; uiPort: number; namespace: string; dbFile?: string; logFile: string; ui: boolean; codecEndpoint?: string }

export async function startTemporalDevServer(options: TemporalDevOptions): Promise<ManagedProcess> {
  const cli = resolveTemporalCli();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port),
    '--namespace', options.namespace, '--log-level', 'warn', '--log-format', 'json'];
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.ui) args.push('--ui-port', String(options.uiPort)); else args.push('--headless');
  // The UI decodes payloads through the api's codec endpoint (see temporal-config/README.md).
  if (options.ui && options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_DEFINITIONS)) args.push('--search-attribute', `${name}=${type}`);
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  const server = startProcess('temporal', cli, args, options.logFile);
  await waitUntil('Temporal dev server', () => temporalReachable(`127.0.0.1:${options.port}`), 120_000, server);
  return server;
}

export async function temporalReachable(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.healthService.check({});
    return true;
  } finally {
    await connection.close();
  }
}
