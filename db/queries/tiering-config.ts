// Per-share tiering configuration: the source root on a host and the Tier-2 target
// (URI plus sealed credentials). Only the actor's query returns the sealed value.
import type { PoolClient } from 'pg';

export interface ShareRootInput { shareName: string; hostId: string; rootPath: string; scanPathPrefix: string; updatedBy: string }
export interface TargetInput { shareName: string; uri: string; sealedCredentials: string | null; updatedBy: string }

export async function upsertShareRoot(client: PoolClient, tenantId: string, root: ShareRootInput): Promise<void> {
  await client.query(
    `INSERT INTO tier_share_root (tenant_id, share_name, host_id, root_path, scan_path_prefix, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, share_name) DO UPDATE SET host_id = excluded.host_id, root_path = excluded.root_path,
       scan_path_prefix = excluded.scan_path_prefix, updated_by = excluded.updated_by, updated_at = now()`,
    [tenantId, root.shareName, root.hostId, root.rootPath, root.scanPathPrefix, root.updatedBy]);
}

export async function upsertTarget(client: PoolClient, tenantId: string, target: TargetInput): Promise<void> {
  await client.query(
    `INSERT INTO tier2_target (tenant_id, share_name, uri, sealed_credentials, updated_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, share_name) DO UPDATE SET uri = excluded.uri, sealed_credentials = excluded.sealed_credentials,
       updated_by = excluded.updated_by, updated_at = now()`,
    [tenantId, target.shareName, target.uri, target.sealedCredentials, target.updatedBy]);
}

export interface ShareTieringConfig {
  shareName: string; hostId: string; rootPath: string; scanPathPrefix: string; targetUri: string | null; hasCredentials: boolean; updatedAt: Date;
}

/** What the api shows and the planner needs: no sealed credentials. */
export async function getShareConfig(client: PoolClient, shareName: string): Promise<ShareTieringConfig | undefined> {
  const result = await client.query(
    `SELECT r.share_name AS "shareName", r.host_id AS "hostId", r.root_path AS "rootPath", r.scan_path_prefix AS "scanPathPrefix",
            t.uri AS "targetUri", r.updated_at AS "updatedAt"
       FROM tier_share_root r LEFT JOIN tier2_target t ON t.tenant_id = r.tenant_id AND t.share_name = r.share_name
      WHERE r.share_name = $1`, [shareName]);
  const row = result.rows[0];
  if (!row) return undefined;
  return { ...row, hasCredentials: await hasCredentials(client, shareName) };
}

/** Whether credentials are stored; answered without reading them where the role cannot. */
async function hasCredentials(client: PoolClient, shareName: string): Promise<boolean> {
  const allowed = await client.query(`SELECT has_column_privilege('tier2_target', 'sealed_credentials', 'SELECT') AS ok`);
  if (!allowed.rows[0].ok) return false;
  const result = await client.query('SELECT sealed_credentials IS NOT NULL AS has FROM tier2_target WHERE share_name = $1', [shareName]);
  return result.rows[0]?.has ?? false;
}

export interface ActorShareConfig {
  shareName: string; hostId: string; rootPath: string; targetUri: string; sealedCredentials: string | null; encryptedDek: string;
}

/** For the host activity that acts: the sealed credentials and the tenant's wrapped data key to open them. */
export async function getActorShareConfig(client: PoolClient, tenantId: string, shareName: string): Promise<ActorShareConfig | undefined> {
  const result = await client.query(
    `SELECT r.share_name AS "shareName", r.host_id AS "hostId", r.root_path AS "rootPath", t.uri AS "targetUri",
            t.sealed_credentials AS "sealedCredentials", tn.encrypted_dek AS "encryptedDek"
       FROM tier_share_root r JOIN tier2_target t ON t.tenant_id = r.tenant_id AND t.share_name = r.share_name
       JOIN tenant tn ON tn.id = r.tenant_id
      WHERE r.tenant_id = $1 AND r.share_name = $2`, [tenantId, shareName]);
  return result.rows[0];
}
