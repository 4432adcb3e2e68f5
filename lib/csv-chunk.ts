// Validates a scan chunk (RFC 4180 CSV: dir_path,name,size_bytes,atime_unix,
// mtime_unix,ctime_unix) byte by byte as it streams, and passes the accepted bytes
// through unchanged (minus a BOM and header line) so Postgres COPY can load them.
import { CSV_COLUMNS, DEFAULT_CSV_LIMITS, MAX_TIME, MIN_TIME, type CsvLimits, type CsvProblem } from './csv-rules';

export { CSV_COLUMNS, DEFAULT_CSV_LIMITS, type CsvLimits, type CsvProblem } from './csv-rules';

export class ChunkRejectedError extends Error {
  constructor(readonly problems: CsvProblem[], readonly tooLarge = false) {
    super(problems.map((p) => `line ${p.line}${p.column ? `, column ${p.column}` : ''}: ${p.reason}`).join('; '));
    this.name = 'ChunkRejectedError';
  }
}

const COMMA = 0x2c, QUOTE = 0x22, CR = 0x0d, LF = 0x0a, MINUS = 0x2d, SLASH = 0x2f;
const enum S { FieldStart, Unquoted, Quoted, QuoteInQuoted, AfterCr }
const HEADER = CSV_COLUMNS.join(',');

export interface ChunkSummary { rows: number; bytes: number; headerSkipped: boolean }

export class CsvChunkValidator {
  private state = S.FieldStart;
  private line = 1;
  private recordLine = 1;
  private field = 0;
  private fieldBytes = 0;
  private quotedField = false;
  private recordBad = false;
  private num = 0;
  private digits = 0;
  private negative = false;
  private numBad = '';
  private utf8Need = 0;
  private utf8Lo = 0x80;
  private utf8Hi = 0xbf;
  private eol: 'lf' | 'crlf' | undefined;
  private rows = 0;
  private totalBytes = 0;
  private records = 0;
  private offset = 0;
  private firstRecordText: number[] | undefined = [];
  private held: Buffer[] | undefined = [];
  private skipTo = 0;
  private headerSkipped = false;
  readonly problems: CsvProblem[] = [];

  constructor(private readonly limits: CsvLimits = DEFAULT_CSV_LIMITS) {}

