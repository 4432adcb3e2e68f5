// Unwraps tenant data keys through Vault and keeps them in memory only, for a
// short time, so hot paths do not call Vault for every secret.
import type { VaultClient } from './vault-client';

interface CachedKey { key: Buffer; expiresAt: number }

export class DataKeyCache {
  private readonly entries = new Map<string, CachedKey>();

  constructor(private readonly vault: VaultClient, private readonly ttlMs = 60_000) {}

  async dataKey(tenantCode: string, encryptedDek: string): Promise<Buffer> {
    const cacheKey = `${tenantCode}\u0000${encryptedDek}`;
    const cached = this.entries.get(cacheKey);
    if (cached && cached.expiresAt > Date.now()) return cached.key;
    const key = await this.vault.unwrapDataKey(tenantCode, encryptedDek);
    this.entries.set(cacheKey, { key, expiresAt: Date.now() + this.ttlMs });
    return key;
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.key.fill(0);
    this.entries.clear();
  }
}
