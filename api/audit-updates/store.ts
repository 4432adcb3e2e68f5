// Stages an access batch in Postgres under the api role, exactly once per batch id.
import type { Pool } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { countProcessed, isBatchStaged, stageBatch, type AccessEvent } from '../../db/queries/ingest-access';

export type StageOutcome = 'staged' | 'already-staged' | 'already-applied';

export async function stageAccessBatch(pool: Pool, tenantId: string, volumeId: string, batchId: string, events: AccessEvent[]): Promise<StageOutcome> {
  return withTenant(pool, { tenantId, role: 'strata_api' }, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('access-batch/' || $1::text || '/' || $2::text, 0))`, [tenantId, batchId]);
    if (await isBatchStaged(client, volumeId, batchId)) return 'already-staged';
    const ids = [...new Set(events.map((event) => event.auditEventId))];
    if ((await countProcessed(client, volumeId, ids)) === ids.length) return 'already-applied';
    await stageBatch(client, tenantId, volumeId, batchId, events);
    return 'staged';
  });
}
