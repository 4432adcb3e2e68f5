// Shares of a host: upserted from its smb.conf and exports, deactivated when gone,
// with per-share stats and risk computed from the index.
import type { PoolClient } from 'pg';
import type { ShareDefinition } from '../../lib/share-config';

export interface ShareUpsert extends ShareDefinition { volume: string | null; rootFileRef: number | null }

export async function upsertShares(client: PoolClient, tenantId: string, hostId: string, shares: ShareUpsert[]): Promise<{ id: number; name: string; protocol: string; localPath: string }[]> {
  const result = await client.query(
    `INSERT INTO share (tenant_id, host_id, protocol, name, unc_path, local_path, permissions, remark, volume, root_file_ref)
     SELECT $1, $2, r.protocol, r.name, r."uncPath", r."localPath", r.permissions, r.remark, r.volume, r."rootFileRef"
       FROM jsonb_to_recordset($3::jsonb) AS r(protocol text, name text, "uncPath" text, "localPath" text, permissions jsonb,
            remark text, volume text, "rootFileRef" bigint)
     ON CONFLICT (tenant_id, host_id, protocol, name) DO UPDATE SET unc_path = EXCLUDED.unc_path, local_path = EXCLUDED.local_path,
       permissions = EXCLUDED.permissions, remark = EXCLUDED.remark, volume = EXCLUDED.volume, root_file_ref = EXCLUDED.root_file_ref,
       is_active = true, last_verified_at = now()
     RETURNING id, name, protocol, local_path AS "localPath"`,
    [tenantId, hostId, JSON.stringify(shares)]);
  await client.query(
    `UPDATE share SET is_active = false WHERE host_id = $1 AND is_active
        AND (protocol, name) NOT IN (SELECT r.protocol, r.name FROM jsonb_to_recordset($2::jsonb) AS r(protocol text, name text))`,
    [hostId, JSON.stringify(shares.map((s) => ({ protocol: s.protocol, name: s.name })))]);
  return result.rows;
}

/** Local paths of the host's active shares with a fixed path, for share annotation during the walk. */
export async function activeShareRoots(client: PoolClient, hostId: string): Promise<{ id: number; localPath: string }[]> {
  const result = await client.query(
    `SELECT id, local_path AS "localPath" FROM share WHERE host_id = $1 AND is_active AND local_path LIKE '/%' ORDER BY id`, [hostId]);
  return result.rows;
}

export interface ShareRow {
  id: number; hostId: string; protocol: string; name: string; uncPath: string; localPath: string; volume: string | null;
  permissions: Record<string, unknown>; remark: string | null; rootFileRef: number | null; isActive: boolean; fileCount: number;
  dirCount: number; totalBytes: number; worldFiles: number; riskScore: number; riskLevel: string; riskFactors: string[];
  statsScanId: number | null; statsAt: Date | null;
}

const SHARE_COLUMNS = `id, host_id AS "hostId", protocol, name, unc_path AS "uncPath", local_path AS "localPath", volume, permissions,
  remark, root_file_ref AS "rootFileRef", is_active AS "isActive", file_count AS "fileCount", dir_count AS "dirCount",
  total_bytes AS "totalBytes", world_files AS "worldFiles", risk_score AS "riskScore", risk_level AS "riskLevel",
  risk_factors AS "riskFactors", stats_scan_id AS "statsScanId", stats_at AS "statsAt"`;

export async function listShares(client: PoolClient, filter: { hostId?: string; includeInactive?: boolean } = {}): Promise<ShareRow[]> {
  const result = await client.query(
    `SELECT ${SHARE_COLUMNS} FROM share WHERE ($1::text IS NULL OR host_id = $1) AND (is_active OR $2)
      ORDER BY risk_score DESC, host_id, protocol, name`, [filter.hostId ?? null, filter.includeInactive ?? false]);
  return result.rows;
}

export async function findShare(client: PoolClient, ref: { id?: number; name?: string; hostId?: string }): Promise<ShareRow[]> {
  const result = await client.query(
    `SELECT ${SHARE_COLUMNS} FROM share WHERE is_active AND ($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR name = $2)
        AND ($3::text IS NULL OR host_id = $3) ORDER BY id`, [ref.id ?? null, ref.name ?? null, ref.hostId ?? null]);
  return result.rows;
}

export interface ShareStats { id: number; scanId: number; files: number; dirs: number; bytes: number; worldFiles: number; score: number; level: string; factors: string[] }

export async function saveShareStats(client: PoolClient, stats: ShareStats): Promise<void> {
  await client.query(
    `UPDATE share SET stats_scan_id = $2, file_count = $3, dir_count = $4, total_bytes = $5, world_files = $6, risk_score = $7,
            risk_level = $8, risk_factors = $9, stats_at = now() WHERE id = $1`,
    [stats.id, stats.scanId, stats.files, stats.dirs, stats.bytes, stats.worldFiles, stats.score, stats.level, JSON.stringify(stats.factors)]);
}
