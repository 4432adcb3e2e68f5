// The streaming chunk validator: every kind of bad input with its line and column,
// and properties (any valid chunk is accepted and passed through unchanged, and
// where the stream is cut into pieces never changes the verdict).
import fc from 'fast-check';
import { ChunkRejectedError, CsvChunkValidator } from '../../lib/csv-chunk';
import { DEFAULT_CSV_LIMITS, MAX_TIME, MIN_TIME, type CsvLimits, type CsvProblem } from '../../lib/csv-rules';

const HEADER = 'dir_path,name,size_bytes,atime_unix,mtime_unix,ctime_unix';
const ROW = 'C:\\data\\x,a.txt,10,1700000000,1700000000,1700000000';

interface Verdict { ok: boolean; rows?: number; output?: Buffer; problems?: CsvProblem[]; tooLarge?: boolean }

function validate(input: Buffer | string, pieces: number[] = [], limits: CsvLimits = DEFAULT_CSV_LIMITS): Verdict {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const validator = new CsvChunkValidator(limits);
  const out: Buffer[] = [];
  try {
    let at = 0;
    for (const cut of [...pieces.filter((p) => p > 0 && p < data.length).sort((a, b) => a - b), data.length]) {
      out.push(...validator.push(data.subarray(at, cut)));
      at = cut;
    }
    const end = validator.finish();
    out.push(...end.tail);
    return { ok: true, rows: end.summary.rows, output: Buffer.concat(out) };
  } catch (error) {
    if (!(error instanceof ChunkRejectedError)) throw error;
    return { ok: false, problems: error.problems, tooLarge: error.tooLarge };
  }
}

function firstProblem(input: Buffer | string): CsvProblem {
  const verdict = validate(input);
  expect(verdict.ok).toBe(false);
  return verdict.problems![0];
}

describe('accepts valid chunks', () => {
  it('passes rows through unchanged and counts them', () => {
    const text = `${ROW}\n${ROW}\n`;
    expect(validate(text)).toMatchObject({ ok: true, rows: 2, output: Buffer.from(text) });
  });

  it('drops a header line and a byte order mark but counts only data rows', () => {
    const verdict = validate(`\ufeff${HEADER}\r\n${ROW}\r\n`);
    expect(verdict).toMatchObject({ ok: true, rows: 1 });
    expect(verdict.output!.toString()).toBe(`${ROW}\r\n`);
  });

  it('accepts RFC 4180 quoting, quoted newlines, commas and doubled quotes, and no final newline', () => {
    const text = `"C:\\a, b","x ""quoted""\nname",1,2,3,4\n/tmp,"é ✓ 😀",0,${MIN_TIME},0,${MAX_TIME}`;
    expect(validate(text)).toMatchObject({ ok: true, rows: 2, output: Buffer.from(text) });
  });

  it('accepts an empty chunk and a header-only chunk as zero rows', () => {
    expect(validate('')).toMatchObject({ ok: true, rows: 0 });
    expect(validate(`${HEADER}\n`)).toMatchObject({ ok: true, rows: 0, output: Buffer.alloc(0) });
  });
});

