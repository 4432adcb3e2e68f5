// Scan rows, chunk bookkeeping and the chunk normalization of scan ingestion.
// Every statement runs inside withTenant; row-level security pins the tenant.
import type { PoolClient } from 'pg';
import { sqlState, UNIQUE_VIOLATION } from '../sqlstate';

export type SourceType = 'NTFS' | 'LucidLink' | 'SMB' | 'POSIX';
export type ScanStatus = 'RUNNING' | 'OK' | 'WARN' | 'ERROR';

export interface ScanRow {
  id: number; scanGuid: string; shareName: string; srcType: SourceType; startedAt: Date;
  finishedAt: Date | null; status: ScanStatus; statusReason: string | null; totalChunks: number | null;
}

const SCAN_COLUMNS = `id, scan_guid AS "scanGuid", share_name AS "shareName", src_type AS "srcType",
  started_at AS "startedAt", finished_at AS "finishedAt", status, status_reason AS "statusReason",
  total_chunks AS "totalChunks"`;

export interface NewScan { tenantId: string; scanGuid: string; shareName: string; srcType: SourceType; startedAt: string }

export async function ensureScan(client: PoolClient, scan: NewScan): Promise<ScanRow> {
  await client.query(
    `INSERT INTO scan (tenant_id, scan_guid, share_name, src_type, started_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, scan_guid) DO NOTHING`,
    [scan.tenantId, scan.scanGuid, scan.shareName, scan.srcType, scan.startedAt]);
  const found = await findScan(client, scan.scanGuid);
  if (!found) throw new Error(`scan ${scan.scanGuid} vanished after insert`);
  return found;
}

export async function findScan(client: PoolClient, scanGuid: string): Promise<ScanRow | undefined> {
  const result = await client.query(`SELECT ${SCAN_COLUMNS} FROM scan WHERE scan_guid = $1`, [scanGuid]);
  return result.rows[0];
}

export interface ChunkTotals { chunks: number; rows: number; bytes: number; firstAt: Date | null; lastAt: Date | null }

export async function chunkTotals(client: PoolClient, scanId: number): Promise<ChunkTotals> {
  const result = await client.query(
    `SELECT count(*)::int AS chunks, coalesce(sum(row_count), 0)::bigint AS rows, coalesce(sum(byte_count), 0)::bigint AS bytes,
            min(ingested_at) AS "firstAt", max(ingested_at) AS "lastAt"
       FROM ingest_chunk WHERE scan_id = $1`, [scanId]);
  return result.rows[0];
}

export async function ingestedSeqs(client: PoolClient, scanId: number): Promise<number[]> {
  const result = await client.query('SELECT seq FROM ingest_chunk WHERE scan_id = $1 ORDER BY seq', [scanId]);
  return result.rows.map((row) => row.seq);
}

export async function isChunkIngested(client: PoolClient, scanId: number, seq: number): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM ingest_chunk WHERE scan_id = $1 AND seq = $2', [scanId, seq]);
  return result.rowCount === 1;
}

