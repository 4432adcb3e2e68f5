// Properties of the chunk validator against corruption of valid chunks: one NUL or
// invalid UTF-8 byte anywhere, or one field too many or too few in any row, is
// always refused, at the physical line where it happened.
import fc from 'fast-check';
import { ChunkRejectedError, CsvChunkValidator } from '../../lib/csv-chunk';
import { DEFAULT_CSV_LIMITS, MAX_TIME, MIN_TIME, type CsvProblem } from '../../lib/csv-rules';

function verdict(data: Buffer): { ok: true } | { ok: false; problems: CsvProblem[] } {
  const validator = new CsvChunkValidator(DEFAULT_CSV_LIMITS);
  try {
    validator.push(data);
    validator.finish();
    return { ok: true };
  } catch (error) {
    if (!(error instanceof ChunkRejectedError)) throw error;
    return { ok: false, problems: error.problems };
  }
}

const field = (forbidSlash: boolean) => fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 })
  .filter((s) => !s.includes('\0') && !(forbidSlash && s.includes('/')));
const quote = (value: string) => (/[",\r\n]/.test(value) || value.startsWith('\ufeff') ? `"${value.replace(/"/g, '""')}"` : value);
const time = fc.integer({ min: MIN_TIME, max: MAX_TIME });
const row = fc.tuple(field(false), field(true), fc.nat({ max: 1e12 }), time, time, time)
  .map(([dir, name, ...numbers]) => [quote(dir), quote(name), ...numbers.map(String)]);
const rows = fc.array(row, { minLength: 1, maxLength: 12 });

const physicalLine = (text: Buffer, at: number) => text.subarray(0, at).toString('latin1').split('\n').length;
const lineOfRow = (lines: string[], index: number) => 1 + lines.slice(0, index).reduce((sum, line) => sum + line.split('\n').length, 0);

describe('corrupted chunks', () => {
  it('refuses one NUL or invalid UTF-8 byte anywhere, at its line (property)', () => {
    fc.assert(fc.property(rows, fc.nat(), fc.constantFrom(0x00, 0xff, 0xfe, 0xc0, 0x80), (cells, pick, byte) => {
      const body = Buffer.from(`${cells.map((c) => c.join(',')).join('\n')}\n`);
      const at = pick % body.length;
      const corrupt = Buffer.concat([body.subarray(0, at), Buffer.from([byte]), body.subarray(at)]);
      const answer = verdict(corrupt);
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.problems[0].line).toBe(physicalLine(corrupt, at));
    }), { numRuns: 1500 });
  });

  it('refuses a row with one field too many or too few, at that row (property)', () => {
    fc.assert(fc.property(rows, fc.nat(), fc.boolean(), (cells, pick, extra) => {
      const index = pick % cells.length;
      const lines = cells.map((c, i) => (i !== index ? c : extra ? [...c, '7'] : c.slice(0, 5)).join(','));
      const answer = verdict(Buffer.from(`${lines.join('\n')}\n`));
      expect(answer).toMatchObject({ ok: false });
      if (!answer.ok) {
        expect(answer.problems[0]).toMatchObject({ line: lineOfRow(lines, index), reason: `expected 6 columns, found ${extra ? 7 : 5}` });
      }
    }), { numRuns: 1500 });
  });
});
