// Minimal Vault/OpenBao HTTP client for the Transit engine: per-tenant keys,
// wrapped data keys, unwrap, rotate and rewrap. Plain fetch, no SDK.
import { VaultPermissionError, VaultUnavailableError, InvalidInputError } from '../activities/errors';

export interface VaultSettings { address: string; token: string; transitMount: string }

export function vaultSettings(env: NodeJS.ProcessEnv = process.env): VaultSettings {
  return {
    address: (env.VAULT_ADDR ?? `http://127.0.0.1:${env.STRATA_VAULT_PORT ?? '8200'}`).replace(/\/$/, ''),
    token: env.VAULT_TOKEN ?? '',
    transitMount: env.STRATA_TRANSIT_MOUNT ?? 'transit',
  };
}

const KEY_NAME = /^[a-z][a-z0-9-]{1,62}$/;

export class VaultClient {
  constructor(private readonly settings: VaultSettings) {}

  async health(): Promise<{ initialized: boolean; sealed: boolean }> {
    const response = await this.send('GET', '/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200', undefined, false);
    return response as { initialized: boolean; sealed: boolean };
  }

  async ensureTransitKey(name: string): Promise<void> {
    await this.send('POST', `/v1/${this.settings.transitMount}/keys/${checkKey(name)}`, { type: 'aes256-gcm96' });
  }

  async createWrappedDataKey(name: string): Promise<string> {
    const data = await this.send('POST', `/v1/${this.settings.transitMount}/datakey/wrapped/${checkKey(name)}`, { bits: 256 });
    return (data as { data: { ciphertext: string } }).data.ciphertext;
  }

  async unwrapDataKey(name: string, ciphertext: string): Promise<Buffer> {
    const data = await this.send('POST', `/v1/${this.settings.transitMount}/decrypt/${checkKey(name)}`, { ciphertext });
    return Buffer.from((data as { data: { plaintext: string } }).data.plaintext, 'base64');
  }

  async rotateKey(name: string): Promise<number> {
    await this.send('POST', `/v1/${this.settings.transitMount}/keys/${checkKey(name)}/rotate`, {});
    return this.latestKeyVersion(name);
  }

  async latestKeyVersion(name: string): Promise<number> {
    const data = await this.send('GET', `/v1/${this.settings.transitMount}/keys/${checkKey(name)}`);
    return (data as { data: { latest_version: number } }).data.latest_version;
  }

  async rewrap(name: string, ciphertext: string): Promise<string> {
    const data = await this.send('POST', `/v1/${this.settings.transitMount}/rewrap/${checkKey(name)}`, { ciphertext });
    return (data as { data: { ciphertext: string } }).data.ciphertext;
  }

  async send(method: string, path: string, body?: unknown, authenticated = true): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.settings.address}${path}`, {
        method,
        headers: { ...(authenticated ? { 'X-Vault-Token': this.settings.token } : {}), 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new VaultUnavailableError(`Vault at ${this.settings.address} is unreachable: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.ok) return text ? JSON.parse(text) : {};
    const detail = `Vault ${method} ${path.split('?')[0]} answered ${response.status}: ${text.slice(0, 300)}`;
    if (response.status === 403) throw new VaultPermissionError(detail);
    if (response.status === 400) throw new InvalidInputError(detail);
    throw new VaultUnavailableError(detail);
  }
}

function checkKey(name: string): string {
  if (!KEY_NAME.test(name)) throw new InvalidInputError(`invalid transit key name ${JSON.stringify(name)}`);
  return name;
}
