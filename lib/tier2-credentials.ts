// Tier-2 target credentials sealed with the tenant data key. The associated data
// binds a sealed value to its tenant and share, so it cannot be moved to another row.
import { open, seal, sealedKeyId } from './envelope';

export type Tier2Credentials = Record<string, string>;

export function credentialsBinding(tenantId: string, shareName: string): string {
  return `tier2_target/${tenantId}/${shareName}`;
}

export function sealCredentials(dek: Buffer, tenantId: string, shareName: string, credentials: Tier2Credentials): string {
  return seal(dek, JSON.stringify(credentials), credentialsBinding(tenantId, shareName));
}

export function openCredentials(dek: Buffer, tenantId: string, shareName: string, sealed: string): Tier2Credentials {
  const plaintext = open(dek, sealed, credentialsBinding(tenantId, shareName));
  try {
    const parsed = JSON.parse(plaintext.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('credentials are not an object');
    return parsed as Tier2Credentials;
  } finally {
    plaintext.fill(0);
  }
}

/** What may be shown or logged about sealed credentials: that they exist, and under which key. */
export function describeSealed(sealed: string | null): { hasCredentials: boolean; keyId: string | null } {
  return sealed ? { hasCredentials: true, keyId: sealedKeyId(sealed) } : { hasCredentials: false, keyId: null };
}
