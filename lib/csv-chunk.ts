// Validates a scan chunk (RFC 4180 CSV: dir_path,name,size_bytes,atime_unix,
// mtime_unix,ctime_unix) byte by byte while it streams, and passes the accepted
// bytes through unchanged (minus a BOM and a header line) for Postgres COPY.
import { CSV_COLUMNS, DEFAULT_CSV_LIMITS, MAX_TIME, MIN_TIME, type CsvLimits, type CsvProblem } from './csv-rules';
import { describeByte, fastRecordEnd, utf8Lead } from './csv-bytes';

export class ChunkRejectedError extends Error {
  constructor(readonly problems: CsvProblem[], readonly tooLarge = false) {
    super(problems.map((p) => `line ${p.line}${p.column ? `, column ${p.column}` : ''}: ${p.reason}`).join('; '));
    this.name = 'ChunkRejectedError';
  }
}

export interface ChunkSummary { rows: number; bytes: number; headerSkipped: boolean }

const COMMA = 0x2c, QUOTE = 0x22, CR = 0x0d, LF = 0x0a, MINUS = 0x2d, SLASH = 0x2f;
const BOM = [0xef, 0xbb, 0xbf];
const enum S { FieldStart, Unquoted, Quoted, QuoteInQuoted, AfterCr }

export class CsvChunkValidator {
  readonly problems: CsvProblem[] = [];
  private state = S.FieldStart;
  private line = 1;
  private recordLine = 1;
  private field = 0;
  private fieldBytes = 0;
  private recordBad = false;
  private num = 0;
  private digits = 0;
  private negative = false;
  private numBad = '';
  private utf8Need = 0;
  private utf8Lo = 0x80;
  private utf8Hi = 0xbf;
  private eol: 'LF' | 'CRLF' | undefined;
  private records = 0;
  private rows = 0;
  private seen = 0;
  private offset = 0;
  private bomLead: Buffer | undefined = Buffer.alloc(0);
  private firstRecord: number[][] | undefined = [[]];
  private held: Buffer[] | undefined = [];
  private keepFrom = 0;
  private headerSkipped = false;

  constructor(private readonly limits: CsvLimits = DEFAULT_CSV_LIMITS) {}

  /** Validates the next piece of the stream; returns the bytes to keep so far. */
  push(input: Buffer): Buffer[] {
    this.seen += input.length;
    if (this.seen > this.limits.maxBytes) this.reject(`chunk is larger than ${this.limits.maxBytes} bytes of CSV`, true);
    const chunk = this.stripBom(input);
    return chunk ? this.scan(chunk) : [];
  }

  private scan(chunk: Buffer): Buffer[] {
    for (let i = 0; i < chunk.length; i++) {
      if (this.state === S.FieldStart && this.field === 0 && this.firstRecord === undefined) {
        const next = fastRecordEnd(chunk, i, this.limits, this.eol);
        if (next > i) { this.acceptFastRecord(); i = next - 1; continue; }
      }
      const b = chunk[i];
      if (b < 0x80 && this.utf8Need === 0) this.step(b, this.offset + i);
      else this.multiByte(b, this.offset + i);
    }
    this.offset += chunk.length;
    if (this.problems.length >= this.limits.maxErrors && this.firstRecord === undefined) this.reject();
    return this.release(chunk);
  }

  /** Ends the stream: completes the last record; throws if anything was wrong. */
  finish(): { summary: ChunkSummary; tail: Buffer[] } {
    const lead = this.bomLead;
    this.bomLead = undefined;
    if (lead && lead.length > 0) this.scan(lead);
    if (this.utf8Need > 0) this.fieldProblem('invalid UTF-8 (sequence cut off at the end)');
    if (this.state === S.Quoted) this.lineProblem(`unterminated quoted field (the record starting on line ${this.recordLine} never ends)`, this.recordLine);
    else if (this.state === S.AfterCr) this.lineProblem('carriage return not followed by a line feed', this.line);
    else if (this.state !== S.FieldStart || this.field > 0) this.endRecord(undefined, this.offset);
    if (this.problems.length > 0) this.reject();
    const tail = this.held ? this.flushHeld() : [];
    return { summary: { rows: this.rows, bytes: this.offset - this.keepFrom, headerSkipped: this.headerSkipped }, tail };
  }

