// The tier_object state machine: PLANNED rows from plans, STUBBED after act,
// REHYDRATED after rehydrate; batches for the host, and per-wave persistence
// (state, outcome, audit rows and action counters in one transaction).
import type { PoolClient } from 'pg';
import { bumpActionCounters } from './actions';

export interface PlannedRow {
  fullPath: string; relPath: string; dirId: number; name: string; targetUri: string; size: number; atime: number; mtime: number;
}

/** Inserts PLANNED rows; paths planned or stubbed before are left alone, rehydrated or deleted ones are planned again. */
export async function insertPlanned(client: PoolClient, tenantId: string, plan: { planId: string; shareName: string; plannedBy: string }, rows: PlannedRow[]): Promise<{ files: number; bytes: number }> {
  if (rows.length === 0) return { files: 0, bytes: 0 };
  const result = await client.query(
    `INSERT INTO tier_object (tenant_id, share_name, full_path, rel_path, dir_id, name, target_uri, size_bytes, atime_unix, mtime_unix, state, plan_id, planned_by)
     SELECT $1, $2, u.full_path, u.rel_path, u.dir_id, u.name, u.target_uri, u.size, u.atime, u.mtime, 'PLANNED', $3, $4
       FROM unnest($5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[])
         AS u(full_path, rel_path, dir_id, name, target_uri, size, atime, mtime)
     ON CONFLICT (tenant_id, full_path) DO UPDATE SET
       share_name = excluded.share_name, rel_path = excluded.rel_path, dir_id = excluded.dir_id, name = excluded.name,
       target_uri = excluded.target_uri, size_bytes = excluded.size_bytes, atime_unix = excluded.atime_unix,
       mtime_unix = excluded.mtime_unix, state = 'PLANNED', plan_id = excluded.plan_id, planned_by = excluded.planned_by,
       planned_at = now(), acted_at = NULL, content_sha256 = NULL, rewarmed = false, rewarmed_at = NULL,
       last_action_id = NULL, pending_action_id = NULL, last_outcome = NULL, last_outcome_at = NULL, updated_at = now()
      WHERE tier_object.state IN ('REHYDRATED', 'DELETED') OR (tier_object.plan_id = excluded.plan_id AND tier_object.state = 'PLANNED')
     RETURNING size_bytes`,
    [tenantId, plan.shareName, plan.planId, plan.plannedBy, rows.map((r) => r.fullPath), rows.map((r) => r.relPath),
      rows.map((r) => r.dirId), rows.map((r) => r.name), rows.map((r) => r.targetUri), rows.map((r) => r.size),
      rows.map((r) => r.atime), rows.map((r) => r.mtime)]);
  return { files: result.rowCount ?? 0, bytes: result.rows.reduce((n, row) => n + Number(row.size_bytes), 0) };
}

export interface WorkRow { id: number; fullPath: string; relPath: string; targetUri: string; size: number; mtime: number; sha256: string | null }

const WORK_COLUMNS = `id, full_path AS "fullPath", rel_path AS "relPath", target_uri AS "targetUri", size_bytes AS size,
  mtime_unix AS mtime, content_sha256 AS sha256`;

/** PLANNED objects of a plan this action has not tried yet, after the action's cursor. */
export async function selectActBatch(client: PoolClient, planId: string, actionId: string, afterId: number, limit: number): Promise<WorkRow[]> {
  return (await client.query(
    `SELECT ${WORK_COLUMNS} FROM tier_object
      WHERE plan_id = $1 AND state = 'PLANNED' AND id > $3 AND last_action_id IS DISTINCT FROM $2
      ORDER BY id LIMIT $4`, [planId, actionId, afterId, limit])).rows;
}

export interface Outcome {
  id: number; fullPath: string; result: 'stubbed' | 'rehydrated' | 'skipped' | 'failed';
  reason?: string; detail?: string; sha256?: string; size?: number; uri?: string;
}

export interface AuditRow { action: string; target: string; details: Record<string, unknown>; eventKey: string }

