// API tokens: 256 random bits shown once to the caller; only their SHA-256 is stored.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface IssuedToken { id: string; token: string; hash: Buffer }

export function issueToken(): IssuedToken {
  const token = `strata_${randomBytes(32).toString('base64url')}`;
  return { id: randomUUID(), token, hash: hashToken(token) };
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
