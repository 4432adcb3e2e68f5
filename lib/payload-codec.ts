// Temporal PayloadCodec that seals every workflow and activity payload with
// AES-256-GCM under a Vault Transit data key, so the Temporal server (its database,
// its UI without the codec endpoint, exported histories) never holds paths, report
// rows or other tenant data in clear. Payloads that were never sealed pass through,
// so histories recorded before encryption was switched on keep replaying.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { PayloadDecodeError, type PayloadKeyring } from './payload-keys';

export { PayloadDecodeError };

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_WRAPPED_KEY = 'encryption-wrapped-key';
export const METADATA_CIPHER = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export class VaultPayloadCodec implements PayloadCodec {
  constructor(readonly keyring: PayloadKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map(async (payload) => {
      if (isEncrypted(payload)) return payload;
      const dataKey = await this.keyring.currentKey();
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', dataKey.key, nonce);
      cipher.setAAD(Buffer.from(dataKey.id, 'utf8'));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: utf8(ENCRYPTED_ENCODING), [METADATA_CIPHER]: utf8(CIPHER),
          [METADATA_KEY_ID]: utf8(dataKey.id), [METADATA_WRAPPED_KEY]: utf8(dataKey.wrapped),
        },
        data: new Uint8Array(sealed),
      };
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map(async (payload) => (isEncrypted(payload) ? this.open(payload) : payload)));
  }

  private async open(payload: Payload): Promise<Payload> {
    const metadata = payload.metadata ?? {};
    const cipherName = text(metadata[METADATA_CIPHER]);
    if (cipherName !== CIPHER) throw new PayloadDecodeError(`encrypted payload uses cipher ${JSON.stringify(cipherName)}, expected ${CIPHER}`);
    const keyId = text(metadata[METADATA_KEY_ID]);
    const wrapped = text(metadata[METADATA_WRAPPED_KEY]);
    if (!keyId || !wrapped) throw new PayloadDecodeError(`encrypted payload lacks ${METADATA_KEY_ID} or ${METADATA_WRAPPED_KEY} metadata`);
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecodeError(`encrypted payload of ${sealed.length} bytes is too short`);
    const dataKey = await this.keyring.keyFor(keyId, wrapped);
    const decipher = createDecipheriv('aes-256-gcm', dataKey.key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecodeError(`encrypted payload under key ${keyId} failed authentication (altered or wrong key)`);
    }
    const inner = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: inner.metadata, data: inner.data };
  }
}
