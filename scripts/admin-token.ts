// The install admin token: taken from STRATA_ADMIN_TOKEN, or created once for a
// new install and printed once; only its hash is stored.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { hashToken, issueToken } from '../lib/tokens';

export async function ensureInstallAdmin(adminUrl: string, fromEnv?: string): Promise<string | undefined> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    if (fromEnv) {
      await client.query(
        `INSERT INTO install_admin_token (id, name, token_hash) VALUES ($1, 'env', $2) ON CONFLICT (token_hash) DO NOTHING`,
        [randomUUID(), hashToken(fromEnv)]);
      return undefined;
    }
    const existing = await client.query('SELECT 1 FROM install_admin_token WHERE revoked_at IS NULL LIMIT 1');
    if (existing.rowCount) return undefined;
    const token = issueToken();
    await client.query(`INSERT INTO install_admin_token (id, name, token_hash) VALUES ($1, 'install', $2)`, [token.id, token.hash]);
    return token.token;
  } finally {
    await client.end();
  }
}
