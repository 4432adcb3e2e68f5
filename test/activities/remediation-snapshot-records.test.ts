// Packed remediation snapshots: every field of every state survives the round trip
// byte for byte, and a value that is truncated, padded or of another format is refused
// rather than restoring wrong bytes.
import fc from 'fast-check';
import { packSnapshots, unpackSnapshots } from '../../activities/remediation-snapshot-records';
import type { SnapshotResult } from '../../activities/remediation-fs';

const ok: SnapshotResult = {
  itemNo: 7, state: 'ok', handleType: 1, handle: Buffer.from('0800000001000000abcdef0123456789', 'hex'),
  file: { access: Buffer.from('02000000010006', 'hex'), defaults: Buffer.from('0200000001000700', 'hex'), mode: 0o40750, uid: 4294967294, gid: 0 }, detail: null,
};
const changed: SnapshotResult = {
  itemNo: 8, state: 'changed', handleType: null, handle: null, file: { access: null, defaults: null, mode: 0o100644, uid: 1000, gid: 1000 },
  detail: 'changed since planning: now owner 1000:1000 mode 644 — ünïcode',
};
const missing: SnapshotResult = { itemNo: 9, state: 'missing', handleType: null, handle: null, file: null, detail: 'ENOENT: gone' };

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const record = fc.record({
  itemNo: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  state: fc.constantFrom('ok' as const, 'missing' as const, 'changed' as const),
  handleType: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
  handle: fc.option(bytes, { nil: null }),
  file: fc.option(fc.record({
    access: fc.option(bytes, { nil: null }), defaults: fc.option(bytes, { nil: null }),
    mode: fc.integer({ min: 0, max: 0xffff }), uid: fc.nat({ max: 2 ** 32 - 1 }), gid: fc.nat({ max: 2 ** 32 - 1 }),
  }), { nil: null }),
  detail: fc.option(fc.string(), { nil: null }),
}).map((r) => ({ ...r, handleType: r.handle ? r.handleType ?? 0 : null }));

describe('packed remediation snapshots', () => {
  it('round-trips ok, changed and missing records with their handles, ACL bytes, owners above 2^31 and text', () => {
    expect(unpackSnapshots(packSnapshots([ok, changed, missing]))).toEqual([ok, changed, missing]);
  });

  it('round-trips any slice of records', () => {
    fc.assert(fc.property(fc.array(record, { maxLength: 40 }), (records) => {
      expect(unpackSnapshots(packSnapshots(records))).toEqual(records);
    }));
  });

  it('refuses a truncated value, trailing bytes and an unknown format', () => {
    const packed = packSnapshots([ok, changed, missing]);
    for (const cut of [1, 5, 20, packed.length - 1]) expect(() => unpackSnapshots(packed.subarray(0, cut))).toThrow(/truncated/);
    expect(() => unpackSnapshots(Buffer.concat([packed, Buffer.from([0])]))).toThrow(/trailing bytes/);
    expect(() => unpackSnapshots(Buffer.concat([Buffer.from([2]), packed.subarray(1)]))).toThrow(/format 2/);
  });
});
