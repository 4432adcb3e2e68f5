// The Vault-API server: a real server with file storage under .data/, initialised
// and unsealed by this script (keys kept 0600), or dev mode for tests; transit mounted.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveVaultServer } from './binaries';
import { startProcess, waitUntil, type ManagedProcess } from './processes';

export interface VaultHandle { process: ManagedProcess; address: string; token: string }

async function call(address: string, method: string, path: string, token?: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${address}${path}`, {
    method, headers: { ...(token ? { 'X-Vault-Token': token } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Vault ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

export async function ensureTransitMount(address: string, token: string): Promise<void> {
  const mounts = await call(address, 'GET', '/v1/sys/mounts', token);
  const known = (mounts.data ?? mounts) as Record<string, unknown>;
  if (!('transit/' in known)) await call(address, 'POST', '/v1/sys/mounts/transit', token, { type: 'transit' });
}

export async function startVaultDev(options: { port: number; token: string; logFile: string }): Promise<VaultHandle> {
  const address = `http://127.0.0.1:${options.port}`;
  const process = startProcess('vault', resolveVaultServer(), ['server', '-dev', `-dev-root-token-id=${options.token}`,
    `-dev-listen-address=127.0.0.1:${options.port}`], options.logFile);
  await waitUntil('Vault (dev)', async () => (await fetch(`${address}/v1/sys/health`)).status === 200, 60_000, process);
  await ensureTransitMount(address, options.token);
  return { process, address, token: options.token };
}

export async function startVaultServer(options: { port: number; dataDir: string; logFile: string }): Promise<VaultHandle> {
  const address = `http://127.0.0.1:${options.port}`;
  mkdirSync(join(options.dataDir, 'storage'), { recursive: true, mode: 0o700 });
  const configFile = join(options.dataDir, 'server.hcl');
  writeFileSync(configFile, [
    `storage "file" { path = "${join(options.dataDir, 'storage')}" }`,
    `listener "tcp" {\n  address = "127.0.0.1:${options.port}"\n  tls_disable = true\n}`,
    `api_addr = "${address}"`, 'disable_mlock = true', 'ui = false', '',
  ].join('\n'));
  const process = startProcess('vault', resolveVaultServer(), ['server', `-config=${configFile}`], options.logFile);
  await waitUntil('Vault', async () => (await fetch(`${address}/v1/sys/health?uninitcode=200&sealedcode=200`)).status === 200, 60_000, process);
  const keysFile = join(options.dataDir, 'init.json');
  if (!existsSync(keysFile)) {
    const init = await call(address, 'PUT', '/v1/sys/init', undefined, { secret_shares: 1, secret_threshold: 1 });
    writeFileSync(keysFile, JSON.stringify(init, null, 2), { mode: 0o600 });
  }
  const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as { keys_base64: string[]; root_token: string };
  await call(address, 'PUT', '/v1/sys/unseal', undefined, { key: keys.keys_base64[0] });
  await waitUntil('Vault unseal', async () => (await fetch(`${address}/v1/sys/health`)).status === 200, 30_000, process);
  await ensureTransitMount(address, keys.root_token);
  return { process, address, token: keys.root_token };
}
