// Scan ingestion activities under the ingest role: register the scan, load one
// spooled chunk exactly once (COPY into a per-transaction table, then normalize and
// mark the chunk under the scan's advisory lock, all in one transaction), finish
// the scan, and clean its spool.
import { access } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { withTenant } from '../db/tenant-tx';
import * as ingest from '../db/queries/ingest';
import { appendAudit } from '../db/queries/audit';
import { refreshStatistics } from '../db/queries/statistics';
import { removeScanSpool, removeSpooledChunk, resolveSpoolRef } from '../lib/spool';
import { copyFileInto } from './pg-copy';
import { ChecksumMismatchError, ConflictError, InvalidInputError, SpoolMissingError } from './errors';
import type { ActivityDeps } from './deps';

export interface RegisterScanInput { tenantId: string; scanGuid: string; shareName: string; srcType: ingest.SourceType; startedAt: string }
export interface RegisterScanResult { scanId: number; status: ingest.ScanStatus; ingestedSeqs: number[] }

export interface IngestChunkInput { tenantId: string; tenantCode: string; scanId: number; seq: number; spoolRef: string; rows: number; sha256: string }
export interface IngestChunkResult { seq: number; skipped: boolean; rows: number; bytes: number; filesInserted: number; dirsNew: number }

export interface FinishScanInput {
  tenantId: string; tenantCode: string; scanId: number; scanGuid: string; status: 'OK' | 'ERROR'; reason: string | null;
  totalChunks: number | null; chunksIngested: number; rowsIngested: number;
}

export function spoolDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STRATA_DATA_DIR ?? '.data';
}

export function createIngestActivities({ pool }: Pick<ActivityDeps, 'pool'>, dataDir = spoolDataDir) {
  const asIngest = <T>(tenantId: string, work: Parameters<typeof withTenant<T>>[2]) =>
    withTenant(pool, { tenantId, role: 'strata_ingest' }, work);

  return {
    async registerScan(input: RegisterScanInput): Promise<RegisterScanResult> {
      return asIngest(input.tenantId, async (client) => {
        const scan = await ingest.ensureScan(client, input);
        if (scan.shareName !== input.shareName || scan.srcType !== input.srcType) {
          throw new ConflictError(`scan ${input.scanGuid} exists for share ${scan.shareName} (${scan.srcType})`);
        }
        await appendAudit(client, input.tenantId, {
          actor: 'scanIngestion', action: 'scan.started', target: `${scan.shareName}/${input.scanGuid}`,
          details: { scanId: scan.id, srcType: scan.srcType, startedAt: input.startedAt }, eventKey: `scan.started/${input.scanGuid}`,
        });
        return { scanId: scan.id, status: scan.status, ingestedSeqs: await ingest.ingestedSeqs(client, scan.id) };
      });
    },

    async ingestChunk(input: IngestChunkInput): Promise<IngestChunkResult> {
      if (!input.spoolRef.startsWith(`spool/${input.tenantCode}/`)) {
        throw new InvalidInputError(`spool reference ${input.spoolRef} is not in tenant ${input.tenantCode}'s spool`);
      }
      const path = resolveSpoolRef(dataDir(), input.spoolRef);
      const stopHeartbeat = keepHeartbeating();
      try {
        const result = await asIngest(input.tenantId, (client) => loadChunk(client, input, path));
        await removeSpooledChunk(dataDir(), input.spoolRef);
        return result;
      } finally {
        stopHeartbeat();
      }
    },

    async finishScan(input: FinishScanInput): Promise<{ status: 'OK' | 'ERROR'; reason: string | null }> {
      const finished = await closeAndAudit(input);
      if (finished.status === 'OK') await asIngest(input.tenantId, (client) => refreshStatistics(client, ['file', 'dir']));
      return finished;
    },

    async removeScanSpool(input: { tenantCode: string; scanGuid: string }): Promise<void> {
      await removeScanSpool(dataDir(), input.tenantCode, input.scanGuid);
    },
  };

  /** Closes the scan (ERROR when chunks are missing) and audits it once; answers its final status. */
  function closeAndAudit(input: FinishScanInput): Promise<{ status: 'OK' | 'ERROR'; reason: string | null }> {
    return asIngest(input.tenantId, async (client) => {
      let { status, reason } = input;
      const totals = await ingest.chunkTotals(client, input.scanId);
      if (status === 'OK' && totals.chunks !== input.totalChunks) {
        status = 'ERROR';
        reason = `the database holds ${totals.chunks} of ${input.totalChunks} chunks`;
      }
      const closed = await ingest.closeScan(client, input.scanId, status, reason, input.totalChunks);
      const scan = await ingest.findScan(client, input.scanGuid);
      if (closed) {
        await appendAudit(client, input.tenantId, {
          actor: 'scanIngestion', action: 'scan.finished', target: `${scan?.shareName}/${input.scanGuid}`,
          details: { scanId: input.scanId, status, reason, chunks: totals.chunks, rows: totals.rows, bytes: totals.bytes },
          eventKey: `scan.finished/${input.scanGuid}`,
        });
      }
      const final = scan?.status === 'OK' ? 'OK' : 'ERROR';
      return { status: final, reason: scan?.statusReason ?? reason };
    });
  }
}

async function loadChunk(client: import('pg').PoolClient, input: IngestChunkInput, path: string): Promise<IngestChunkResult> {
  const done: IngestChunkResult = { seq: input.seq, skipped: true, rows: 0, bytes: 0, filesInserted: 0, dirsNew: 0 };
  if (await ingest.isChunkIngested(client, input.scanId, input.seq)) return done;
  if (!(await exists(path))) throw new SpoolMissingError(`chunk ${input.seq} is neither ingested nor spooled at ${input.spoolRef}`);
  // A dead worker's session must not hold the scan lock for long, and sorts stay in memory.
  await client.query(`SET LOCAL client_connection_check_interval = '2s'`);
  await client.query(`SET LOCAL work_mem = '256MB'`);
  await ingest.createChunkTable(client);
  const copied = await copyFileInto(client, ingest.CHUNK_COPY_SQL, path);
  if (copied.sha256 !== input.sha256) {
    throw new ChecksumMismatchError(`chunk ${input.seq}: spooled file hashes to ${copied.sha256}, expected ${input.sha256}`);
  }
  await ingest.prepareChunk(client);
  await ingest.lockScanForNormalize(client, input.tenantId, input.scanId);
  if (await ingest.isChunkIngested(client, input.scanId, input.seq)) return done;
  const normalized = await ingest.normalizeChunk(client, input.tenantId, input.scanId);
  await ingest.markChunkIngested(client, {
    tenantId: input.tenantId, scanId: input.scanId, seq: input.seq, sha256: copied.sha256, rows: copied.rows, bytes: copied.bytes,
  });
  return { seq: input.seq, skipped: false, rows: copied.rows, bytes: copied.bytes, filesInserted: normalized.filesInserted, dirsNew: normalized.dirsNew };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Heartbeats while a long statement runs, so a dead worker is noticed by the heartbeat timeout. */
function keepHeartbeating(): () => void {
  let context: Context;
  try { context = Context.current(); } catch { return () => undefined; }
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), 5000);
  return () => clearInterval(timer);
}
