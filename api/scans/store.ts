// The database side of the scan routes, under the api role with the tenant pinned:
// is this scan known, closed, is this chunk already in, and the recorded progress.
import type { Pool } from 'pg';
import { withTenant } from '../../db/tenant-tx';
import { chunkTotals, findScan, isChunkIngested, type ChunkTotals, type ScanRow } from '../../db/queries/ingest';

export interface UploadCheck { scan?: ScanRow; ingested: boolean }

export async function checkUpload(pool: Pool, tenantId: string, scanGuid: string, seq: number): Promise<UploadCheck> {
  return withTenant(pool, { tenantId, role: 'strata_api' }, async (client) => {
    const scan = await findScan(client, scanGuid);
    return { scan, ingested: scan ? await isChunkIngested(client, scan.id, seq) : false };
  });
}

export interface ScanRecord { scan: ScanRow; totals: ChunkTotals }

export async function scanRecord(pool: Pool, tenantId: string, scanGuid: string): Promise<ScanRecord | undefined> {
  return withTenant(pool, { tenantId, role: 'strata_api' }, async (client) => {
    const scan = await findScan(client, scanGuid);
    return scan ? { scan, totals: await chunkTotals(client, scan.id) } : undefined;
  });
}