  /** Counts a record the fast path accepted whole. */
  private acceptFastRecord(): void {
    this.rows++;
    this.records++;
    this.line++;
    this.recordLine = this.line;
    if (this.rows > this.limits.maxRows) this.reject(`chunk has more than ${this.limits.maxRows} rows`, true);
  }

  private step(b: number, at: number): void {
    switch (this.state) {
      case S.Quoted:
        if (b === QUOTE) this.state = S.QuoteInQuoted;
        else { if (b === LF) this.line++; this.content(b); }
        return;
      case S.QuoteInQuoted:
        if (b === QUOTE) { this.state = S.Quoted; this.content(b); return; }
        if (b !== COMMA && b !== CR && b !== LF) this.fieldProblem('unexpected character after a closing quote');
        return this.delimiterOrContent(b, at);
      case S.AfterCr:
        if (b === LF) { this.line++; this.endRecord('CRLF', at + 1); return; }
        this.lineProblem('carriage return not followed by a line feed', this.line);
        this.state = S.Unquoted;
        return this.delimiterOrContent(b, at);
      case S.FieldStart:
        if (b === QUOTE) { this.state = S.Quoted; return; }
        return this.delimiterOrContent(b, at);
      default:
        return this.delimiterOrContent(b, at);
    }
  }

  private delimiterOrContent(b: number, at: number): void {
    if (b === COMMA) { this.endField(); this.state = S.FieldStart; return; }
    if (b === LF) { this.line++; this.endRecord('LF', at + 1); return; }
    if (b === CR) { this.state = S.AfterCr; return; }
    if (b === QUOTE) this.fieldProblem('quote inside an unquoted field');
    this.state = S.Unquoted;
    this.content(b);
  }

  private multiByte(b: number, at: number): void {
    if (this.utf8Need > 0) {
      if (b >= this.utf8Lo && b <= this.utf8Hi) {
        this.utf8Need--;
        this.utf8Lo = 0x80; this.utf8Hi = 0xbf;
        this.content(b);
        return;
      }
      this.utf8Need = 0;
      this.utf8Lo = 0x80; this.utf8Hi = 0xbf;
      this.fieldProblem('invalid UTF-8');
      if (b < 0x80) { this.step(b, at); return; }
    }
    if (!this.startSequence(b)) this.fieldProblem('invalid UTF-8');
    if (this.state === S.QuoteInQuoted) this.fieldProblem('unexpected character after a closing quote');
    if (this.state === S.AfterCr) this.lineProblem('carriage return not followed by a line feed', this.line);
    if (this.state !== S.Quoted) this.state = S.Unquoted;
    this.content(b);
  }

  private startSequence(b: number): boolean {
    const lead = utf8Lead(b);
    if (!lead) return false;
    this.utf8Need = lead.need;
    this.utf8Lo = lead.lo;
    this.utf8Hi = lead.hi;
    return true;
  }

  private content(b: number): void {
    this.fieldBytes++;
    if (this.firstRecord && this.fieldBytes <= 64) this.firstRecord[this.firstRecord.length - 1].push(b);
    if (this.recordBad || this.field >= CSV_COLUMNS.length) return;
    if (b === 0) this.fieldProblem('NUL byte');
    else if (this.field >= 2) this.numericByte(b);
    else if (this.field === 1 && b === SLASH) this.fieldProblem('name contains the path separator "/"');
  }

  private numericByte(b: number): void {
    if (b >= 0x30 && b <= 0x39) {
      this.digits++;
      this.num = this.num * 10 + (b - 0x30);
    } else if (b === MINUS && this.fieldBytes === 1 && this.field >= 3) {
      this.negative = true;
    } else if (!this.numBad) {
      this.numBad = b === MINUS ? 'must not be negative' : `is not a whole number (found ${describeByte(b)})`;
    }
  }

  private endField(): void {
    if (!this.recordBad && this.field < CSV_COLUMNS.length) this.checkField();
    this.field++;
    this.fieldBytes = 0;
    this.num = 0;
    this.digits = 0;
    this.negative = false;
    this.numBad = '';
    this.firstRecord?.push([]);
  }