/** Appends many audit entries in one statement; the chain trigger orders them as given. */
export async function appendAuditMany(client: PoolClient, tenantId: string, actor: string, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO audit_log (tenant_id, actor, action, target, details, event_key, prev_hash, hash)
     SELECT $1, $2, u.action, u.target, u.details::jsonb, u.event_key, '\\x', '\\x'
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(action, target, details, event_key, n)
      ORDER BY u.n
     ON CONFLICT (tenant_id, event_key) DO NOTHING`,
    [tenantId, actor, rows.map((r) => r.action), rows.map((r) => r.target), rows.map((r) => JSON.stringify(r.details)), rows.map((r) => r.eventKey)]);
}

function countersOf(outcomes: Outcome[]): Record<string, number> {
  const counters: Record<string, number> = {};
  const add = (key: string, n: number) => { counters[key] = (counters[key] ?? 0) + n; };
  for (const o of outcomes) {
    add(o.result, 1);
    if (o.result === 'stubbed' || o.result === 'rehydrated') add(`${o.result}Bytes`, o.size ?? 0);
    if (o.reason) add(`${o.result}.${o.reason}`, 1);
  }
  return counters;
}

/** The longest directory prefix the paths share, so audit queries by path prefix find the entry. */
export function commonDirectory(paths: string[]): string {
  if (paths.length === 0) return '';
  let prefix = paths[0];
  for (const path of paths) while (!path.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = Math.max(prefix.lastIndexOf('/'), prefix.lastIndexOf('\\'));
  return paths.length === 1 ? paths[0] : prefix.slice(0, cut + 1);
}

/** Columns of an audit entry's `files` rows: moved files, and files skipped or failed with their reason. */
const AUDIT_FILE_FIELDS = ['id', 'path', 'sha256', 'size', 'uri'] as const;
const AUDIT_REASON_FIELDS = ['id', 'path', 'reason', 'detail'] as const;

/**
 * One audit entry per outcome per wave, listing every file: each object is audited
 * exactly once, in the transaction that records it, without a chained audit row per
 * file. Files are rows under named `fields`, not objects: a wave's entry is parsed,
 * printed for the chain hash and compressed by Postgres, and with 2,000 objects of
 * five keys that took about three times as long.
 */
function auditRowsOf(kind: 'act' | 'rehydrate', actionId: string, outcomes: Outcome[]): AuditRow[] {
  const byResult = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const group = byResult.get(o.result);
    if (group) group.push(o);
    else byResult.set(o.result, [o]);
  }
  return [...byResult].map(([result, group]) => {
    const withReason = group.some((o) => o.reason);
    return {
      action: `tier.${result}`, target: commonDirectory(group.map((o) => o.fullPath)),
      details: {
        actionId, kind, count: group.length, bytes: group.reduce((n, o) => n + (o.size ?? 0), 0),
        fields: withReason ? AUDIT_REASON_FIELDS : AUDIT_FILE_FIELDS,
        files: group.map((o) => (withReason
          ? [o.id, o.fullPath, o.reason ?? null, o.detail ?? null]
          : [o.id, o.fullPath, o.sha256 ?? null, o.size ?? null, o.uri ?? null])),
      },
      eventKey: `tier.${kind}/${actionId}/${group[0].id}-${group[group.length - 1].id}/${result}`,
    };
  });
}

/** One act wave: state and outcome per object, audit rows, action counters and cursor. */
export async function persistActWave(client: PoolClient, tenantId: string, actionId: string, actor: string, outcomes: Outcome[], cursor: number): Promise<Record<string, unknown>> {
  const stubbed = outcomes.filter((o) => o.result === 'stubbed');
  const others = outcomes.filter((o) => o.result !== 'stubbed');
  await client.query(
    `UPDATE tier_object t SET state = 'STUBBED', content_sha256 = u.sha, acted_at = now(), last_action_id = $1,
            last_outcome = 'stubbed', last_outcome_at = now(), updated_at = now()
       FROM unnest($2::bigint[], $3::text[]) AS u(id, sha) WHERE t.id = u.id AND t.id = ANY($2::bigint[]) AND t.state = 'PLANNED'`,
    [actionId, stubbed.map((o) => o.id), stubbed.map((o) => o.sha256)]);
  await markOutcomes(client, actionId, others, false);
  await appendAuditMany(client, tenantId, actor, auditRowsOf('act', actionId, outcomes));
  return bumpActionCounters(client, actionId, countersOf(outcomes), { cursor });
}

async function markOutcomes(client: PoolClient, actionId: string, outcomes: Outcome[], releaseClaim: boolean): Promise<void> {
  if (outcomes.length === 0) return;
  await client.query(
    `UPDATE tier_object t SET last_action_id = $1, last_outcome = u.outcome, last_outcome_at = now(), updated_at = now(),
            pending_action_id = CASE WHEN $4 THEN NULL ELSE t.pending_action_id END
       FROM unnest($2::bigint[], $3::text[]) AS u(id, outcome) WHERE t.id = u.id AND t.id = ANY($2::bigint[])`,
    [actionId, outcomes.map((o) => o.id), outcomes.map((o) => `${o.result}:${o.reason ?? 'error'}`), releaseClaim]);
}

export interface RehydrateSelector { paths?: string[]; planId?: string; rewarmed?: boolean; shareName?: string }

/** Claims the STUBBED objects a rehydrate selects for this action; returns counts per share. */
export async function claimForRehydrate(client: PoolClient, actionId: string, selector: RehydrateSelector): Promise<{ shareName: string; files: number; bytes: number }[]> {
  const result = await client.query(
    `WITH claimed AS (
       UPDATE tier_object SET pending_action_id = $1, updated_at = now()
        WHERE state = 'STUBBED'
          AND (pending_action_id IS NULL OR pending_action_id = $1 OR pending_action_id IN (
                SELECT id FROM action WHERE status IN ('completed', 'failed', 'rolled_back')))
          AND ($2::text[] IS NULL OR full_path = ANY($2)) AND ($3::uuid IS NULL OR plan_id = $3)
          AND (NOT $4 OR rewarmed) AND ($5::text IS NULL OR share_name = $5)
       RETURNING share_name, size_bytes)
     SELECT share_name AS "shareName", count(*)::bigint AS files, coalesce(sum(size_bytes), 0)::bigint AS bytes
       FROM claimed GROUP BY share_name ORDER BY share_name`,
    [actionId, selector.paths ?? null, selector.planId ?? null, selector.rewarmed === true, selector.shareName ?? null]);
  return result.rows;
}

/** Flags STUBBED/PLANNED objects as re-warmed: access updates recorded them, or the latest scan saw a newer atime. */
export async function flagRewarmed(client: PoolClient, shareName: string | null): Promise<number> {
  const fromUpdates = await client.query(
    `UPDATE tier_object t SET rewarmed = true, rewarmed_at = now(), updated_at = now()
       FROM rewarmed_file r
      WHERE r.dir_id = t.dir_id AND r.name = t.name AND r.handled_at IS NULL AND r.last_accessed > t.atime_unix
        AND t.state IN ('PLANNED', 'STUBBED') AND NOT t.rewarmed AND ($1::text IS NULL OR t.share_name = $1)`, [shareName]);
  const fromScans = await client.query(
    `WITH latest AS (SELECT DISTINCT ON (share_name) share_name, id FROM scan WHERE status = 'OK'
                      ORDER BY share_name, started_at DESC, id DESC)
     UPDATE tier_object t SET rewarmed = true, rewarmed_at = now(), updated_at = now()
       FROM latest l, file f
      WHERE l.share_name = t.share_name AND f.scan_id = l.id AND f.dir_id = t.dir_id AND f.name = t.name
        AND f.atime_unix > t.atime_unix AND t.state IN ('PLANNED', 'STUBBED') AND NOT t.rewarmed
        AND ($1::text IS NULL OR t.share_name = $1)`, [shareName]);
  return (fromUpdates.rowCount ?? 0) + (fromScans.rowCount ?? 0);
}

export async function selectRehydrateBatch(client: PoolClient, actionId: string, shareName: string, limit: number): Promise<WorkRow[]> {
  return (await client.query(
    `SELECT ${WORK_COLUMNS} FROM tier_object WHERE pending_action_id = $1 AND share_name = $2 AND state = 'STUBBED'
      ORDER BY id LIMIT $3`, [actionId, shareName, limit])).rows;
}

/** One rehydrate wave: REHYDRATED rows, released claims, handled re-warm flags, audit and counters. */
export async function persistRehydrateWave(client: PoolClient, tenantId: string, actionId: string, actor: string, outcomes: Outcome[]): Promise<Record<string, unknown>> {
  const done = outcomes.filter((o) => o.result === 'rehydrated').map((o) => o.id);
  await client.query(
    `UPDATE tier_object SET state = 'REHYDRATED', rehydrated_at = now(), rewarmed = false, pending_action_id = NULL,
            last_action_id = $1, last_outcome = 'rehydrated', last_outcome_at = now(), updated_at = now()
      WHERE id = ANY($2::bigint[]) AND state = 'STUBBED'`, [actionId, done]);
  await client.query(
    `UPDATE rewarmed_file r SET handled_at = now() FROM tier_object t
      WHERE t.id = ANY($1::bigint[]) AND r.dir_id = t.dir_id AND r.name = t.name AND r.handled_at IS NULL`, [done]);
  await markOutcomes(client, actionId, outcomes.filter((o) => o.result !== 'rehydrated'), true);
  await appendAuditMany(client, tenantId, actor, auditRowsOf('rehydrate', actionId, outcomes));
  return bumpActionCounters(client, actionId, countersOf(outcomes));
}

/** A random sample of what an action stubbed, for the verifying phase. */
export async function sampleStubbed(client: PoolClient, actionId: string, limit: number): Promise<WorkRow[]> {
  return (await client.query(
    `SELECT ${WORK_COLUMNS} FROM tier_object WHERE last_action_id = $1 AND state = 'STUBBED' ORDER BY random() LIMIT $2`,
    [actionId, limit])).rows;
}
