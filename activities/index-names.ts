// File names are bytes, Postgres text is UTF-8. The index stores names and paths
// as text with a reversible escape: a backslash becomes `\\` and every byte that
// is not part of valid UTF-8 becomes `\xHH`; everything else is stored verbatim.
import { isUtf8 } from 'node:buffer';

const BACKSLASH = 0x5c;

export function escapeName(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.indexOf(BACKSLASH) < 0 && isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let start = 0;
  let i = 0;
  while (i < buf.length) {
    const length = validSequenceLength(buf, i);
    if (length > 0 && buf[i] !== BACKSLASH) { i += length; continue; }
    out += buf.toString('utf8', start, i) + (buf[i] === BACKSLASH ? '\\\\' : `\\x${buf[i].toString(16).padStart(2, '0')}`);
    i += 1;
    start = i;
  }
  return out + buf.toString('utf8', start, buf.length);
}

/** escapeName of buf[0..length), without a copy for the common plain-ASCII name. */
export function escapeNameAt(buf: Buffer, length: number): string {
  for (let i = 0; i < length; i += 1) {
    const b = buf[i];
    if (b >= 0x80 || b === BACKSLASH) return escapeName(buf.subarray(0, length));
  }
  return buf.toString('latin1', 0, length);
}

export function unescapeName(text: string): Buffer {
  if (!text.includes('\\')) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] !== '\\') continue;
    parts.push(Buffer.from(text.slice(start, i), 'utf8'));
    if (text[i + 1] === '\\') {
      parts.push(Buffer.from([BACKSLASH]));
      i += 1;
    } else if (text[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(Buffer.from([parseInt(text.slice(i + 2, i + 4), 16)]));
      i += 3;
    } else {
      throw new Error(`invalid escape at ${i} in stored name ${JSON.stringify(text)}`);
    }
    start = i + 1;
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Joins an escaped directory path and an escaped name. */
export function joinEscaped(dirPath: string, name: string): string {
  return dirPath.endsWith('/') ? dirPath + name : `${dirPath}/${name}`;
}

/** Splits an escaped absolute path into its parent directory and last name. */
export function splitEscaped(path: string): { dirPath: string; name: string } {
  const cut = path.lastIndexOf('/');
  return { dirPath: cut <= 0 ? '/' : path.slice(0, cut), name: path.slice(cut + 1) };
}

/** Length of the valid UTF-8 sequence starting at i, or 0 when the byte starts none. */
function validSequenceLength(buf: Buffer, i: number): number {
  const b0 = buf[i];
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k] >= lo && buf[i + k] <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