  private checkField(): void {
    const name = CSV_COLUMNS[this.field];
    if (this.field < 2) {
      const max = this.field === 0 ? this.limits.maxDirPathBytes : this.limits.maxNameBytes;
      if (this.fieldBytes === 0) this.fieldProblem(`${name} is empty`);
      else if (this.fieldBytes > max) this.fieldProblem(`${name} is ${this.fieldBytes} bytes long (limit ${max})`);
      return;
    }
    if (this.numBad) return this.fieldProblem(`${name} ${this.numBad}`);
    if (this.digits === 0) return this.fieldProblem(`${name} is empty`);
    const value = this.negative ? -this.num : this.num;
    if (this.field === 2) {
      if (this.digits > 16 || value > Number.MAX_SAFE_INTEGER) this.fieldProblem(`${name} is out of range (0 to ${Number.MAX_SAFE_INTEGER})`);
    } else if (this.digits > 12 || value < MIN_TIME || value > MAX_TIME) {
      this.fieldProblem(`${name} is out of range (${MIN_TIME} to ${MAX_TIME}: years 1900 to 9999)`);
    }
  }

  private endRecord(eol: 'LF' | 'CRLF' | undefined, end: number): void {
    const emptyLine = this.field === 0 && this.fieldBytes === 0 && this.state === S.FieldStart;
    const first = this.firstRecord !== undefined;
    if (emptyLine) this.lineProblem('empty line', this.recordLine);
    this.endField();
    if (eol && this.eol === undefined) this.eol = eol;
    else if (eol && eol !== this.eol) this.lineProblem(`line ends with ${eol} but the first line ended with ${this.eol}`, this.line - 1);
    if (!this.recordBad && this.field !== CSV_COLUMNS.length) {
      this.lineProblem(`expected ${CSV_COLUMNS.length} columns, found ${this.field}`, this.recordLine);
    }
    if (first && this.isHeader()) {
      this.problems.splice(0);
      this.headerSkipped = true;
      this.keepFrom = end;
    } else {
      this.rows++;
      if (this.rows > this.limits.maxRows) this.reject(`chunk has more than ${this.limits.maxRows} rows`, true);
    }
    this.firstRecord = undefined;
    this.records++;
    this.state = S.FieldStart;
    this.field = 0;
    this.recordBad = false;
    this.recordLine = this.line;
  }

  private isHeader(): boolean {
    const fields = this.firstRecord;
    if (!fields || fields.length !== CSV_COLUMNS.length + 1) return false;
    return CSV_COLUMNS.every((name, i) => Buffer.from(fields[i]).toString('latin1') === name);
  }

  private fieldProblem(reason: string): void {
    if (this.recordBad) return;
    this.recordBad = true;
    const column = Math.min(this.field, CSV_COLUMNS.length - 1);
    this.problems.push({ line: this.recordLine, column: column + 1, field: CSV_COLUMNS[column], reason });
  }

  private lineProblem(reason: string, line: number): void {
    if (this.recordBad) return;
    this.recordBad = true;
    this.problems.push({ line, reason });
  }

  private reject(reason?: string, tooLarge = false): never {
    const problems = reason ? [{ line: this.recordLine, reason }] : this.problems.slice(0, this.limits.maxErrors);
    throw new ChunkRejectedError(problems, tooLarge);
  }

  /** Holds the first bytes until it is clear whether they are a UTF-8 byte order mark. */
  private stripBom(chunk: Buffer): Buffer | undefined {
    if (!this.bomLead) return chunk;
    const lead = this.bomLead.length === 0 ? chunk : Buffer.concat([this.bomLead, chunk]);
    const prefix = Math.min(lead.length, 3);
    const matches = BOM.slice(0, prefix).every((byte, i) => lead[i] === byte);
    if (matches && lead.length < 3) { this.bomLead = lead; return undefined; }
    this.bomLead = undefined;
    return matches ? lead.subarray(3) : lead;
  }

  private release(chunk: Buffer): Buffer[] {
    if (!this.held) return chunk.length > 0 ? [chunk] : [];
    this.held.push(chunk);
    return this.firstRecord === undefined ? this.flushHeld() : [];
  }

  private flushHeld(): Buffer[] {
    const all = Buffer.concat(this.held ?? []);
    this.held = undefined;
    return this.keepFrom < all.length ? [all.subarray(this.keepFrom)] : [];
  }
}
