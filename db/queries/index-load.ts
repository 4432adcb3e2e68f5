// One walk batch into the index, in one transaction with its checkpoint: COPY into
// session temp tables (COPY cannot target a table with row-level security), then
// insert directories, descriptors, files and issues, and advance the partition.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DescriptorRecord } from '../../activities/acl';
import type { EncodedBatch } from '../../activities/index-rows';
import { IDX_DIR_COLUMNS, IDX_FILE_COLUMNS, FLAG_UNREADABLE } from '../../activities/index-rows';
import type { WalkIssue } from '../../activities/index-walker';
import { CheckpointMovedError } from '../../activities/errors';


export interface ChunkLoad { tenantId: string; scanId: number; chunk: EncodedBatch; issues: WalkIssue[] }
export interface CheckpointAdvance {
  tenantId: string; scanId: number; key: string; work: unknown; rows: number; files: number; dirs: number; bytes: number; issues: number;
  children?: { key: string; work: unknown }[];
}

const TEMP_TABLES = `
  CREATE TEMP TABLE IF NOT EXISTS idx_dir (seq integer NOT NULL, dir_path text NOT NULL) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS idx_file (dir_seq integer NOT NULL, name text NOT NULL, size_bytes bigint NOT NULL,
    atime_unix bigint NOT NULL, mtime_unix bigint NOT NULL, ctime_unix bigint NOT NULL, btime_unix bigint, file_ref bigint NOT NULL,
    parent_ref bigint NOT NULL, security_id bigint, share_id bigint, mode integer NOT NULL, uid bigint NOT NULL, gid bigint NOT NULL,
    flags integer NOT NULL) ON COMMIT DELETE ROWS;`;

/**
 * Opens a batch: locks the partition's checkpoint row and checks no other attempt
 * moved it (a second attempt waits here, then fails and retries from the new checkpoint).
 */
export async function beginBatch(client: PoolClient, scanId: number, key: string, expectedBatches: number): Promise<void> {
  await client.query('SET LOCAL synchronous_commit = off');
  await client.query("SET LOCAL client_min_messages = 'warning'");
  const locked = await client.query(
    `SELECT batches, status FROM index_partition WHERE scan_id = $1 AND key = $2 FOR UPDATE`, [scanId, key]);
  const row = locked.rows[0];
  if (!row || row.status !== 'PENDING' || row.batches !== expectedBatches) {
    throw new CheckpointMovedError(`partition ${key} of scan ${scanId} moved past batch ${expectedBatches}`);
  }
  await client.query(TEMP_TABLES);
}

/** One chunk of a batch (its descriptors already stored): directories, entries, per-directory totals and issues. */
export async function loadChunk(client: PoolClient, load: ChunkLoad): Promise<void> {
  const { chunk } = load;
  if (chunk.rows > 0) {
    await copyInto(client, `COPY idx_dir (${IDX_DIR_COLUMNS}) FROM STDIN`, chunk.dirsText);
    await copyInto(client, `COPY idx_file (${IDX_FILE_COLUMNS}) FROM STDIN`, chunk.filesText);
    await insertRows(client, load.tenantId, load.scanId);
    await client.query('TRUNCATE idx_dir, idx_file');
  }
  if (chunk.dirStats.length > 0) await addDirectTotals(client, load.tenantId, load.scanId, chunk.dirStats);
  if (load.issues.length > 0) await insertIssues(client, load.tenantId, load.scanId, load.issues);
}

/** Closes a batch: the partition's new work list and counts (and, at the end of its slice, its children). */
export async function advanceCheckpoint(client: PoolClient, advance: CheckpointAdvance): Promise<void> {
  await client.query(
    `UPDATE index_partition SET batches = batches + 1, work = $4, entries = entries + $5, files = files + $6, dirs = dirs + $7,
            bytes = bytes + $8, issues = issues + $9, updated_at = now()
      WHERE tenant_id = $1 AND scan_id = $2 AND key = $3`,
    [advance.tenantId, advance.scanId, advance.key, JSON.stringify(advance.work), advance.rows, advance.files, advance.dirs,
      advance.bytes, advance.issues]);
  if (!advance.children) return;
  // The workflow is told the partition is done once this commits, so it must reach the
  // disk (and with it every earlier batch committed without waiting for the flush).
  await client.query('SET LOCAL synchronous_commit = on');
  await finishPartition(client, advance.tenantId, advance.scanId, advance.key, advance.children);
}

async function addDirectTotals(client: PoolClient, tenantId: string, scanId: number, stats: EncodedBatch['dirStats']): Promise<void> {
  await client.query(
    `INSERT INTO index_dir_stats (tenant_id, scan_id, dir_ref, direct_files, direct_dirs, direct_bytes, direct_world_files)
     SELECT $1, $2, r.ref, r.files, r.dirs, r.bytes, r.world
       FROM jsonb_to_recordset($3::jsonb) AS r(ref bigint, files bigint, dirs bigint, bytes bigint, world bigint)
     ON CONFLICT (tenant_id, scan_id, dir_ref) DO UPDATE SET direct_files = index_dir_stats.direct_files + EXCLUDED.direct_files,
       direct_dirs = index_dir_stats.direct_dirs + EXCLUDED.direct_dirs, direct_bytes = index_dir_stats.direct_bytes + EXCLUDED.direct_bytes,
       direct_world_files = index_dir_stats.direct_world_files + EXCLUDED.direct_world_files`,
    [tenantId, scanId, JSON.stringify(stats, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))]);
}

