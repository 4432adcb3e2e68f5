// A slice of remediation snapshots packed into one binary value, so a snapshot of
// thousands of files is a few rows in remediation_snapshot_slice instead of a row per
// file. Pure encoding: no I/O. Every length is checked on decoding, so a truncated or
// foreign value is refused instead of restoring wrong bytes.
import { GrowableBuffer } from '../lib/growable-buffer';
import type { FileState, SnapshotResult } from './remediation-fs';

const FORMAT_VERSION = 1;
const STATES = ['ok', 'missing', 'changed'] as const;
const HAS_HANDLE = 1;
const HAS_FILE = 2;
const HAS_ACCESS = 4;
const HAS_DEFAULTS = 8;
const HAS_DETAIL = 16;

export type SnapshotRecord = Omit<SnapshotResult, 'handle'> & { handle: Buffer | null };

class Writer extends GrowableBuffer {
  constructor() {
    super(64 * 1024);
  }

  u8(value: number): void { this.reserve(1); this.length = this.buf.writeUInt8(value, this.length); }
  u32(value: number): void { this.reserve(4); this.length = this.buf.writeUInt32LE(value, this.length); }
  i32(value: number): void { this.reserve(4); this.length = this.buf.writeInt32LE(value, this.length); }

  bytes(value: Uint8Array): void {
    this.u32(value.byteLength);
    this.reserve(value.byteLength);
    this.buf.set(value, this.length);
    this.length += value.byteLength;
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(bytes: number): void {
    if (this.at + bytes > this.buf.length) throw new Error(`snapshot records truncated at byte ${this.at} (need ${bytes} more of ${this.buf.length})`);
  }

  u8(): number { this.need(1); return this.buf.readUInt8(this.at++); }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.at); this.at += 4; return v; }
  i32(): number { this.need(4); const v = this.buf.readInt32LE(this.at); this.at += 4; return v; }

  bytes(): Buffer {
    const length = this.u32();
    this.need(length);
    const value = Buffer.from(this.buf.subarray(this.at, this.at + length));
    this.at += length;
    return value;
  }

  get finished(): boolean { return this.at === this.buf.length; }
}

/** Packs the snapshot results of one slice (in item order). */
export function packSnapshots(results: readonly SnapshotResult[]): Buffer {
  const out = new Writer();
  out.u8(FORMAT_VERSION);
  out.u32(results.length);
  for (const r of results) {
    const file = r.file;
    const flags = (r.handle ? HAS_HANDLE : 0) | (file ? HAS_FILE : 0) | (file?.access ? HAS_ACCESS : 0)
      | (file?.defaults ? HAS_DEFAULTS : 0) | (r.detail !== null ? HAS_DETAIL : 0);
    out.u32(r.itemNo);
    out.u8(STATES.indexOf(r.state));
    out.u8(flags);
    if (r.handle) { out.i32(r.handleType ?? 0); out.bytes(r.handle); }
    if (file) { out.u32(file.mode); out.u32(file.uid); out.u32(file.gid); }
    if (file?.access) out.bytes(file.access);
    if (file?.defaults) out.bytes(file.defaults);
    if (r.detail !== null) out.bytes(Buffer.from(r.detail, 'utf8'));
  }
  return out.take();
}

/** The records of a packed slice, in the order they were packed. */
export function unpackSnapshots(packed: Buffer): SnapshotRecord[] {
  const input = new Reader(packed);
  const version = input.u8();
  if (version !== FORMAT_VERSION) throw new Error(`snapshot records of format ${version}, expected ${FORMAT_VERSION}`);
  const count = input.u32();
  const records: SnapshotRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    const itemNo = input.u32();
    const state = STATES[input.u8()];
    if (state === undefined) throw new Error(`snapshot record ${itemNo} has an unknown state`);
    const flags = input.u8();
    const handleType = flags & HAS_HANDLE ? input.i32() : null;
    const handle = flags & HAS_HANDLE ? input.bytes() : null;
    let file: FileState | null = null;
    if (flags & HAS_FILE) {
      const [mode, uid, gid] = [input.u32(), input.u32(), input.u32()];
      file = { mode, uid, gid, access: flags & HAS_ACCESS ? input.bytes() : null, defaults: flags & HAS_DEFAULTS ? input.bytes() : null };
    }
    const detail = flags & HAS_DETAIL ? input.bytes().toString('utf8') : null;
    records.push({ itemNo, state, handleType, handle, file, detail });
  }
  if (!input.finished) throw new Error(`snapshot records have trailing bytes after ${count} records`);
  return records;
}
