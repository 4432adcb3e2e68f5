// Envelope encryption of tenant secrets with the tenant's data key (AES-256-GCM).
// The sealed form carries a format tag, the key id and the nonce with the ciphertext.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const FORMAT = 'env1';

export function dataKeyId(dek: Buffer): string {
  return createHash('sha256').update('strata-dek-id').update(dek).digest('hex').slice(0, 16);
}

export function seal(dek: Buffer, plaintext: Buffer | string, associatedData = ''): string {
  if (dek.length !== 32) throw new Error('data key must be 32 bytes');
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dek, nonce);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return [FORMAT, dataKeyId(dek), nonce.toString('base64url'), body.toString('base64url')].join('.');
}

export function sealedKeyId(sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== FORMAT) throw new Error('not a sealed value');
  return parts[1];
}

export function open(dek: Buffer, sealed: string, associatedData = ''): Buffer {
  const [format, keyId, nonceText, bodyText] = sealed.split('.');
  if (format !== FORMAT || !keyId || !nonceText || !bodyText) throw new Error('not a sealed value');
  if (keyId !== dataKeyId(dek)) throw new Error(`sealed with data key ${keyId}, not with the key given`);
  const body = Buffer.from(bodyText, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', dek, Buffer.from(nonceText, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
}
