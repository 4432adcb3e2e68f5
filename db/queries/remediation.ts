// Remediation runs and plans: the run row, scope resolution against the live index,
// descriptors in scope with their file counts, stored transformations, the set-based
// selection of work items, and the report digest.
import type { PoolClient } from 'pg';
import { FLAG_MOUNT_POINT, FLAG_SPECIAL, FLAG_SYMLINK } from '../../activities/index-rows';

/** Entries a remediation never touches: links have no ACL, devices/fifos are not opened, other mounts are not ours. */
const EXCLUDED_FLAGS = FLAG_SYMLINK | FLAG_SPECIAL | FLAG_MOUNT_POINT;

export interface NewRun {
  id: string; actionId: string; workflowId: string; requestedBy: string; scope: unknown; policy: unknown; options: unknown;
}

export async function insertRun(client: PoolClient, tenantId: string, run: NewRun): Promise<void> {
  await client.query(
    `INSERT INTO remediation_run (id, tenant_id, action_id, workflow_id, requested_by, scope, policy, options)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
    [run.id, tenantId, run.actionId, run.workflowId, run.requestedBy, JSON.stringify(run.scope), JSON.stringify(run.policy), JSON.stringify(run.options)]);
}

export interface RunRow {
  id: string; actionId: string; workflowId: string; requestedBy: string; status: string; statusReason: string | null;
  scope: Record<string, unknown>; policy: Record<string, unknown>; options: Record<string, unknown>;
  hostId: string | null; volume: string | null; scanId: number | null; pathPrefix: string | null;
  report: Record<string, unknown>; reportHash: string | null; fsSnapshot: Record<string, unknown> | null;
  counters: Record<string, number>; rollbackUntil: Date | null; createdAt: Date; finishedAt: Date | null;
}

const RUN_COLUMNS = `id, action_id AS "actionId", workflow_id AS "workflowId", requested_by AS "requestedBy", status,
  status_reason AS "statusReason", scope, policy, options, host_id AS "hostId", volume, scan_id AS "scanId",
  path_prefix AS "pathPrefix", report, report_hash AS "reportHash", fs_snapshot AS "fsSnapshot", counters,
  rollback_until AS "rollbackUntil", created_at AS "createdAt", finished_at AS "finishedAt"`;

export async function getRun(client: PoolClient, runId: string): Promise<RunRow | undefined> {
  return (await client.query(`SELECT ${RUN_COLUMNS} FROM remediation_run WHERE id = $1`, [runId])).rows[0];
}

export async function setRunStatus(client: PoolClient, runId: string, status: string, patch: {
  reason?: string | null; fsSnapshot?: unknown; counters?: Record<string, number>; rollbackUntil?: string | null; finished?: boolean;
} = {}): Promise<void> {
  await client.query(
    `UPDATE remediation_run SET status = $2, status_reason = coalesce($3, status_reason), fs_snapshot = coalesce($4::jsonb, fs_snapshot),
            counters = counters || coalesce($5::jsonb, '{}'::jsonb), rollback_until = CASE WHEN $6::boolean THEN $7::timestamptz ELSE rollback_until END,
            finished_at = CASE WHEN $8 THEN coalesce(finished_at, now()) ELSE finished_at END, updated_at = now()
      WHERE id = $1`,
    [runId, status, patch.reason ?? null, patch.fsSnapshot === undefined ? null : JSON.stringify(patch.fsSnapshot),
      patch.counters ? JSON.stringify(patch.counters) : null, patch.rollbackUntil !== undefined, patch.rollbackUntil ?? null, patch.finished ?? false]);
}

export interface ResolvedScope { hostId: string; volume: string; scanId: number; pathPrefix: string; shareId: number | null; wholeVolume: boolean }

/** The live index a scope reads: a share's (its root is the path prefix unless one below it is given) or a host path's. */
export async function resolveScopeIndex(client: PoolClient, scope: { shareId?: number; hostId?: string; pathPrefix?: string }): Promise<ResolvedScope | string> {
  let hostId = scope.hostId;
  let prefix = scope.pathPrefix;
  if (scope.shareId !== undefined) {
    const share = (await client.query('SELECT host_id, local_path FROM share WHERE id = $1 AND is_active', [scope.shareId])).rows[0];
    if (!share) return `share ${scope.shareId} does not exist or is inactive`;
    const root = trimSlash(share.local_path);
    if (prefix !== undefined && !within(trimSlash(prefix), root)) return `path ${prefix} is not inside share root ${root}`;
    hostId = share.host_id;
    prefix = prefix ?? root;
  }
  if (hostId === undefined || prefix === undefined) return 'the scope needs a share, or a host and a path prefix';
  const normalized = trimSlash(prefix);
  const volumes = (await client.query(
    `SELECT volume, current_scan_id AS "scanId" FROM index_volume WHERE host_id = $1 AND current_scan_id IS NOT NULL`, [hostId])).rows;
  const volume = volumes.filter((v) => within(normalized, trimSlash(v.volume))).sort((a, b) => b.volume.length - a.volume.length)[0];
  if (!volume) return `no indexed volume of host ${hostId} contains ${normalized}`;
  return {
    hostId, volume: volume.volume, scanId: Number(volume.scanId), pathPrefix: normalized, shareId: scope.shareId ?? null, wholeVolume: normalized === trimSlash(volume.volume),
  };
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function within(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** wholeVolume: the prefix is the scan's volume root, so every row of the scan is under it and paths need no test. */
export interface ScopeFilter { scanId: number; pathPrefix: string; ownerUid: number | null; type: 'file' | 'dir' | 'all'; wholeVolume?: boolean }

/** WHERE clause over `file f JOIN dir d` (just `file f` for a whole volume) for a scope; parameters start at $first. */
function scopeWhere(filter: ScopeFilter, first: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown) => `$${first + params.push(value) - 1}`;
  const conditions = [`f.scan_id = ${p(filter.scanId)}`, 'f.security_id IS NOT NULL', `f.flags & ${EXCLUDED_FLAGS} = 0`];
  if (!filter.wholeVolume) {
    const prefix = filter.pathPrefix;
    const cut = prefix.lastIndexOf('/');
    const parent = cut <= 0 ? '/' : prefix.slice(0, cut);
    conditions.push(`(d.dir_path = ${p(prefix)} OR starts_with(d.dir_path, ${p(prefix === '/' ? '/' : `${prefix}/`)})
      OR (d.dir_path = ${p(parent)} AND f.name = ${p(prefix === '/' ? '' : prefix.slice(cut + 1))}))`);
  }
  if (filter.ownerUid !== null) conditions.push(`f.uid = ${p(filter.ownerUid)}`);
  if (filter.type !== 'all') conditions.push(`(f.flags & 1 <> 0) = ${p(filter.type === 'dir')}`);
  return { sql: conditions.join(' AND '), params };
}

export async function descriptorsInScope(client: PoolClient, filter: ScopeFilter): Promise<{ id: string; files: number }[]> {
  const where = scopeWhere(filter, 1);
  const result = await client.query(
    `SELECT f.security_id::text AS id, count(*)::bigint AS files FROM file f ${filter.wholeVolume ? '' : 'JOIN dir d ON d.id = f.dir_id'}
      WHERE ${where.sql} GROUP BY f.security_id`, where.params);
  return result.rows.map((row) => ({ id: row.id, files: Number(row.files) }));
}

export interface DescriptorBytes {
  id: string; ownerUid: number; ownerGid: number; acl: Buffer; defaultAcl: Buffer | null; world: boolean; summary: string;
}

export async function loadDescriptors(client: PoolClient, ids: string[]): Promise<DescriptorBytes[]> {
  const result = await client.query(
    `SELECT id::text, owner_uid AS "ownerUid", owner_gid AS "ownerGid", acl, default_acl AS "defaultAcl",
            grants_world_access AS world, summary FROM security_descriptor WHERE id = ANY($1::bigint[])`, [ids]);
  return result.rows.map((row) => ({ ...row, ownerUid: Number(row.ownerUid), ownerGid: Number(row.ownerGid) }));
}

export async function existingDescriptorIds(client: PoolClient, ids: string[]): Promise<Set<string>> {
  const result = await client.query('SELECT id::text FROM security_descriptor WHERE id = ANY($1::bigint[])', [ids]);
  return new Set(result.rows.map((row) => row.id as string));
}

export async function principalsOfHost(client: PoolClient, hostId: string): Promise<{ kind: 'user' | 'group'; id: number; name: string; gids: number[] }[]> {
  const result = await client.query('SELECT kind, id, name, gids FROM index_principal WHERE host_id = $1', [hostId]);
  return result.rows.map((row) => ({ kind: row.kind, id: Number(row.id), name: row.name, gids: (row.gids as string[]).map(Number) }));
}

export interface TransformRow {
  sourceSdId: string; files: number; outcome: 'no_change' | 'existing' | 'new'; targetSdId: string; targetAclHex: string;
  targetDefaultHex: string | null; targetModeBits: number; targetRecord: unknown; sourceSummary: string; targetSummary: string;
}

export async function replaceTransforms(client: PoolClient, tenantId: string, runId: string, rows: TransformRow[]): Promise<void> {
  await client.query('DELETE FROM remediation_item WHERE run_id = $1', [runId]);
  await client.query('DELETE FROM remediation_transform WHERE run_id = $1', [runId]);
  await client.query(
    `INSERT INTO remediation_transform (tenant_id, run_id, source_sd_id, files, outcome, target_sd_id, target_acl, target_default,
                                        target_mode_bits, target_record, source_summary, target_summary)
     SELECT $1, $2, r."sourceSdId", r.files, r.outcome, r."targetSdId", decode(r."targetAclHex", 'hex'), decode(r."targetDefaultHex", 'hex'),
            r."targetModeBits", r."targetRecord", r."sourceSummary", r."targetSummary"
       FROM jsonb_to_recordset($3::jsonb) AS r("sourceSdId" bigint, files bigint, outcome text, "targetSdId" bigint, "targetAclHex" text,
            "targetDefaultHex" text, "targetModeBits" integer, "targetRecord" jsonb, "sourceSummary" text, "targetSummary" text)`,
    [tenantId, runId, JSON.stringify(rows)]);
}

/** Selects the files in scope whose descriptor changes, numbered in inode order, at most maxFiles; returns how many needed it. */
export async function selectItems(client: PoolClient, tenantId: string, runId: string, filter: ScopeFilter, maxFiles: number | null): Promise<{ selected: number; needed: number }> {
  const where = scopeWhere(filter, 4);
  const result = await client.query(
    `WITH needed AS (
       SELECT f.id, f.file_ref, f.flags, d.dir_path, f.name, f.security_id, t.target_sd_id, t.target_acl, t.target_default,
              row_number() OVER (ORDER BY f.file_ref, f.id) AS n
         FROM file f JOIN dir d ON d.id = f.dir_id
         JOIN remediation_transform t ON t.run_id = $2 AND t.source_sd_id = f.security_id AND t.outcome <> 'no_change'
        WHERE ${where.sql}),
     inserted AS (
       INSERT INTO remediation_item (tenant_id, run_id, item_no, file_id, file_ref, is_dir, path, source_sd_id, target_sd_id, target_acl, target_default)
       SELECT $1, $2, n, id, file_ref, flags & 1 <> 0, CASE WHEN dir_path = '/' THEN '/' || name ELSE dir_path || '/' || name END,
              security_id, target_sd_id, target_acl, CASE WHEN flags & 1 <> 0 THEN target_default END
         FROM needed WHERE $3::bigint IS NULL OR n <= $3
       RETURNING 1)
     SELECT (SELECT count(*) FROM inserted)::bigint AS selected, (SELECT count(*) FROM needed)::bigint AS needed`,
    [tenantId, runId, maxFiles, ...where.params]);
  return { selected: Number(result.rows[0].selected), needed: Number(result.rows[0].needed) };
}

/** A digest of every item (number, index row, target): md5 per block of 10,000 items, sha256 over the blocks. */
export async function itemsDigest(client: PoolClient, runId: string): Promise<string> {
  const result = await client.query(
    `SELECT encode(sha256(convert_to(coalesce(string_agg(h, ',' ORDER BY g), ''), 'UTF8')), 'hex') AS digest FROM (
       SELECT item_no / 10000 AS g, md5(string_agg(item_no || ':' || file_id || ':' || target_sd_id, ',' ORDER BY item_no)) AS h
         FROM remediation_item WHERE run_id = $1 GROUP BY 1) blocks`, [runId]);
  return result.rows[0].digest;
}

export async function storePlan(client: PoolClient, runId: string, plan: {
  resolved: Omit<ResolvedScope, 'wholeVolume'>; report: Record<string, unknown>; reportHash: string; status: string;
}): Promise<void> {
  await client.query(
    `UPDATE remediation_run SET host_id = $2, volume = $3, scan_id = $4, path_prefix = $5, report = $6, report_hash = $7, status = $8,
            updated_at = now() WHERE id = $1`,
    [runId, plan.resolved.hostId, plan.resolved.volume, plan.resolved.scanId, plan.resolved.pathPrefix, JSON.stringify(plan.report), plan.reportHash, plan.status]);
}

/** Files per second of this tenant's last completed remediation (apply + snapshot + verify), for estimates. */
export async function lastMeasuredRate(client: PoolClient): Promise<number | null> {
  const result = await client.query(
    `SELECT (counters->>'filesPerSecond')::numeric AS rate FROM remediation_run
      WHERE status IN ('COMPLETED', 'ROLLED_BACK') AND counters ? 'filesPerSecond' ORDER BY finished_at DESC NULLS LAST LIMIT 1`);
  return result.rowCount ? Number(result.rows[0].rate) : null;
}
