// Host-worker activities of indexing: enumerate shares, plan the walk of a volume,
// walk partitions, apply change events, watch the volume for changes.
import { statfs } from 'node:fs/promises';
import { withTenant } from '../db/tenant-tx';
import { insertPartition } from '../db/queries/index';
import { activeShareRoots } from '../db/queries/shares';
import type { HostDeps } from './host';
import { enumerateShares, type EnumerateSharesInput, type EnumerateSharesResult } from './shares';
import { walkPartition, type WalkPartitionInput, type WalkPartitionResult } from './index-partition';
import { applyIndexChanges, type ApplyChangesInput, type ApplyChangesResult } from './index-sync';
import { watchVolume, type WatchVolumeInput } from './index-watch';
import { FileSystemError, InvalidInputError } from './errors';
import * as ffi from './ffi';
import type { WorkItem } from './index-walker';

export interface PlanIndexWalkInput { tenantId: string; scanId: number; hostId: string; volume: string }
export interface PlanIndexWalkResult { rootRef: number; rootKey: string; estimatedEntries: number; fsDev: string }

/** The volume root's statx; a volume that is not there is a permanent input error, not something to retry. */
function volumeRoot(volume: string): ffi.Statx {
  try {
    return ffi.lstatx(volume);
  } catch (error) {
    if (error instanceof FileSystemError && ['ENOENT', 'ENOTDIR', 'EACCES', 'ELOOP'].includes(error.code)) {
      throw new InvalidInputError(`volume ${volume} cannot be indexed on this host: ${error.message}`);
    }
    throw error;
  }
}

export function createIndexHostActivities(deps: HostDeps) {
  return {
    async enumerateIndexShares(input: EnumerateSharesInput): Promise<EnumerateSharesResult> {
      return enumerateShares(deps.pool, input);
    },

    async planIndexWalk(input: PlanIndexWalkInput): Promise<PlanIndexWalkResult> {
      if (!input.volume.startsWith('/')) throw new InvalidInputError(`volume ${JSON.stringify(input.volume)} is not an absolute path`);
      const root = volumeRoot(input.volume);
      if ((root.mode & 0o170000) !== 0o040000) throw new InvalidInputError(`volume ${input.volume} is not a directory`);
      const usage = await statfs(input.volume);
      await withTenant(deps.pool, { tenantId: input.tenantId, role: 'strata_indexer' }, async (client) => {
        const roots = await activeShareRoots(client, input.hostId);
        const rootShare = roots.filter((s) => input.volume === s.localPath || input.volume.startsWith(`${s.localPath.replace(/\/$/, '')}/`))
          .sort((a, b) => b.localPath.length - a.localPath.length)[0];
        const work: WorkItem[] = [{
          dir: { path: Buffer.from(input.volume, 'utf8').toString('base64'), ino: String(root.ino), shareId: rootShare?.id ?? null },
          phase: 'rows', from: null, until: null, emitSelf: true,
        }];
        await insertPartition(client, input.tenantId, input.scanId, '0', null, work);
      });
      return {
        rootRef: Number(root.ino), rootKey: '0', estimatedEntries: Math.max(0, usage.files - usage.ffree),
        fsDev: `${root.devMajor}:${root.devMinor}`,
      };
    },

    async walkIndexPartition(input: WalkPartitionInput): Promise<WalkPartitionResult> {
      return walkPartition(deps.pool, input);
    },

    async applyIndexChanges(input: ApplyChangesInput): Promise<ApplyChangesResult> {
      return applyIndexChanges(deps.pool, input);
    },

    async watchIndexVolume(input: WatchVolumeInput): Promise<void> {
      return watchVolume(input);
    },
  };
}