/** Serialises normalization per tenant+scan until the transaction ends. */
export async function lockScanForNormalize(client: PoolClient, tenantId: string, scanId: number): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('scan-ingest/' || $1::text || '/' || $2::text, 0))`, [tenantId, scanId]);
}

export const CHUNK_TABLE = 'chunk_file';
export const CHUNK_COPY_SQL = `COPY ${CHUNK_TABLE} (dir_path, name, size_bytes, atime_unix, mtime_unix, ctime_unix) FROM STDIN WITH (FORMAT csv)`;

/** A per-transaction table the chunk is COPYed into: no WAL, no shared buffers, gone at commit or crash. */
export async function createChunkTable(client: PoolClient): Promise<void> {
  await client.query(`CREATE TEMP TABLE ${CHUNK_TABLE} (
    dir_path text NOT NULL, name text NOT NULL, size_bytes bigint NOT NULL,
    atime_unix bigint NOT NULL, mtime_unix bigint NOT NULL, ctime_unix bigint NOT NULL) ON COMMIT DROP`);
}

export interface NormalizeResult { dirsNew: number; dirsUsed: number; filesInserted: number }

/**
 * Everything that needs no shared table, done before the scan lock so it overlaps
 * another chunk's normalization: the chunk's directories with their 64-bit hashes,
 * numbered in path order, and its rows deduplicated by (directory, name) and sorted
 * by (directory number, name), keyed by that small number instead of the path text.
 */
export async function prepareChunk(client: PoolClient): Promise<void> {
  await client.query(`CREATE TEMP TABLE chunk_dir ON COMMIT DROP AS
    SELECT (row_number() OVER (ORDER BY dir_path))::int AS ord, dir_path, dir_path_hash(dir_path) AS path_hash, NULL::bigint AS dir_id
      FROM (SELECT DISTINCT dir_path FROM ${CHUNK_TABLE}) paths`);
  await client.query(`CREATE TEMP TABLE chunk_rows ON COMMIT DROP AS
    SELECT DISTINCT ON (d.ord, f.name) d.ord, f.name, f.size_bytes, f.atime_unix, f.mtime_unix, f.ctime_unix
      FROM ${CHUNK_TABLE} f JOIN chunk_dir d USING (dir_path) ORDER BY d.ord, f.name, f.ctid`);
  await client.query('ANALYZE chunk_dir, chunk_rows');
}

const INSERT_FILES = `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix)
  SELECT $1, $2, d.dir_id, r.name, r.size_bytes, r.atime_unix, r.mtime_unix, r.ctime_unix
    FROM chunk_rows r JOIN chunk_dir d ON d.ord = r.ord`;

/**
 * Under the scan lock: upserts the chunk's directories (in path order, so new ids
 * follow the rows' sort order and concurrent writers lock in one order), resolves
 * their ids by hash lookups on the small directory list instead of joining the
 * tenant's whole dir table, then inserts the files in key order. The plain insert
 * is the fast path; a file already in the scan (sent twice in different chunks)
 * falls back to ON CONFLICT DO NOTHING.
 */
export async function normalizeChunk(client: PoolClient, tenantId: string, scanId: number): Promise<NormalizeResult> {
  const inserted = await client.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path) SELECT $1, path_hash, dir_path FROM chunk_dir ORDER BY ord
     ON CONFLICT (tenant_id, path_hash, dir_path) DO NOTHING`, [tenantId]);
  const mapped = await client.query(
    `UPDATE chunk_dir c SET dir_id = d.id FROM dir d
      WHERE d.tenant_id = $1 AND d.path_hash = c.path_hash AND d.dir_path = c.dir_path`, [tenantId]);
  await client.query('SAVEPOINT chunk_files');
  let files;
  try {
    files = await client.query(INSERT_FILES, [tenantId, scanId]);
  } catch (error) {
    if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
    await client.query('ROLLBACK TO SAVEPOINT chunk_files');
    files = await client.query(`${INSERT_FILES} ON CONFLICT (scan_id, dir_id, name) DO NOTHING`, [tenantId, scanId]);
  }
  await client.query('RELEASE SAVEPOINT chunk_files');
  return { dirsNew: inserted.rowCount ?? 0, dirsUsed: mapped.rowCount ?? 0, filesInserted: files.rowCount ?? 0 };
}

export interface ChunkMark { tenantId: string; scanId: number; seq: number; sha256: string; rows: number; bytes: number }

export async function markChunkIngested(client: PoolClient, mark: ChunkMark): Promise<void> {
  await client.query(
    `INSERT INTO ingest_chunk (tenant_id, scan_id, seq, sha256, row_count, byte_count, ingested_at)
     VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())`,
    [mark.tenantId, mark.scanId, mark.seq, mark.sha256, mark.rows, mark.bytes]);
}

export async function closeScan(client: PoolClient, scanId: number, status: ScanStatus, reason: string | null, totalChunks: number | null): Promise<boolean> {
  const result = await client.query(
    `UPDATE scan SET status = $2, status_reason = $3, total_chunks = coalesce($4, total_chunks), finished_at = now()
      WHERE id = $1 AND status = 'RUNNING'`, [scanId, status, reason, totalChunks]);
  return result.rowCount === 1;
}
