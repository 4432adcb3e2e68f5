// Central (Postgres-only) steps of bootstrap indexing: the scan row of a volume,
// and after the walk the directory stats, per-share stats and risk, scan status.
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { CORE_TASK_QUEUE } from '../temporal-config/task-queues';
import { indexWatchWorkflowId, type IndexWatchInput } from '../workflows/indexSync.messages';
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { appendAudit } from '../db/queries/audit';
import { ensureIndexScan, failIndexScan, finishIndexScan, walkTotals } from '../db/queries/index';
import { directTotals, dirTotals, rollUp, saveSubtreeTotals } from '../db/queries/index-stats';
import { listShares, saveShareStats } from '../db/queries/shares';
import { refreshStatistics } from '../db/queries/statistics';
import { shareRisk } from '../lib/share-config';
import type { ActivityDeps } from './deps';

export interface PrepareIndexScanInput { tenantId: string; scanGuid: string; hostId: string; volume: string; startedAt: string }
export interface FinishIndexScanInput { tenantId: string; scanId: number; hostId: string; volume: string; rootRef: number; actor: string }
export interface ShareSummary { id: number; name: string; protocol: string; files: number; bytes: number; worldFiles: number; riskScore: number; riskLevel: string }
export interface FinishIndexScanResult { entries: number; files: number; dirs: number; bytes: number; worldFiles: number; issues: number; status: 'OK' | 'WARN'; shares: ShareSummary[] }

export function createIndexActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const asIndexer = <T>(tenantId: string, work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId, role: 'strata_indexer' }, work);

  return {
    async prepareIndexScan(input: PrepareIndexScanInput): Promise<{ scanId: number }> {
      const { scanId } = await asIndexer(input.tenantId, (client) => ensureIndexScan(client, input));
      return { scanId };
    },

    async finishIndexScan(input: FinishIndexScanInput): Promise<FinishIndexScanResult> {
      const beat = setInterval(() => Context.current().heartbeat('stats'), 5_000);
      try {
        const finished = await asIndexer(input.tenantId, async (client) => {
          const { direct, tree } = await directTotals(client, input.scanId);
          await saveSubtreeTotals(client, input.tenantId, input.scanId, rollUp(direct, tree));
          const shares = await refreshShareStats(client, input.hostId, input.volume, input.scanId);
          const totals = await walkTotals(client, input.scanId);
          const root = await dirTotals(client, input.scanId, input.rootRef);
          const status = totals.issues > 0 ? 'WARN' : 'OK';
          const reason = totals.issues > 0 ? `${totals.issues} entries or directories could not be read (see index issues)` : null;
          await finishIndexScan(client, { ...input, status, reason });
          const result: FinishIndexScanResult = {
            entries: Number(totals.entries), files: Number(totals.files), dirs: Number(totals.dirs), bytes: Number(totals.bytes),
            worldFiles: Number(root?.worldFiles ?? 0), issues: totals.issues, status, shares,
          };
          await appendAudit(client, input.tenantId, {
            actor: input.actor, action: 'index.bootstrapped', target: `${input.hostId}:${input.volume}`,
            details: { scanId: input.scanId, ...result, shares: shares.length }, eventKey: `index.bootstrapped/${input.scanId}`,
          });
          return result;
        });
        // The volume's files arrived in bulk: plans over them (remediation, tiering) need statistics that know them.
        await asIndexer(input.tenantId, (client) => refreshStatistics(client, ['file', 'dir']));
        return finished;
      } finally {
        clearInterval(beat);
      }
    },

    async failIndexScan(input: { tenantId: string; scanId: number; reason: string }): Promise<void> {
      await asIndexer(input.tenantId, (client) => failIndexScan(client, input.scanId, input.reason));
    },

    /** Starts the volume's watcher workflow unless it is already running. */
    async startIndexWatcher(input: IndexWatchInput): Promise<{ started: boolean }> {
      try {
        await Context.current().client.workflow.start('indexSyncWatcher', {
          workflowId: indexWatchWorkflowId(input.tenantCode, input.hostId, input.volume), taskQueue: CORE_TASK_QUEUE, args: [input],
        });
        return { started: true };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
        throw error;
      }
    },
  };
}

/** Stats and risk of every active share of the host whose root is in this volume's index. */
export async function refreshShareStats(client: PoolClient, hostId: string, volume: string, scanId: number): Promise<ShareSummary[]> {
  const summaries: ShareSummary[] = [];
  for (const share of await listShares(client, { hostId })) {
    if (share.volume !== volume || share.rootFileRef === null) continue;
    const totals = await dirTotals(client, scanId, share.rootFileRef);
    if (!totals) continue;
    const risk = shareRisk({ protocol: share.protocol as 'smb' | 'nfs', permissions: share.permissions }, Number(totals.files), Number(totals.worldFiles));
    await saveShareStats(client, {
      id: share.id, scanId, files: totals.files, dirs: totals.dirs, bytes: totals.bytes, worldFiles: totals.worldFiles,
      score: risk.score, level: risk.level, factors: risk.factors,
    });
    summaries.push({
      id: share.id, name: share.name, protocol: share.protocol, files: Number(totals.files), bytes: Number(totals.bytes),
      worldFiles: Number(totals.worldFiles), riskScore: risk.score, riskLevel: risk.level,
    });
  }
  return summaries;
}
