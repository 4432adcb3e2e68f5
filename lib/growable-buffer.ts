// An append-only byte buffer that doubles when full: the base of the encoders that
// write many small fields (index rows as COPY text, packed remediation snapshots).
export class GrowableBuffer {
  buf: Buffer;
  length = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  protected reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** A copy of what was written; the buffer starts empty again. */
  take(): Buffer {
    const taken = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return taken;
  }
}
