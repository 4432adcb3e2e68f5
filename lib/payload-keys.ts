// Data keys for Temporal payload encryption. A fresh 256-bit key comes from Vault
// Transit (`datakey/plaintext` under one install-wide transit key); its wrapped form
// travels in every payload it sealed, so any process with Vault access can unwrap it,
// whatever transit key version wrapped it. Plaintext keys live in memory only.
import { InvalidInputError, VaultPermissionError } from '../activities/errors';
import { dataKeyId } from './envelope';
import type { VaultClient } from './vault-client';

/** A sealed payload that cannot be opened: altered, foreign, or naming a key Vault refuses. */
export class PayloadDecodeError extends Error {
  constructor(message: string) { super(message); this.name = 'PayloadDecodeError'; }
}

export const PAYLOAD_TRANSIT_KEY = 'strata-payloads';

export interface PayloadDataKey {
  /** `<transit key>:v<version>:<key digest>`: names the key without revealing it. */
  id: string;
  /** Vault ciphertext of the key (`vault:v<version>:...`). */
  wrapped: string;
  key: Buffer;
}

export interface PayloadKeyringOptions {
  transitKey?: string;
  /** A new data key (under the transit key's latest version) after this long. */
  maxKeyAgeMs?: number;
  /** ...or after this many payloads, well below the AES-GCM random-nonce bound. */
  maxKeyUses?: number;
  /** Unwrapped keys of older payloads kept in memory at most. */
  maxCachedKeys?: number;
  transitMount?: string;
  now?: () => number;
}

type Transit = Pick<VaultClient, 'send' | 'ensureTransitKey'>;

export class PayloadKeyring {
  readonly transitKey: string;
  private current: { key: PayloadDataKey; createdAt: number; uses: number } | null = null;
  private pendingCurrent: Promise<PayloadDataKey> | null = null;
  private readonly unwrapped = new Map<string, Promise<PayloadDataKey>>();
  private transitKeyReady: Promise<void> | null = null;

  constructor(private readonly vault: Transit, private readonly options: PayloadKeyringOptions = {}) {
    this.transitKey = options.transitKey ?? PAYLOAD_TRANSIT_KEY;
  }

  /** The key to seal the next payload with; renewed by age or use count. */
  async currentKey(): Promise<PayloadDataKey> {
    const now = this.now();
    const current = this.current;
    if (current && now - current.createdAt < (this.options.maxKeyAgeMs ?? 3_600_000) && current.uses < (this.options.maxKeyUses ?? 1_000_000)) {
      current.uses += 1;
      return current.key;
    }
    this.pendingCurrent ??= this.newKey().finally(() => { this.pendingCurrent = null; });
    const key = await this.pendingCurrent;
    if (this.current) this.current.uses += 1;
    return key;
  }

  /** The key a payload names, unwrapped by Vault once and then kept in memory. */
  async keyFor(id: string, wrapped: string): Promise<PayloadDataKey> {
    const transitKey = id.split(':')[0];
    if (transitKey !== this.transitKey) throw new PayloadDecodeError(`payload was sealed under transit key ${transitKey}; this process uses ${this.transitKey}`);
    let pending = this.unwrapped.get(wrapped);
    if (!pending) {
      pending = this.unwrap(wrapped);
      this.unwrapped.set(wrapped, pending);
      pending.catch(() => this.unwrapped.delete(wrapped));
      this.evictOldest();
    }
    const key = await pending;
    if (key.id !== id) throw new PayloadDecodeError(`payload names data key ${id} but its wrapped key unwraps to ${key.id}`);
    return key;
  }

  /** Forget every key and zero the plaintext bytes (worker or api shutdown). */
  clear(): void {
    this.current = null;
    for (const pending of this.unwrapped.values()) pending.then((entry) => entry.key.fill(0), () => undefined);
    this.unwrapped.clear();
  }

  private async newKey(): Promise<PayloadDataKey> {
    // A token allowed only datakey/decrypt on an existing key may not create it: go on and let datakey say.
    this.transitKeyReady ??= this.vault.ensureTransitKey(this.transitKey).catch((error) => {
      if (error instanceof VaultPermissionError) return;
      this.transitKeyReady = null;
      throw error;
    });
    await this.transitKeyReady;
    const answer = await this.vault.send('POST', `/v1/${this.mount()}/datakey/plaintext/${this.transitKey}`, { bits: 256 }) as
      { data: { plaintext: string; ciphertext: string } };
    const key = Buffer.from(answer.data.plaintext, 'base64');
    const entry = { key, wrapped: answer.data.ciphertext, id: this.idOf(answer.data.ciphertext, key) };
    this.current = { key: entry, createdAt: this.now(), uses: 0 };
    this.unwrapped.set(entry.wrapped, Promise.resolve(entry));
    this.evictOldest();
    return entry;
  }

  private async unwrap(wrapped: string): Promise<PayloadDataKey> {
    const answer = await this.vault.send('POST', `/v1/${this.mount()}/decrypt/${this.transitKey}`, { ciphertext: wrapped }).catch((error) => {
      if (error instanceof InvalidInputError) throw new PayloadDecodeError(`Vault refused the payload's wrapped data key: ${error.message}`);
      throw error;
    }) as { data: { plaintext: string } };
    const key = Buffer.from(answer.data.plaintext, 'base64');
    return { key, wrapped, id: this.idOf(wrapped, key) };
  }

  private idOf(wrapped: string, key: Buffer): string {
    const version = /^vault:v(\d+):/.exec(wrapped)?.[1] ?? '0';
    return `${this.transitKey}:v${version}:${dataKeyId(key)}`;
  }

  private evictOldest(): void {
    const limit = this.options.maxCachedKeys ?? 256;
    const currentWrapped = this.current?.key.wrapped;
    for (const wrapped of this.unwrapped.keys()) {
      if (this.unwrapped.size <= limit) break;
      if (wrapped === currentWrapped) continue;
      this.unwrapped.delete(wrapped);
    }
  }

  private mount(): string {
    return this.options.transitMount ?? 'transit';
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
