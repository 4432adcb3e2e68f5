// Deterministic mapping from a share and a scanned file path to its path below the
// share root and to a Tier-2 object key/URI that is safe for any path characters.
import { createHash } from 'node:crypto';

export type PathStyle = 'posix' | 'windows';

/** Longest encoded segment kept readable; longer ones are hash-escaped (NAME_MAX is 255 with room for a temp suffix). */
export const MAX_SEGMENT_CHARS = 240;
/** Longest readable key; deeper or longer paths get a hashed key so they stay below PATH_MAX on any target. */
export const MAX_KEY_CHARS = 3072;
/** Never produced by encodeSegment for a readable segment, so temp names cannot collide with keys. */
export const TEMP_SUFFIX = '~strata-part';

const HASH_MARK = '~h';
const HASHED_KEY_DIR = '~long';
const KEEP = /^[A-Za-z0-9._-]$/;
/** Without escapes and all ASCII, decoding is the identity. */
const PLAIN_ASCII = /^[\x00-\x24\x26-\x7f]*$/;
/** A segment encodeSegment keeps as it is (the common case, checked first). */
const PLAIN_SEGMENT = /^(?!\.+$)[A-Za-z0-9._-]+$/;

export function pathStyleOf(srcType: string): PathStyle {
  return srcType === 'POSIX' ? 'posix' : 'windows';
}

function splitPath(style: PathStyle, path: string): string[] {
  return path.split(style === 'posix' ? '/' : /[\\/]/).filter((segment) => segment !== '');
}

/** The path as the index shows it: the scan's directory joined with the file name. */
export function joinScanPath(style: PathStyle, dirPath: string, name: string): string {
  if (dirPath === '') return name;
  if (style === 'posix') return dirPath.endsWith('/') ? dirPath + name : `${dirPath}/${name}`;
  return /[\\/]$/.test(dirPath) ? dirPath + name : `${dirPath}\\${name}`;
}

export type RelativePath = { ok: true; segments: string[]; relPath: string } | { ok: false; reason: 'outside-root' | 'unsafe-path' };

/**
 * The file's segments below the share root: the scan directory must start with the
 * share's scan path prefix (segment-wise; case-insensitive for Windows paths).
 */
export function relativeSegments(style: PathStyle, prefix: string, dirPath: string, name: string): RelativePath {
  const dir = splitPath(style, dirPath);
  const head = splitPath(style, prefix);
  if (head.length > dir.length) return { ok: false, reason: 'outside-root' };
  const same = (a: string, b: string) => (style === 'windows' ? a.toLowerCase() === b.toLowerCase() : a === b);
  if (!head.every((segment, i) => same(segment, dir[i]))) return { ok: false, reason: 'outside-root' };
  const segments = [...dir.slice(head.length), name];
  if (!segments.every(isSafeSegment)) return { ok: false, reason: 'unsafe-path' };
  return { ok: true, segments, relPath: segments.join('/') };
}

export function isSafeSegment(segment: string): boolean {
  return segment !== '' && segment !== '.' && segment !== '..' && !segment.includes('/') && !segment.includes('\0');
}

/** Percent-encodes every UTF-8 byte outside [A-Za-z0-9._-]; an all-dots segment is encoded entirely. */
export function encodeSegment(segment: string): string {
  if (segment.length <= MAX_SEGMENT_CHARS && PLAIN_SEGMENT.test(segment)) return segment;
  const allDots = /^\.+$/.test(segment);
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && KEEP.test(char) && !(allDots && char === '.') ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length <= MAX_SEGMENT_CHARS) return out;
  const digest = sha256Hex(segment).slice(0, 32);
  let cut = MAX_SEGMENT_CHARS - HASH_MARK.length - digest.length;
  // Never cut through a %XX triple.
  while (cut > 0 && out.lastIndexOf('%', cut - 1) > cut - 3) cut = out.lastIndexOf('%', cut - 1);
  return out.slice(0, cut) + HASH_MARK + digest;
}

/** The inverse of encodeSegment for readable segments; null for a hash-escaped one. */
export function decodeSegment(encoded: string): string | null {
  if (encoded.includes('~')) return null;
  if (PLAIN_ASCII.test(encoded)) return encoded;
  return Buffer.from(encoded.replace(/%([0-9A-F]{2})|([^%])/g, (_m, hex: string | undefined, plain: string | undefined) =>
    hex ? String.fromCharCode(parseInt(hex, 16)) : (plain as string)), 'latin1').toString('utf8');
}

/** The object key of a file: the share, then each path segment, encoded. */
export function objectKey(shareName: string, segments: readonly string[]): string {
  const key = [shareName, ...segments].map(encodeSegment).join('/');
  if (key.length <= MAX_KEY_CHARS) return key;
  const digest = sha256Hex(segments.join('/'));
  return [encodeSegment(shareName), HASHED_KEY_DIR, digest.slice(0, 2), digest].join('/');
}

/** Share name and path segments of a readable key; null when any part was hashed. */
export function decodeKey(key: string): { shareName: string; segments: string[] } | null {
  const parts = key.split('/').map(decodeSegment);
  if (parts.length < 2 || parts.some((part) => part === null)) return null;
  return { shareName: parts[0] as string, segments: parts.slice(1) as string[] };
}

export function normalizeRootUri(uri: string): string {
  return uri.replace(/\/+$/, '');
}

/**
 * The URI of an object: keys are stored as they are (their '%' escapes are part of
 * the object's name), so in the URI each '%' is itself escaped as %25.
 */
export function targetUri(rootUri: string, key: string): string {
  return `${normalizeRootUri(rootUri)}/${key.replace(/%/g, '%25')}`;
}

/** The key of a URI below a root, or null if the URI is not under it. */
export function keyOfUri(rootUri: string, uri: string): string | null {
  const root = `${normalizeRootUri(rootUri)}/`;
  if (!uri.startsWith(root) || uri.length === root.length) return null;
  const escaped = uri.slice(root.length);
  if (/%(?!25)/.test(escaped)) return null;
  return escaped.replace(/%25/g, '%');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