describe('rejects bad chunks with line, column and reason', () => {
  const cases: [string, string | Buffer, Partial<CsvProblem>][] = [
    ['too few columns', `${ROW}\na,b,1,2,3\n`, { line: 2, reason: 'expected 6 columns, found 5' }],
    ['too many columns', `${ROW},extra\n`, { line: 1, reason: 'expected 6 columns, found 7' }],
    ['a non-numeric size', 'd,n,12x,1,2,3\n', { line: 1, column: 3, field: 'size_bytes' }],
    ['a negative size', 'd,n,-5,1,2,3\n', { line: 1, column: 3, reason: 'size_bytes must not be negative' }],
    ['an empty number', 'd,n,1,,2,3\n', { line: 1, column: 4, reason: 'atime_unix is empty' }],
    ['a time out of range', `d,n,1,2,${MAX_TIME + 1},3\n`, { column: 5, field: 'mtime_unix' }],
    ['a size past 2^53', 'd,n,9007199254740993,1,2,3\n', { column: 3 }],
    ['an empty name', 'd,,1,2,3,4\n', { column: 2, reason: 'name is empty' }],
    ['a slash in a name', 'd,a/b,1,2,3,4\n', { column: 2 }],
    ['a NUL byte', 'd,a\0b,1,2,3,4\n', { line: 1, column: 2, reason: 'NUL byte' }],
    ['invalid UTF-8', Buffer.concat([Buffer.from(`${ROW}\nd,`), Buffer.from([0xff]), Buffer.from(',1,2,3,4\n')]), { line: 2, column: 2, reason: 'invalid UTF-8' }],
    ['an overlong UTF-8 encoding', Buffer.concat([Buffer.from('d'), Buffer.from([0xc0, 0xaf]), Buffer.from(',n,1,2,3,4\n')]), { column: 1, reason: 'invalid UTF-8' }],
    ['a UTF-16 surrogate in UTF-8', Buffer.concat([Buffer.from('d'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(',n,1,2,3,4\n')]), { reason: 'invalid UTF-8' }],
    ['a path over the limit', `${'p'.repeat(2049)},n,1,2,3,4\n`, { column: 1, reason: 'dir_path is 2049 bytes long (limit 2048)' }],
    ['an unterminated quote', `${ROW}\n"d,n,1,2,3,4\n`, { line: 2, reason: 'unterminated quoted field (the record starting on line 2 never ends)' }],
    ['a quote inside an unquoted field', 'd,a"b,1,2,3,4\n', { column: 2, reason: 'quote inside an unquoted field' }],
    ['text after a closing quote', '"d"x,n,1,2,3,4\n', { column: 1, reason: 'unexpected character after a closing quote' }],
    ['a bare carriage return', 'd,n,1,2,3,4\rd,n,1,2,3,4\r', { line: 1, reason: 'carriage return not followed by a line feed' }],
    ['mixed line endings', `${ROW}\r\n${ROW}\n`, { line: 2, reason: 'line ends with LF but the first line ended with CRLF' }],
    ['an empty line', `${ROW}\n\n${ROW}\n`, { line: 2, reason: 'empty line' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(firstProblem(input)).toMatchObject(expected);
  });

  it('reports the first ten bad rows and stops', () => {
    const verdict = validate(Array.from({ length: 30 }, (_, i) => `d,n,${i % 2 ? 'x' : '1'},2,3,4\n`).join(''));
    expect(verdict.problems).toHaveLength(10);
    expect(verdict.problems!.map((p) => p.line)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  });

  it('counts lines inside quoted fields when reporting where', () => {
    expect(firstProblem(`"a\nb\nc",n,1,2,3,4\nd,n,x,2,3,4\n`)).toMatchObject({ line: 4, column: 3 });
  });

  it('stops a chunk over the byte limit as too large (the gzip-bomb guard)', () => {
    const verdict = validate(`${ROW}\n`.repeat(100), [50, 500], { ...DEFAULT_CSV_LIMITS, maxBytes: 1000 });
    expect(verdict).toMatchObject({ ok: false, tooLarge: true });
  });

  it('stops a chunk over the row limit as too large', () => {
    expect(validate(`${ROW}\n`.repeat(11), [], { ...DEFAULT_CSV_LIMITS, maxRows: 10 })).toMatchObject({ ok: false, tooLarge: true });
  });
});

// Generators of valid rows: text fields of any Unicode (no NUL), quoted when needed or at random.
const text = (forbidSlash: boolean) => fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })
  .filter((s) => !s.includes('\0') && !(forbidSlash && s.includes('/')) && Buffer.byteLength(s) <= 200);
const time = fc.integer({ min: MIN_TIME, max: MAX_TIME });
interface Row { dir: string; name: string; size: number; atime: number; mtime: number; ctime: number; quoteAll: boolean }
const row: fc.Arbitrary<Row> = fc.record({
  dir: text(false), name: text(true), size: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  atime: time, mtime: time, ctime: time, quoteAll: fc.boolean(),
});
const quote = (value: string, always: boolean) => (always || /[",\r\n]/.test(value) || value.startsWith('\ufeff') ? `"${value.replace(/"/g, '""')}"` : value);

function serialize(rows: Row[], eol: string, finalEol: boolean): string {
  const lines = rows.map((r) => [quote(r.dir, r.quoteAll), quote(r.name, r.quoteAll), r.size, r.atime, r.mtime, r.ctime].join(','));
  return lines.join(eol) + (finalEol && lines.length > 0 ? eol : '');
}

describe('properties', () => {
  it('accepts any valid chunk, counts its rows and keeps its bytes exactly', () => {
    fc.assert(fc.property(fc.array(row, { maxLength: 20 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(), fc.boolean(),
      fc.array(fc.nat({ max: 4000 }), { maxLength: 6 }),
      (rows, eol, finalEol, header, bom, cuts) => {
        const body = serialize(rows, eol, finalEol);
        const prefix = (bom ? '\ufeff' : '') + (header && rows.length > 0 ? HEADER + eol : '');
        const verdict = validate(prefix + body, cuts);
        expect(verdict.problems).toBeUndefined();
        expect(verdict.rows).toBe(rows.length);
        expect(verdict.output!.toString('utf8')).toBe(body);
      }));
  });

  it('gives the same verdict however the stream is cut into pieces', () => {
    const noisy = fc.array(fc.oneof(fc.constantFrom(',', '"', '\n', '\r', '-', '1', 'x', '/', '\0'), fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 40 })
      .map((parts) => `${ROW}\n${parts.join('')}`);
    fc.assert(fc.property(noisy, fc.array(fc.nat({ max: 200 }), { maxLength: 8 }), (input, cuts) => {
      const whole = validate(input);
      const pieces = validate(input, cuts);
      expect(pieces.ok).toBe(whole.ok);
      expect(pieces.problems).toEqual(whole.problems);
      expect(pieces.rows).toBe(whole.rows);
    }));
  });

  it('rejects a valid chunk once any one number is made non-numeric, at that row and column', () => {
    fc.assert(fc.property(fc.array(row, { minLength: 1, maxLength: 10 }), fc.nat(), fc.integer({ min: 2, max: 5 }), fc.constantFrom('1e3', '', '1.5', '+1', ' 1', '0x10'),
      (rows, pick, column, bad) => {
        const index = pick % rows.length;
        const lines = rows.map((r, i) => {
          const cells = [quote(r.dir, r.quoteAll), quote(r.name, r.quoteAll), String(r.size), String(r.atime), String(r.mtime), String(r.ctime)];
          if (i === index) cells[column] = bad;
          return cells.join(',');
        });
        const verdict = validate(lines.join('\n') + '\n');
        expect(verdict.ok).toBe(false);
        const lineNumber = 1 + index + lines.slice(0, index).reduce((sum, l) => sum + l.split('\n').length - 1, 0);
        expect(verdict.problems![0]).toMatchObject({ line: lineNumber, column: column + 1 });
      }));
  });
});