async function copyInto(client: PoolClient, sql: string, data: Buffer): Promise<void> {
  if (data.length === 0) return;
  await pipeline(Readable.from([data]), client.query(copyFrom(sql)));
}

async function insertRows(client: PoolClient, tenantId: string, scanId: number): Promise<void> {
  await client.query(
    `INSERT INTO dir (tenant_id, path_hash, dir_path)
     SELECT $1, dir_path_hash(dir_path), dir_path FROM idx_dir ORDER BY 2, 3 ON CONFLICT DO NOTHING`, [tenantId]);
  await client.query(
    `INSERT INTO file (tenant_id, scan_id, dir_id, name, size_bytes, atime_unix, mtime_unix, ctime_unix, btime_unix,
                       file_ref, parent_ref, security_id, share_id, mode, uid, gid, flags)
     SELECT $1, $2, d.id, f.name, f.size_bytes, f.atime_unix, f.mtime_unix, f.ctime_unix, f.btime_unix,
            f.file_ref, f.parent_ref, f.security_id, f.share_id, f.mode, f.uid, f.gid, f.flags
       FROM idx_file f JOIN idx_dir x ON x.seq = f.dir_seq
       JOIN dir d ON d.tenant_id = $1 AND d.path_hash = dir_path_hash(x.dir_path) AND d.dir_path = x.dir_path`,
    [tenantId, scanId]);
}

export async function insertDescriptors(client: PoolClient, tenantId: string, descriptors: DescriptorRecord[]): Promise<void> {
  const json = JSON.stringify([...descriptors].sort((a, b) => (a.hashHex < b.hashHex ? -1 : 1)));
  await client.query(
    `INSERT INTO security_descriptor (tenant_id, id, sd_hash, host_id, owner_uid, owner_gid, owner_name, group_name, raw, acl,
                                      default_acl, entries, default_entries, summary, extended, grants_world_access)
     SELECT $1, r."id", decode(r."hashHex", 'hex'), r."hostId", r."ownerUid", r."ownerGid", r."ownerName", r."groupName",
            decode(r."rawHex", 'hex'), decode(r."aclHex", 'hex'), decode(r."defaultAclHex", 'hex'), r."entries",
            r."defaultEntries", r."summary", r."extended", r."grantsWorldAccess"
       FROM jsonb_to_recordset($2::jsonb) AS r("id" bigint, "hashHex" text, "hostId" text, "ownerUid" bigint, "ownerGid" bigint,
            "ownerName" text, "groupName" text, "rawHex" text, "aclHex" text, "defaultAclHex" text, "entries" jsonb,
            "defaultEntries" jsonb, "summary" text, "extended" boolean, "grantsWorldAccess" boolean)
     ON CONFLICT DO NOTHING`, [tenantId, json]);
  const clash = await client.query(
    `SELECT s.id FROM security_descriptor s JOIN jsonb_to_recordset($1::jsonb) AS r("id" bigint, "hashHex" text)
         ON s.id = r."id" WHERE s.sd_hash <> decode(r."hashHex", 'hex') LIMIT 1`, [json]);
  if (clash.rowCount) throw new Error(`security descriptor id ${clash.rows[0].id} is taken by another hash (53-bit collision)`);
}

export async function insertIssues(client: PoolClient, tenantId: string, scanId: number, issues: WalkIssue[]): Promise<void> {
  await client.query(
    `INSERT INTO index_issue (tenant_id, scan_id, path, code, message, file_ref)
     SELECT $1, $2, r.path, r.code, r.message, r.ino FROM jsonb_to_recordset($3::jsonb) AS r(path text, code text, message text, ino bigint)
     ON CONFLICT DO NOTHING`, [tenantId, scanId, JSON.stringify(issues)]);
  const unreadable = issues.filter((issue) => issue.ino !== null).map((issue) => issue.ino);
  if (unreadable.length > 0) {
    await client.query(
      `UPDATE file SET flags = flags | ${FLAG_UNREADABLE} WHERE scan_id = $1 AND file_ref = ANY($2::bigint[]) AND flags & 1 <> 0`,
      [scanId, unreadable]);
  }
}

async function finishPartition(client: PoolClient, tenantId: string, scanId: number, key: string, children: { key: string; work: unknown }[]): Promise<void> {
  for (const child of children) {
    await client.query(
      `INSERT INTO index_partition (tenant_id, scan_id, key, parent_key, work) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, scan_id, key) DO NOTHING`, [tenantId, scanId, child.key, key, JSON.stringify(child.work)]);
  }
  await client.query(
    `UPDATE index_partition SET status = 'DONE', children = $4, work = '[]' WHERE tenant_id = $1 AND scan_id = $2 AND key = $3`,
    [tenantId, scanId, key, children.map((c) => c.key)]);
}
