// Starts the api: builds the dependencies once and listens.
import { Client, Connection } from '@temporalio/client';
import { createAppPool } from '../db/pool';
import { VaultClient, vaultSettings } from '../lib/vault-client';
import { temporalSettings } from '../temporal-config/dev-server';
import { createPayloadCodec, dataConverterWith } from '../temporal-config/payload-encryption';
import { buildApp } from './app';
import { codecCorsOrigins } from './codec/routes';

export async function startServer(env: NodeJS.ProcessEnv = process.env) {
  const settings = temporalSettings(env);
  const connection = await Connection.connect({ address: settings.address });
  const vault = new VaultClient(vaultSettings(env));
  const payloadCodec = createPayloadCodec(vault, env);
  const temporal = new Client({ connection, namespace: settings.namespace, dataConverter: dataConverterWith(payloadCodec) });
  const pool = createAppPool(Number(env.STRATA_PG_POOL ?? '20'), env);
  const app = await buildApp({ pool, temporal, temporalConnection: connection, vault, payloadCodec, dataDir: env.STRATA_DATA_DIR ?? '.data' },
    { logger: { level: env.LOG_LEVEL ?? 'info' }, codecCorsOrigins: codecCorsOrigins(env) });
  const port = Number(env.STRATA_API_PORT ?? '3000');
  await app.listen({ host: env.STRATA_API_HOST ?? '127.0.0.1', port });
  return {
    app, port,
    async close() { await app.close(); await pool.end(); await connection.close(); payloadCodec?.keyring.clear(); },
  };
}

if (require.main === module) {
  startServer().then((server) => {
    const shutdown = () => { server.close().then(() => process.exit(0), () => process.exit(1)); };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  }).catch((error) => { console.error(error); process.exit(1); });
}
