// Access-time updates from LucidLink audit logs: stage a batch (api), then apply it
// once (ingest worker): skip events already processed, move atime only forward in
// every scan that holds the file, audit each change and flag re-warmed files.
import type { PoolClient } from 'pg';

export interface AccessEvent { filePath: string; newLastAccessed: number; auditFile: string; auditEventId: string }

export async function lockAccessVolume(client: PoolClient, tenantId: string, volumeId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('access/' || $1::text || '/' || $2::text, 0))`, [tenantId, volumeId]);
}

export async function isBatchStaged(client: PoolClient, volumeId: string, batchId: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM staging_lucid_audit WHERE volume_id = $1 AND batch_id = $2 LIMIT 1', [volumeId, batchId]);
  return result.rowCount === 1;
}

export async function countProcessed(client: PoolClient, volumeId: string, eventIds: string[]): Promise<number> {
  const result = await client.query(
    'SELECT count(*)::int AS n FROM lucid_audit_processed WHERE volume_id = $1 AND audit_event_id = ANY($2::text[])', [volumeId, eventIds]);
  return result.rows[0].n;
}

export async function stageBatch(client: PoolClient, tenantId: string, volumeId: string, batchId: string, events: AccessEvent[]): Promise<void> {
  await client.query(
    `INSERT INTO staging_lucid_audit (tenant_id, volume_id, batch_id, file_path, new_last_accessed, audit_file, audit_event_id)
     SELECT $1, $2, $3, e.* FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[]) AS e`,
    [tenantId, volumeId, batchId, events.map((e) => e.filePath), events.map((e) => e.newLastAccessed),
      events.map((e) => e.auditFile), events.map((e) => e.auditEventId)]);
}

export async function oldestStagedBatch(client: PoolClient, volumeId: string): Promise<string | undefined> {
  const result = await client.query(
    `SELECT batch_id FROM staging_lucid_audit WHERE volume_id = $1 GROUP BY batch_id ORDER BY min(staged_at), batch_id LIMIT 1`, [volumeId]);
  return result.rows[0]?.batch_id;
}

export interface AppliedBatch {
  batchId: string; events: number; duplicates: number; unmatched: number; stale: number; pathsUpdated: number; fileRowsUpdated: number;
}

/** Applies one staged batch; the caller holds the volume lock inside its transaction. */
export async function applyStagedBatch(client: PoolClient, tenantId: string, volumeId: string, batchId: string): Promise<AppliedBatch> {
  const staged = await client.query('SELECT count(*)::int AS n FROM staging_lucid_audit WHERE volume_id = $1 AND batch_id = $2', [volumeId, batchId]);
  // One row per new event, with the path split at its last separator (\ or /) and the directory resolved by hash.
  await client.query(`CREATE TEMP TABLE access_target ON COMMIT DROP AS
    SELECT e.audit_event_id, e.file_path, e.new_last_accessed, e.audit_file, e.name, d.id AS dir_id
      FROM (SELECT DISTINCT ON (s.audit_event_id) s.audit_event_id, s.file_path, s.new_last_accessed, s.audit_file,
                   substring(s.file_path from '[^\\\\/]*$') AS name,
                   left(s.file_path, length(s.file_path) - length(substring(s.file_path from '[^\\\\/]*$')) - 1) AS parent,
                   substr(s.file_path, length(s.file_path) - length(substring(s.file_path from '[^\\\\/]*$')), 1) AS sep
              FROM staging_lucid_audit s
             WHERE s.volume_id = $1 AND s.batch_id = $2
               AND NOT EXISTS (SELECT 1 FROM lucid_audit_processed p WHERE p.volume_id = $1 AND p.audit_event_id = s.audit_event_id)
             ORDER BY s.audit_event_id, s.staged_at) e
      LEFT JOIN LATERAL (
        SELECT d.id FROM dir d
         WHERE d.path_hash = ANY(ARRAY[dir_path_hash(e.parent), dir_path_hash(e.parent || e.sep)])
           AND d.dir_path = ANY(ARRAY[e.parent, e.parent || e.sep]) AND e.name <> '' AND e.sep IN ('/', '\\')
         ORDER BY length(d.dir_path) LIMIT 1) d ON true`, [volumeId, batchId]);
  const scans = (await client.query('SELECT coalesce(array_agg(id), ARRAY[]::bigint[]) AS ids FROM scan')).rows[0].ids;
  await client.query(`CREATE TEMP TABLE access_applied ON COMMIT DROP AS
    SELECT NULL::bigint AS file_id, NULL::bigint AS old_atime, t.* FROM access_target t WITH NO DATA`);
  await client.query(`WITH latest AS (
      SELECT DISTINCT ON (dir_id, name) * FROM access_target WHERE dir_id IS NOT NULL ORDER BY dir_id, name, new_last_accessed DESC),
    moved AS (
      UPDATE file f SET atime_unix = l.new_last_accessed FROM latest l, file o
       WHERE o.scan_id = ANY($1::bigint[]) AND o.dir_id = l.dir_id AND o.name = l.name AND o.atime_unix < l.new_last_accessed
         AND f.id = o.id AND f.atime_unix < l.new_last_accessed
      RETURNING f.id, o.atime_unix, l.audit_event_id, l.file_path, l.new_last_accessed, l.audit_file, l.name, l.dir_id)
    INSERT INTO access_applied SELECT * FROM moved`, [scans]);
  const counts = (await client.query(`SELECT
      (SELECT count(*)::int FROM access_target) AS fresh,
      (SELECT count(*)::int FROM access_target t WHERE t.dir_id IS NULL OR NOT EXISTS (
         SELECT 1 FROM file f WHERE f.scan_id = ANY($1::bigint[]) AND f.dir_id = t.dir_id AND f.name = t.name)) AS unmatched,
      (SELECT count(DISTINCT file_path)::int FROM access_applied) AS paths,
      (SELECT count(*)::int FROM access_applied) AS rows`, [scans])).rows[0];
  await recordApplied(client, tenantId, volumeId);
  await client.query(`INSERT INTO lucid_audit_processed (tenant_id, volume_id, audit_event_id)
    SELECT $1, $2, audit_event_id FROM access_target ON CONFLICT DO NOTHING`, [tenantId, volumeId]);
  await client.query('DELETE FROM staging_lucid_audit WHERE volume_id = $1 AND batch_id = $2', [volumeId, batchId]);
  return {
    batchId, events: staged.rows[0].n, duplicates: staged.rows[0].n - counts.fresh, unmatched: counts.unmatched,
    stale: counts.fresh - counts.unmatched - counts.paths, pathsUpdated: counts.paths, fileRowsUpdated: counts.rows,
  };
}

/** One audit row and one re-warm flag per path whose access time moved forward. */
async function recordApplied(client: PoolClient, tenantId: string, volumeId: string): Promise<void> {
  await client.query(`INSERT INTO audit_log (tenant_id, actor, action, target, details, event_key, prev_hash, hash)
    SELECT $1, 'accessUpdates', 'file.access-updated', file_path,
           jsonb_build_object('volumeId', $2::text, 'auditEventId', audit_event_id, 'auditFile', audit_file,
                              'oldAtime', min(old_atime), 'newAtime', new_last_accessed, 'fileRows', count(*), 'source', 'lucidlink_audit'),
           'access/' || $2 || '/' || audit_event_id, '\\x', '\\x'
      FROM access_applied GROUP BY file_path, audit_event_id, audit_file, new_last_accessed ORDER BY file_path
    ON CONFLICT (tenant_id, event_key) DO NOTHING`, [tenantId, volumeId]);
  await client.query(`INSERT INTO rewarmed_file (tenant_id, full_path, dir_id, name, volume_id, last_accessed, audit_event_id)
    SELECT DISTINCT ON (file_path) $1, file_path, dir_id, name, $2, new_last_accessed, audit_event_id FROM access_applied ORDER BY file_path
    ON CONFLICT (tenant_id, full_path) DO UPDATE
      SET last_accessed = excluded.last_accessed, audit_event_id = excluded.audit_event_id, volume_id = excluded.volume_id,
          flagged_at = now(), handled_at = NULL
      WHERE excluded.last_accessed > rewarmed_file.last_accessed`, [tenantId, volumeId]);
}
