// Messages and input types of bootstrapIndex, importable by the api.
import { defineQuery } from '@temporalio/workflow';
import type { ShareSources } from '../activities/shares';
import type { PrincipalPaths } from '../activities/acl-principals';
import type { ShareSummary } from '../activities/index-db';

export interface BootstrapIndexInput {
  tenantId: string;
  tenantCode: string;
  hostId: string;
  /** Absolute path of the volume (a mount point or any directory) on the host. */
  volume: string;
  requestedBy: string;
  shareSources?: ShareSources;
  principals?: PrincipalPaths;
  /** Group names treated like "everyone" when they may read (default: users). */
  worldGroups?: string[];
  /** Partitions walked at the same time (default 2). */
  parallelism?: number;
  batchRows?: number;
  sliceEntries?: number;
  sliceSeconds?: number;
  initialPartitions?: number;
  heartbeatTimeoutSeconds?: number;
  /** false forces lgetxattr on full paths instead of getxattrat (for kernels before 6.13, and tests). */
  useGetxattrat?: boolean;
  /**
   * How long the host's worker may take to pick up the first step before the run fails
   * saying the host is not connected (default 900 s); a host is not waited for forever.
   */
  hostWaitSeconds?: number;
  /** Start the volume's change watcher after the bootstrap (default false). */
  watch?: boolean;
  /** History length after which the run continues as new (default 4,000 events). */
  historyLimit?: number;
  resume?: BootstrapResume;
}

export interface WalkCounts { entries: number; files: number; dirs: number; bytes: number; issues: number; partitions: number }

/** What a run carries over continue-as-new. */
export interface BootstrapResume {
  scanId: number; scanGuid: string; rootRef: number; estimatedEntries: number; startedAtMs: number;
  pending: string[]; done: WalkCounts; shares: number; warnings: string[];
}

export interface BootstrapIndexStatus {
  phase: string; scanId: number | null; scanGuid: string | null; hostId: string; volume: string;
  partitions: { done: number; running: number; pending: number };
  entries: number; files: number; dirs: number; bytes: number; issues: number;
  filesPerSecond: number; estimatedEntries: number; etaSeconds: number | null; elapsedSeconds: number;
  shares: number; warnings: string[];
}

export interface BootstrapIndexResult extends WalkCounts {
  scanId: number; scanGuid: string; status: 'OK' | 'WARN'; worldFiles: number; shares: ShareSummary[]; seconds: number; filesPerSecond: number;
}

export const statusQuery = defineQuery<BootstrapIndexStatus>('status');

export function bootstrapIndexWorkflowId(tenantCode: string, hostId: string, volume: string): string {
  return `index/${tenantCode}/${hostId}/${volume.replace(/^\/+/, '')}`;
}
