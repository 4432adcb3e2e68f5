// The bootstrap index's bookkeeping: the scan of a volume, the volume's live
// index, walk partitions with their checkpoints, principals and issues.
import type { PoolClient } from 'pg';

export interface IndexScanInput { tenantId: string; scanGuid: string; volume: string; hostId: string; startedAt: string }

export async function ensureIndexScan(client: PoolClient, input: IndexScanInput): Promise<{ scanId: number; status: string }> {
  const result = await client.query(
    `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at, host_id, volume)
     VALUES ($1, $2, $3, 'POSIX', $4, $5, $6)
     ON CONFLICT (tenant_id, scan_guid) DO UPDATE SET scan_guid = EXCLUDED.scan_guid
     RETURNING id, status`,
    [input.tenantId, input.scanGuid, input.volume.slice(0, 255), input.startedAt, input.hostId, input.volume]);
  await client.query(
    `INSERT INTO index_volume (tenant_id, host_id, volume, building_scan_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, host_id, volume) DO UPDATE SET building_scan_id = EXCLUDED.building_scan_id`,
    [input.tenantId, input.hostId, input.volume, result.rows[0].id]);
  return { scanId: result.rows[0].id, status: result.rows[0].status };
}

export async function insertPartition(client: PoolClient, tenantId: string, scanId: number, key: string, parentKey: string | null, work: unknown): Promise<void> {
  await client.query(
    `INSERT INTO index_partition (tenant_id, scan_id, key, parent_key, work) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, scan_id, key) DO NOTHING`,
    [tenantId, scanId, key, parentKey, JSON.stringify(work)]);
}

export interface PartitionRow {
  key: string; status: 'PENDING' | 'DONE'; work: unknown; batches: number; entries: number; files: number; dirs: number;
  bytes: number; issues: number; children: string[];
}

export async function findPartition(client: PoolClient, scanId: number, key: string): Promise<PartitionRow | undefined> {
  const result = await client.query(
    `SELECT key, status, work, batches, entries, files, dirs, bytes, issues, children FROM index_partition WHERE scan_id = $1 AND key = $2`,
    [scanId, key]);
  return result.rows[0];
}

export interface WalkTotals { entries: number; files: number; dirs: number; bytes: number; issues: number; partitions: number; pending: number }

export async function walkTotals(client: PoolClient, scanId: number): Promise<WalkTotals> {
  const result = await client.query(
    `SELECT coalesce(sum(entries), 0) AS entries, coalesce(sum(files), 0) AS files, coalesce(sum(dirs), 0) AS dirs,
            coalesce(sum(bytes), 0) AS bytes, coalesce(sum(issues), 0)::int AS issues, count(*)::int AS partitions,
            count(*) FILTER (WHERE status = 'PENDING')::int AS pending
       FROM index_partition WHERE scan_id = $1`, [scanId]);
  return result.rows[0];
}

export interface PrincipalRow { kind: 'user' | 'group'; id: number; name: string; gids: number[] }

export async function replacePrincipals(client: PoolClient, tenantId: string, hostId: string, rows: PrincipalRow[]): Promise<void> {
  await client.query('DELETE FROM index_principal WHERE host_id = $1', [hostId]);
  await client.query(
    `INSERT INTO index_principal (tenant_id, host_id, kind, id, name, gids)
     SELECT $1, $2, r.kind, r.id, r.name, r.gids FROM jsonb_to_recordset($3::jsonb) AS r(kind text, id bigint, name text, gids bigint[])
     ON CONFLICT DO NOTHING`,
    [tenantId, hostId, JSON.stringify(rows.map((r) => ({ ...r, gids: `{${r.gids.join(',')}}` })))]);
}

export async function findPrincipals(client: PoolClient, name: string): Promise<PrincipalRow[]> {
  const result = await client.query(
    `SELECT host_id AS "hostId", kind, id, name, gids FROM index_principal WHERE name = $1 ORDER BY host_id, kind`, [name]);
  return result.rows;
}

export async function listIssues(client: PoolClient, scanId: number, limit = 100): Promise<{ path: string; code: string; message: string }[]> {
  const result = await client.query(
    'SELECT path, code, message FROM index_issue WHERE scan_id = $1 ORDER BY path LIMIT $2', [scanId, limit]);
  return result.rows;
}

export async function finishIndexScan(client: PoolClient, input: { tenantId: string; scanId: number; hostId: string; volume: string; status: 'OK' | 'WARN'; reason: string | null; rootRef: number | null }): Promise<void> {
  await client.query(
    `UPDATE scan SET status = $2, status_reason = $3, finished_at = coalesce(finished_at, now()) WHERE id = $1`,
    [input.scanId, input.status, input.reason]);
  await client.query(
    `UPDATE index_volume SET current_scan_id = $4, building_scan_id = NULL, bootstrapped_at = now(), root_file_ref = $5
      WHERE host_id = $2 AND volume = $3 AND tenant_id = $1`,
    [input.tenantId, input.hostId, input.volume, input.scanId, input.rootRef]);
}

export async function failIndexScan(client: PoolClient, scanId: number, reason: string): Promise<void> {
  await client.query(
    `UPDATE scan SET status = 'ERROR', status_reason = $2, finished_at = now() WHERE id = $1 AND status = 'RUNNING'`,
    [scanId, reason.slice(0, 2000)]);
}

export interface VolumeIndex { hostId: string; volume: string; scanId: number; rootRef: number | null }

export async function currentVolume(client: PoolClient, hostId: string, volume: string): Promise<VolumeIndex | undefined> {
  const result = await client.query(
    `SELECT host_id AS "hostId", volume, current_scan_id AS "scanId", root_file_ref AS "rootRef"
       FROM index_volume WHERE host_id = $1 AND volume = $2 AND current_scan_id IS NOT NULL`, [hostId, volume]);
  return result.rows[0];
}

export async function currentVolumes(client: PoolClient): Promise<VolumeIndex[]> {
  const result = await client.query(
    `SELECT host_id AS "hostId", volume, current_scan_id AS "scanId", root_file_ref AS "rootRef"
       FROM index_volume WHERE current_scan_id IS NOT NULL ORDER BY host_id, volume`);
  return result.rows;
}
