// Actions: one row per run that changes the world (tiering act, rehydrate, sanitize
// execution, remediation), with its status, counters and an event log. Shared by
// every such workflow; statuses follow the transitions sql/000007 allows.
import type { PoolClient } from 'pg';

export const ACTION_STATUSES = ['queued', 'preflight', 'in_progress', 'verifying', 'completed', 'failed', 'rolled_back'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export interface NewAction {
  id: string; kind: string; subject: string; shareName?: string | null; requestedBy: string; workflowId: string;
  summary?: Record<string, unknown>;
}

export interface ActionRow {
  id: string; kind: string; subject: string; shareName: string | null; requestedBy: string; status: ActionStatus;
  workflowId: string | null; summary: Record<string, unknown>; createdAt: Date; updatedAt: Date; finishedAt: Date | null;
}

const ACTION_COLUMNS = `id, kind, subject, share_name AS "shareName", requested_by AS "requestedBy", status,
  workflow_id AS "workflowId", summary, created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;

/** Inserts the action as queued, once; a repeat with the same id changes nothing. */
export async function insertAction(client: PoolClient, tenantId: string, action: NewAction): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO action (id, tenant_id, kind, subject, share_name, requested_by, workflow_id, summary)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
    [action.id, tenantId, action.kind, action.subject, action.shareName ?? null, action.requestedBy, action.workflowId,
      JSON.stringify(action.summary ?? {})]);
  if (result.rowCount === 1) {
    await addActionEvent(client, tenantId, action.id, { event: 'created', toStatus: 'queued', details: { requestedBy: action.requestedBy }, eventKey: 'created' });
  }
  return result.rowCount === 1;
}

export async function getAction(client: PoolClient, id: string): Promise<ActionRow | undefined> {
  return (await client.query(`SELECT ${ACTION_COLUMNS} FROM action WHERE id = $1`, [id])).rows[0];
}

export async function listActionsFor(client: PoolClient, subject: string, limit = 20): Promise<ActionRow[]> {
  return (await client.query(`SELECT ${ACTION_COLUMNS} FROM action WHERE subject = $1 ORDER BY created_at DESC LIMIT $2`, [subject, limit])).rows;
}

export interface ActionEventInput { event: string; toStatus?: ActionStatus; details?: Record<string, unknown>; eventKey?: string }

/** Records an event; with an eventKey a retried activity records it once. Without toStatus it keeps the current status. */
export async function addActionEvent(client: PoolClient, tenantId: string, actionId: string, input: ActionEventInput): Promise<void> {
  await client.query(
    `INSERT INTO action_event (tenant_id, action_id, event, from_status, to_status, details, event_key)
     SELECT $1, a.id, $3, a.status, coalesce($4, a.status), $5, $6 FROM action a WHERE a.id = $2
     ON CONFLICT (tenant_id, action_id, event_key) DO NOTHING`,
    [tenantId, actionId, input.event, input.toStatus ?? null, JSON.stringify(input.details ?? {}), input.eventKey ?? null]);
}

/** summary: the action's summary after the move, when the caller asked for it. */
export interface TransitionResult { from: ActionStatus; to: ActionStatus; changed: boolean; summary?: Record<string, unknown> }

/**
 * Moves the action to a status (allowed transitions only; the same status is a
 * no-op), merging summaryPatch into its summary and logging the change.
 */
export async function transitionAction(client: PoolClient, tenantId: string, actionId: string, to: ActionStatus,
  options: { details?: Record<string, unknown>; summaryPatch?: Record<string, unknown>; eventKey?: string; returnSummary?: boolean } = {}): Promise<TransitionResult> {
  const current = await client.query('SELECT status FROM action WHERE id = $1 FOR UPDATE', [actionId]);
  if (current.rowCount === 0) throw new Error(`action ${actionId} does not exist`);
  const from = current.rows[0].status as ActionStatus;
  const updated = await client.query(`UPDATE action SET status = $2, summary = summary || $3::jsonb WHERE id = $1 RETURNING summary`,
    [actionId, to, JSON.stringify(options.summaryPatch ?? {})]);
  if (from !== to) {
    await client.query(
      `INSERT INTO action_event (tenant_id, action_id, event, from_status, to_status, details, event_key)
       VALUES ($1, $2, 'status', $3, $4, $5, $6) ON CONFLICT (tenant_id, action_id, event_key) DO NOTHING`,
      [tenantId, actionId, from, to, JSON.stringify(options.details ?? {}), options.eventKey ?? `status:${to}`]);
  }
  return { from, to, changed: from !== to, ...(options.returnSummary ? { summary: updated.rows[0].summary } : {}) };
}

/** Adds numeric deltas to counters in the summary (missing counters start at 0) and merges a patch. */
export async function bumpActionCounters(client: PoolClient, actionId: string, deltas: Record<string, number>, patch: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await client.query(
    `UPDATE action SET summary = summary || coalesce((
        SELECT jsonb_object_agg(d.key, coalesce((action.summary->>d.key)::numeric, 0) + d.value::numeric)
          FROM jsonb_each_text($2::jsonb) d), '{}'::jsonb) || $3::jsonb
      WHERE id = $1 RETURNING summary`,
    [actionId, JSON.stringify(deltas), JSON.stringify(patch)]);
  return result.rows[0]?.summary ?? {};
}

export interface ActionEventRow { at: Date; event: string; fromStatus: string | null; toStatus: string; details: Record<string, unknown> }

export async function listActionEvents(client: PoolClient, actionId: string, limit = 200): Promise<ActionEventRow[]> {
  return (await client.query(
    `SELECT at, event, from_status AS "fromStatus", to_status AS "toStatus", details FROM action_event
      WHERE action_id = $1 ORDER BY id LIMIT $2`, [actionId, limit])).rows;
}
