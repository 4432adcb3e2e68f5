// Byte-level helpers of the chunk validator: the fast path (a whole unquoted ASCII
// record that is valid, checked in one tight loop; anything else is left to the
// byte-by-byte state machine in csv-chunk.ts) and UTF-8 lead-byte rules.
import { MAX_TIME, MIN_TIME, type CsvLimits } from './csv-rules';

const COMMA = 0x2c, QUOTE = 0x22, CR = 0x0d, LF = 0x0a, MINUS = 0x2d, SLASH = 0x2f;

/** Index just after the record starting at `start`, or `start` when the fast path does not apply. */
export function fastRecordEnd(chunk: Buffer, start: number, limits: CsvLimits, eol: 'LF' | 'CRLF' | undefined): number {
  const end = chunk.length;
  let i = start;
  while (i < end) { const c = chunk[i]; if (c === COMMA || c === QUOTE || c === LF || c === CR || c === 0 || c >= 0x80) break; i++; }
  const dirBytes = i - start;
  if (i >= end || chunk[i] !== COMMA || dirBytes === 0 || dirBytes > limits.maxDirPathBytes) return start;
  const nameStart = ++i;
  while (i < end) { const c = chunk[i]; if (c === COMMA || c === QUOTE || c === LF || c === CR || c === SLASH || c === 0 || c >= 0x80) break; i++; }
  const nameBytes = i - nameStart;
  if (i >= end || chunk[i] !== COMMA || nameBytes === 0 || nameBytes > limits.maxNameBytes) return start;
  for (let column = 2; column < 6; column++) {
    i++;
    const negative = column > 2 && chunk[i] === MINUS;
    if (negative) i++;
    const digitsStart = i;
    let value = 0;
    while (i < end) { const c = chunk[i]; if (c < 0x30 || c > 0x39) break; value = value * 10 + (c - 0x30); i++; }
    const digits = i - digitsStart;
    if (digits === 0 || digits > 16 || i >= end) return start;
    const v = negative ? -value : value;
    if (column === 2 ? v > Number.MAX_SAFE_INTEGER : (v < MIN_TIME || v > MAX_TIME)) return start;
    const c = chunk[i];
    if (column < 5 ? c !== COMMA : c !== LF && c !== CR) return start;
  }
  let recordEol: 'LF' | 'CRLF' = 'LF';
  if (chunk[i] === CR) {
    if (i + 1 >= end || chunk[i + 1] !== LF) return start;
    recordEol = 'CRLF';
    i++;
  }
  return recordEol === eol ? i + 1 : start;
}

/** What must follow a UTF-8 lead byte: how many continuation bytes, and the range of the first (RFC 3629). */
export function utf8Lead(b: number): { need: number; lo: number; hi: number } | undefined {
  if (b >= 0xc2 && b <= 0xdf) return { need: 1, lo: 0x80, hi: 0xbf };
  if (b === 0xe0) return { need: 2, lo: 0xa0, hi: 0xbf };
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return { need: 2, lo: 0x80, hi: 0xbf };
  if (b === 0xed) return { need: 2, lo: 0x80, hi: 0x9f };
  if (b === 0xf0) return { need: 3, lo: 0x90, hi: 0xbf };
  if (b >= 0xf1 && b <= 0xf3) return { need: 3, lo: 0x80, hi: 0xbf };
  if (b === 0xf4) return { need: 3, lo: 0x80, hi: 0x8f };
  return undefined;
}

export function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