  /** Validates the next piece; returns the bytes to keep (possibly none yet). */
  push(chunk: Buffer): Buffer[] {
    this.totalBytes += chunk.length;
    if (this.totalBytes > this.limits.maxBytes) {
      throw new ChunkRejectedError([{ line: this.line, reason: `chunk exceeds ${this.limits.maxBytes} bytes of CSV` }], true);
    }
    const base = this.offset;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.utf8Need > 0 || b >= 0x80) { if (!this.utf8(b)) continue; }
      this.step(b, base + i);
    }
    this.offset += chunk.length;
    this.throwIfTooMany();
    return this.release(chunk);
  }

  /** Ends the stream: completes the last record and throws if anything was wrong. */
  finish(): { summary: ChunkSummary; tail: Buffer[] } {
    if (this.utf8Need > 0) this.problem('truncated UTF-8 sequence at end of data', this.line);
    if (this.state === S.Quoted) this.problem(`unterminated quoted field (record starting on line ${this.recordLine})`, this.line, this.field + 1);
    else if (this.state !== S.FieldStart || this.field > 0) this.endRecord(this.offset);
    if (this.problems.length > 0) throw new ChunkRejectedError(this.problems.slice(0, this.limits.maxErrors));
    const tail = this.held ? this.flushHeld() : [];
    return { summary: { rows: this.rows, bytes: this.offset - this.skipTo, headerSkipped: this.headerSkipped }, tail };
  }

  private step(b: number, at: number): void {
    switch (this.state) {
      case S.FieldStart:
        if (b === QUOTE) { this.state = S.Quoted; this.quotedField = true; return; }
        this.state = S.Unquoted;
        this.fieldByte(b, at);
        return;
      case S.Unquoted:
        this.fieldByte(b, at);
        return;
      case S.Quoted:
        if (b === QUOTE) { this.state = S.QuoteInQuoted; return; }
        if (b === LF) this.line++;
        this.content(b);
        return;
      case S.QuoteInQuoted:
        if (b === QUOTE) { this.state = S.Quoted; this.content(b); return; }
        this.state = S.Unquoted;
        if (b === COMMA || b === CR || b === LF) { this.fieldByte(b, at); return; }
        this.recordProblem('unexpected character after a closing quote');
        return;
      case S.AfterCr:
        if (b !== LF) { this.problem('carriage return not followed by a line feed', this.line); this.state = S.Unquoted; return; }
        this.line++;
        this.newline('crlf', at + 1);
        return;
    }
  }

  private fieldByte(b: number, at: number): void {
    if (b === COMMA) { this.endField(); this.state = S.FieldStart; return; }
    if (b === LF) { this.line++; this.newline('lf', at + 1); return; }
    if (b === CR) { this.endField(); this.state = S.AfterCr; return; }
    if (b === QUOTE) { this.recordProblem('quote inside an unquoted field'); return; }
    this.content(b);
  }

  private newline(kind: 'lf' | 'crlf', end: number): void {
    if (kind === 'lf' && this.state !== S.AfterCr) this.endField();
    if (this.eol === undefined) this.eol = kind;
    else if (this.eol !== kind && !this.recordBad) {
      this.problem(`line ending ${kind.toUpperCase()} differs from the first line's ${this.eol.toUpperCase()}`, this.line - 1);
    }
    this.endRecord(end);
  }

  private content(b: number): void {
    this.fieldBytes++;
    if (this.firstRecordText) this.firstRecordText.push(b);
    if (this.recordBad) return;
    if (b === 0) { this.recordProblem('NUL byte'); return; }
    if (this.field >= 2) this.numericByte(b);
    else if (this.field === 1 && b === SLASH) this.recordProblem('name contains a path separator "/"');
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
    if (this.firstRecordText && this.field < 6) this.firstRecordText.push(COMMA);
    if (!this.recordBad && this.field < CSV_COLUMNS.length) this.checkField();
    this.field++;
    this.fieldBytes = 0;
    this.quotedField = false;
    this.num = 0;
    this.digits = 0;
    this.negative = false;
    this.numBad = '';
  }

  private checkField(): void {
    const name = CSV_COLUMNS[this.field];
    if (this.field < 2) {
      const max = this.field === 0 ? this.limits.maxDirPathBytes : this.limits.maxNameBytes;
      if (this.fieldBytes === 0) this.recordProblem(`${name} is empty`);
      else if (this.fieldBytes > max) this.recordProblem(`${name} is ${this.fieldBytes} bytes long (limit ${max})`);
      return;
    }
    if (this.numBad) { this.recordProblem(`${name} ${this.numBad}`); return; }
    if (this.digits === 0) { this.recordProblem(`${name} is empty or has no digits`); return; }
    const value = this.negative ? -this.num : this.num;
    if (this.field === 2) {
      if (this.digits > 16 || value > Number.MAX_SAFE_INTEGER) this.recordProblem(`${name} is out of range (0..${Number.MAX_SAFE_INTEGER})`);
    } else if (this.digits > 12 || value < MIN_TIME || value > MAX_TIME) {
      this.recordProblem(`${name} is out of range (${MIN_TIME}..${MAX_TIME}, 1900-01-01 to 9999-12-31)`);
    }
  }

  private endRecord(end: number): void {
    if (this.state !== S.AfterCr && this.state !== S.FieldStart && this.state !== S.Unquoted) this.endField();
    else if (this.state === S.Unquoted && this.field < CSV_COLUMNS.length && this.fieldBytes > 0) this.endField();
    const columns = this.field;
    const isHeader = this.records === 0 && this.isHeaderRecord();
    if (!isHeader && !this.recordBad && columns !== CSV_COLUMNS.length) {
      this.recordProblem(columns <= 1 && this.fieldBytes === 0 ? 'empty line' : `expected ${CSV_COLUMNS.length} columns, found ${columns}`, 0);
    }
    if (this.records === 0) this.decideHeader(isHeader, end);
    else this.rows++;
    this.records++;
    if (this.rows > this.limits.maxRows) {
      throw new ChunkRejectedError([{ line: this.recordLine, reason: `chunk has more than ${this.limits.maxRows} rows` }], true);
    }
    this.state = S.FieldStart;
    this.field = 0;
    this.fieldBytes = 0;
    this.recordBad = false;
    this.recordLine = this.line;
  }

  private isHeaderRecord(): boolean {
    const text = this.firstRecordText;
    if (!text) return false;
    const trimmed = text[text.length - 1] === COMMA ? text.slice(0, -1) : text;
    return Buffer.from(trimmed).toString('utf8').replace(/^\ufeff/, '') === HEADER;
  }

  private decideHeader(isHeader: boolean, end: number): void {
    if (isHeader) {
      this.headerSkipped = true;
      this.skipTo = end;
      this.problems.splice(0);
    } else {
      this.rows++;
    }
    this.firstRecordText = undefined;
  }

  private utf8(b: number): boolean {
    if (this.utf8Need > 0) {
      if (b < this.utf8Lo || b > this.utf8Hi) { this.badUtf8(); return b < 0x80; }
      this.utf8Need--;
      this.utf8Lo = 0x80; this.utf8Hi = 0xbf;
      this.content(b);
      return false;
    }
    if (b >= 0xc2 && b <= 0xdf) this.utf8Need = 1;
    else if (b === 0xe0) { this.utf8Need = 2; this.utf8Lo = 0xa0; }
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.utf8Need = 2;
    else if (b === 0xed) { this.utf8Need = 2; this.utf8Hi = 0x9f; }
    else if (b === 0xf0) { this.utf8Need = 3; this.utf8Lo = 0x90; }
    else if (b >= 0xf1 && b <= 0xf3) this.utf8Need = 3;
    else if (b === 0xf4) { this.utf8Need = 3; this.utf8Hi = 0x8f; }
    else { this.badUtf8(); return false; }
    this.quoteAware(b);
    return false;
  }

  /** A multi-byte lead byte is field content in whichever state the field is in. */
  private quoteAware(b: number): void {
    if (this.state === S.FieldStart) this.state = S.Unquoted;
    else if (this.state === S.QuoteInQuoted) { this.recordProblem('unexpected character after a closing quote'); this.state = S.Unquoted; }
    else if (this.state === S.AfterCr) { this.problem('carriage return not followed by a line feed', this.line); this.state = S.Unquoted; }
    this.content(b);
  }

  private badUtf8(): void {
    this.utf8Need = 0;
    this.utf8Lo = 0x80; this.utf8Hi = 0xbf;
    if (this.state === S.FieldStart) this.state = S.Unquoted;
    this.recordProblem('invalid UTF-8');
  }

  private recordProblem(reason: string, column = this.field + 1): void {
    if (this.recordBad) return;
    this.recordBad = true;
    const field = column > 0 ? CSV_COLUMNS[column - 1] : undefined;
    this.problems.push(column > 0 ? { line: this.recordLine, column, field, reason } : { line: this.recordLine, reason });
  }

  private problem(reason: string, line: number, column?: number): void {
    this.recordBad = true;
    this.problems.push(column ? { line, column, field: CSV_COLUMNS[column - 1], reason } : { line, reason });
  }

  private throwIfTooMany(): void {
    if (this.problems.length >= this.limits.maxErrors && (this.records > 0 || this.problems.length > 50)) {
      throw new ChunkRejectedError(this.problems.slice(0, this.limits.maxErrors));
    }
  }

  private release(chunk: Buffer): Buffer[] {
    if (!this.held) return [chunk];
    this.held.push(chunk);
    return this.firstRecordText === undefined ? this.flushHeld() : [];
  }

  private flushHeld(): Buffer[] {
    const all = Buffer.concat(this.held ?? []);
    this.held = undefined;
    const start = this.headerSkipped ? this.skipTo : bomLength(all);
    if (!this.headerSkipped) this.skipTo = start;
    return start < all.length ? [all.subarray(start)] : [];
  }
}

function bomLength(data: Buffer): number {
  return data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
