// Applies staged access-time batches of one volume, oldest first, each exactly once
// in its own transaction under the volume's advisory lock (ingest role, tenant RLS).
import { Context } from '@temporalio/activity';
import { withTenant } from '../db/tenant-tx';
import { appendAudit } from '../db/queries/audit';
import { applyStagedBatch, lockAccessVolume, oldestStagedBatch, type AppliedBatch } from '../db/queries/ingest-access';
import type { ActivityDeps } from './deps';

export interface ApplyAccessInput { tenantId: string; volumeId: string; maxBatches?: number }
export interface ApplyAccessResult { applied: AppliedBatch[]; more: boolean }

export function createAccessActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const applyOldest = (tenantId: string, volumeId: string) =>
    withTenant(pool, { tenantId, role: 'strata_ingest' }, async (client) => {
      await lockAccessVolume(client, tenantId, volumeId);
      const batchId = await oldestStagedBatch(client, volumeId);
      if (!batchId) return undefined;
      const result = await applyStagedBatch(client, tenantId, volumeId, batchId);
      await appendAudit(client, tenantId, {
        actor: 'accessUpdates', action: 'access.batch-applied', target: volumeId,
        details: { ...result }, eventKey: `access.batch/${volumeId}/${batchId}`,
      });
      return result;
    });

  return {
    async applyAccessBatches(input: ApplyAccessInput): Promise<ApplyAccessResult> {
      const applied: AppliedBatch[] = [];
      for (let i = 0; i < (input.maxBatches ?? 20); i++) {
        const batch = await applyOldest(input.tenantId, input.volumeId);
        if (!batch) return { applied, more: false };
        applied.push(batch);
        heartbeat(applied.length);
      }
      return { applied, more: true };
    },
  };
}

function heartbeat(done: number): void {
  try { Context.current().heartbeat(done); } catch { /* called outside an activity */ }
}
