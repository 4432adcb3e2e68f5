// Remediation snapshots in Postgres: a slice is saved as one packed row, first write
// wins (a slice overlapping a saved slice, or per-file rows of a run snapshotted before
// slices existed, is not saved again), items whose file changed or vanished are marked
// skipped with the slice, and readers merge both layouts item by item.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { outcomeCounts, saveSnapshots, snapshotsOf } from '../../db/queries/remediation-items';
import type { SnapshotResult } from '../../activities/remediation-fs';
import { startHarness, type Harness } from '../support/harness';
import { createRunRow } from '../support/remediation-fixtures';

let harness: Harness;
let tenantId: string;

async function createRun(items: number): Promise<string> {
  const runId = await createRunRow(harness.admin, tenantId);
  await harness.admin.query(
    `INSERT INTO remediation_item (tenant_id, run_id, item_no, file_id, file_ref, is_dir, path, source_sd_id, target_sd_id, target_acl)
     SELECT $1, $2, i, i, i, false, '/f' || i, 1, 2, '\\x02000000' FROM generate_series(1, $3::int) AS i`, [tenantId, runId, items]);
  return runId;
}

const asRemediator = <T>(work: (client: PoolClient) => Promise<T>) => withTenant(harness.pool, { tenantId, role: 'strata_remediator' }, work);

function result(itemNo: number, state: SnapshotResult['state'] = 'ok', mode = 0o100640): SnapshotResult {
  if (state === 'missing') return { itemNo, state, handleType: null, handle: null, file: null, detail: `item ${itemNo} is gone` };
  return {
    itemNo, state, handleType: 1, handle: Buffer.from([8, 0, 0, 0, 1, 0, 0, 0, itemNo & 255, 1, 2, 3, 4, 5, 6, 7]),
    file: { access: Buffer.from([2, 0, 0, 0, itemNo & 255]), defaults: null, mode, uid: 1000 + itemNo, gid: 100 }, detail: state === 'changed' ? 'changed since planning' : null,
  };
}

const range = (from: number, to: number, make: (itemNo: number) => SnapshotResult = (n) => result(n)) =>
  Array.from({ length: to - from + 1 }, (_v, i) => make(from + i));

beforeAll(async () => {
  harness = await startHarness({ workers: false });
  tenantId = randomUUID();
  await harness.admin.query(
    `INSERT INTO tenant (id, code, name, kms_ref, encrypted_dek) VALUES ($1, $2, 'Snapshot slices', 'none', 'vault:v1:test')`, [tenantId, `slices-${tenantId.slice(0, 8)}`]);
});
afterAll(async () => harness.close());

describe('remediation snapshot slices', () => {
  it('saves a slice as one row, marks changed and vanished items skipped, and reads every record back', async () => {
    const runId = await createRun(1_000);
    const slice = range(1, 1_000, (n) => (n === 10 ? result(n, 'changed') : n === 11 ? result(n, 'missing') : result(n)));
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, slice));
    const rows = await harness.admin.query('SELECT first_item, last_item, items, not_ok FROM remediation_snapshot_slice WHERE run_id = $1', [runId]);
    expect(rows.rows).toEqual([{ first_item: 1, last_item: 1_000, items: 1_000, not_ok: 2 }]);
    const read = await asRemediator((client) => snapshotsOf(client, { runId, from: 1, to: 1_000 }));
    expect([...read.values()]).toEqual(slice);
    const skipped = await harness.admin.query('SELECT item_no, outcome FROM remediation_item WHERE run_id = $1 AND outcome IS NOT NULL ORDER BY item_no', [runId]);
    expect(skipped.rows).toEqual([{ item_no: 10, outcome: 'skipped_changed' }, { item_no: 11, outcome: 'skipped_missing' }]);
    expect(await asRemediator((client) => outcomeCounts(client, runId))).toMatchObject({ items: 1_000, snapshots: 1_000, skippedChanged: 1, skippedMissing: 1 });
  });

  it('keeps the first snapshot of an item: a retried or overlapping slice is not saved again', async () => {
    const runId = await createRun(300);
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, range(1, 100)));
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, range(1, 100, (n) => result(n, 'ok', 0o100600))));
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, range(50, 150, (n) => result(n, 'changed'))));
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, range(101, 200)));
    const read = await asRemediator((client) => snapshotsOf(client, { runId, from: 1, to: 300 }));
    expect(read.size).toBe(200);
    expect([...read.values()].every((r) => r.state === 'ok' && r.file?.mode === 0o100640)).toBe(true);
    expect(await asRemediator((client) => outcomeCounts(client, runId))).toMatchObject({ snapshots: 200, skippedChanged: 0 });
  });

  it('reads per-file snapshot rows of a run snapshotted before slices, next to its slices, and saves no slice over them', async () => {
    const runId = await createRun(40);
    await harness.admin.query(
      `INSERT INTO remediation_snapshot (tenant_id, run_id, item_no, state, file_ref, handle_type, handle, access_acl, mode, uid, gid)
       SELECT $1, $2, i, 'ok', i, 1, '\\x0800000001000000', '\\x0200000007', 33184, 1000, 100 FROM generate_series(1, 20) AS i`, [tenantId, runId]);
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, range(15, 30)));
    await asRemediator((client) => saveSnapshots(client, tenantId, runId, range(21, 40)));
    const read = await asRemediator((client) => snapshotsOf(client, { runId, from: 11, to: 40 }));
    expect([...read.keys()].sort((x, y) => x - y)).toEqual(range(11, 40).map((r) => r.itemNo));
    expect(read.get(12)).toEqual({
      itemNo: 12, state: 'ok', handleType: 1, handle: Buffer.from('0800000001000000', 'hex'), detail: null,
      file: { access: Buffer.from('0200000007', 'hex'), defaults: null, mode: 33184, uid: 1000, gid: 100 },
    });
    expect(read.get(33)).toEqual(result(33));
    expect(await asRemediator((client) => outcomeCounts(client, runId))).toMatchObject({ items: 40, snapshots: 40 });
  });
});
