// Loads a finished scan snapshot (scan, dir, file rows) straight into the index with
// COPY, for tiering tests and the tiering benchmark, which must not depend on the
// ingestion api. Runs inside withTenant as strata_ingest.
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { refreshStatistics } from './statistics';

export interface ScanFileRow { dirPath: string; name: string; size: number; atime: number; mtime: number; ctime: number }

export interface ScanSnapshot { shareName: string; srcType: 'NTFS' | 'LucidLink' | 'SMB' | 'POSIX'; startedAt?: Date; rows: ScanFileRow[] }

export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function* csvLines(rows: ScanFileRow[]): Generator<string> {
  const BATCH = 1000;
  for (let i = 0; i < rows.length; i += BATCH) {
    yield rows.slice(i, i + BATCH)
      .map((r) => [r.dirPath, r.name, r.size, r.atime, r.mtime, r.ctime].map(csvField).join(',') + '\n').join('');
  }
}

/** Inserts the scan as OK with its dirs and files and refreshes their statistics; returns the scan id. */
export async function loadScanSnapshot(client: PoolClient, tenantId: string, snapshot: ScanSnapshot): Promise<number> {
  const started = snapshot.startedAt ?? new Date();
  const scan = await client.query(
    `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at, finished_at, status)
     VALUES ($1, $2, $3, $4, $5, $5, 'OK') RETURNING id`, [tenantId, randomUUID(), snapshot.shareName, snapshot.srcType, started]);
  const scanId = Number(scan.rows[0].id);
  await client.query(`CREATE TEMP TABLE tier_scan_load (dir_path text, name text, size_bytes bigint, atime_unix bigint,
    mtime_unix bigint, ctime_unix bigint) ON COMMIT DROP`);
  await pipeline(Readable.from(csvLines(snapshot.rows)), client.query(copyFrom('COPY tier_scan_load FROM STDIN WITH (FORMAT csv)')));
  await client.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path) SELECT DISTINCT $1::uuid, dir_path_hash(dir_path), dir_path FROM tier_scan_load
     ON CONFLICT (tenant_id, path_hash, dir_path) DO NOTHING`, [tenantId]);
  await client.query(
    `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix)
     SELECT $1, $2, d.id, s.name, s.size_bytes, s.atime_unix, s.mtime_unix, s.ctime_unix
       FROM tier_scan_load s JOIN dir d ON d.tenant_id = $1 AND d.path_hash = dir_path_hash(s.dir_path) AND d.dir_path = s.dir_path`,
    [tenantId, scanId]);
  // As the ingestion's finishScan does for a scan it closes.
  await refreshStatistics(client, ['file', 'dir']);
  return scanId;
}
