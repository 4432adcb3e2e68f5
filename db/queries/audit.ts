// Appends to and reads the tenant's hash-chained audit trail; the chain itself is
// computed by the database trigger.
import type { PoolClient } from 'pg';

export interface AuditEntry { actor: string; action: string; target?: string; details?: Record<string, unknown>; eventKey?: string }

export async function appendAudit(client: PoolClient, tenantId: string, entry: AuditEntry): Promise<void> {
  await client.query(
    `INSERT INTO audit_log (tenant_id, actor, action, target, details, event_key, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, '\\x', '\\x') ON CONFLICT (tenant_id, event_key) DO NOTHING`,
    [tenantId, entry.actor, entry.action, entry.target ?? '', JSON.stringify(entry.details ?? {}), entry.eventKey ?? null]);
}

export interface AuditVerification { entries: number; valid: boolean; firstBadSeq: number | null; reason: string | null }

export async function verifyAudit(client: PoolClient): Promise<AuditVerification> {
  const result = await client.query(
    `SELECT entries, valid, first_bad_seq AS "firstBadSeq", reason FROM audit_verify()`);
  return result.rows[0];
}

export interface AuditQuery { action?: string; actor?: string; target?: string; since?: string; until?: string; afterSeq?: number; limit: number }

export async function listAudit(client: PoolClient, query: AuditQuery): Promise<Record<string, unknown>[]> {
  const result = await client.query(
    `SELECT seq, at, actor, action, target, details FROM audit_log
      WHERE ($1::text IS NULL OR action = $1) AND ($2::text IS NULL OR actor = $2)
        AND ($3::text IS NULL OR starts_with(target, $3)) AND ($4::timestamptz IS NULL OR at >= $4)
        AND ($5::timestamptz IS NULL OR at < $5) AND ($6::bigint IS NULL OR seq < $6)
      ORDER BY seq DESC LIMIT $7`,
    [query.action ?? null, query.actor ?? null, query.target ?? null, query.since ?? null, query.until ?? null,
      query.afterSeq ?? null, query.limit]);
  return result.rows;
}
