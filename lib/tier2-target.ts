// The Tier-2 storage a share's idle files move to. Batch-first, because filesystems
// and object stores both go faster with many objects in flight. The filesystem
// target is implemented (lib/tier2-fs.ts); S3 or Azure would sit beside it.
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../activities/errors';
import type { Tier2Credentials } from './tier2-credentials';
import { FsTier2Target, type FsTier2Ops } from './tier2-fs';

/** Identity and state of a source file when it was inspected; a copy is only valid for this exact state. */
export interface SourceFingerprint { dev: string; ino: string; size: number; mtimeNs: string; ctimeNs: string }

export interface Tier2PutItem { key: string; sourcePath: string; fingerprint: SourceFingerprint; label: string }
export type Tier2PutResult =
  | { ok: true; size: number; sha256: string }
  | { ok: false; reason: 'changed' | 'mismatch' | 'error'; message: string };

export interface Tier2Expected { size: number; sha256: string }
export type Tier2VerifyResult = 'ok' | 'missing' | 'size-mismatch' | 'hash-mismatch';

export interface Tier2GetItem { key: string; destinationPath: string; expected: Tier2Expected }
export type Tier2GetResult = { ok: true } | { ok: false; reason: 'missing' | 'mismatch' | 'error'; message: string };

export interface Tier2Entry { key: string; size: number; mtimeMs: number }

export type Durability = 'syncfs' | 'fsync';

export interface Tier2Target {
  readonly rootUri: string;
  /** Whether a run can start: the target is reachable and writable, and how much space it has. */
  probe(): Promise<{ writable: boolean; freeBytes: number | null; detail?: string }>;
  /** Stores each source under its key and checks the stored copy (size + SHA-256) against the source. Durable once flush() resolves. */
  put(items: readonly Tier2PutItem[]): Promise<Tier2PutResult[]>;
  /**
   * Makes every completed put durable; a source may be replaced by a stub only after
   * this. Local paths in alsoDurable are made durable in the same barrier where the
   * target shares their filesystem (one syncfs instead of two); others ignore them.
   */
  flush(alsoDurable?: readonly string[]): Promise<void>;
  verify(items: readonly { key: string; expected: Tier2Expected }[]): Promise<Tier2VerifyResult[]>;
  /** Writes each object to a new file at destinationPath and checks it against expected; the caller makes it durable. */
  get(items: readonly Tier2GetItem[]): Promise<Tier2GetResult[]>;
  remove(keys: readonly string[]): Promise<void>;
  list(prefix?: string): AsyncIterable<Tier2Entry>;
}

export interface Tier2OpenOptions {
  /** Opened in the activity that needs them, never logged or returned. */
  credentials: Tier2Credentials | null;
  /** The host's filesystem executor (worker threads) for filesystem targets. */
  fsOps: FsTier2Ops;
  durability?: Durability;
}

export function targetScheme(uri: string): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\//.exec(uri);
  if (!match) throw new InvalidInputError(`not a target URI: ${JSON.stringify(uri)}`);
  return match[1];
}

/** Validates a target root URI before it is stored. */
export function checkTargetUri(uri: string): void {
  const scheme = targetScheme(uri);
  if (scheme !== 'file') throw new InvalidInputError(`Tier-2 targets of scheme ${scheme}: are not supported yet (file:// only)`);
  const path = fileURLToPath(uri);
  if (!path.startsWith('/') || path.split('/').includes('..')) throw new InvalidInputError(`file target must be an absolute path: ${uri}`);
}

export function openTier2Target(uri: string, options: Tier2OpenOptions): Tier2Target {
  checkTargetUri(uri);
  // A filesystem target is mounted by the host; credentials, if stored, are for targets that log in themselves.
  return new FsTier2Target(uri, options.fsOps, options.durability ?? 'syncfs');
}
