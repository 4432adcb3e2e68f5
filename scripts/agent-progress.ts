// The agent's progress display: one line redrawn in place on a terminal, a line
// every few seconds otherwise (logs, CI), always on stderr.
export class Progress {
  private files = 0;
  private chunksWritten = 0;
  private chunksUploaded = 0;
  private lastLog = 0;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly scanGuid: string, private readonly quiet: boolean) {}

  resumed(done: number): void {
    this.chunksUploaded = done;
    if (done > 0) this.log(`resuming scan ${this.scanGuid}: ${done} chunks already uploaded`, true);
  }

  walked(files: number, chunks: number): void {
    this.files = files;
    this.chunksWritten = Math.max(this.chunksWritten, chunks);
    this.draw();
  }

  uploaded(_seq: number): void {
    this.chunksUploaded++;
    this.draw();
  }

  retrying(seq: number, why: string, waitMs: number): void {
    this.log(`chunk ${seq}: ${why}; retrying in ${(waitMs / 1000).toFixed(1)} s`, true);
  }

  sealing(total: number): void {
    this.chunksWritten = total;
    this.draw(true);
    this.log(`sealing scan ${this.scanGuid} with ${total} chunks`, true);
  }

  ingesting(status: Record<string, unknown>): void {
    this.log(`server: ${status.status} ${status.phase}, ${status.chunksIngested}/${status.totalChunks ?? '?'} chunks, ${Number(status.rowsIngested).toLocaleString('en-US')} rows`, !this.tty);
  }

  finish(result: { scanGuid: string; totalChunks: number; files: number; status?: string; warnings: string[] }): void {
    for (const warning of result.warnings) this.log(`warning: ${warning}`, true);
    this.log(`scan ${result.scanGuid}: ${result.files.toLocaleString('en-US')} files walked, ${result.totalChunks} chunks${result.status ? `, ${result.status}` : ''}`, true);
  }

  private draw(force = false): void {
    const seconds = (Date.now() - this.started) / 1000;
    const bar = this.bar();
    const line = `${bar} walked ${this.files.toLocaleString('en-US')} files | chunks uploaded ${this.chunksUploaded}/${this.chunksWritten} | ${Math.round(this.files / Math.max(seconds, 0.001)).toLocaleString('en-US')} files/s`;
    if (this.tty && !this.quiet) process.stderr.write(`\r${line}\x1b[K`);
    else this.log(line, force);
  }

  private bar(width = 20): string {
    const ratio = this.chunksWritten > 0 ? this.chunksUploaded / this.chunksWritten : 0;
    const filled = Math.round(Math.min(1, ratio) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  }

  private log(message: string, force: boolean): void {
    if (this.quiet) return;
    if (!force && Date.now() - this.lastLog < 5000) return;
    this.lastLog = Date.now();
    process.stderr.write(`${this.tty ? '\n' : ''}${message}\n`);
  }
}
