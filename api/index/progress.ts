// Progress of a bootstrap run: the workflow's status (or result) merged with the
// live per-batch counts of its partitions in Postgres, which move between slices.
import { WorkflowNotFoundError } from '@temporalio/client';
import { withTenant } from '../../db/tenant-tx';
import { listIssues, walkTotals } from '../../db/queries/index';
import type { Caller } from '../auth';
import type { ApiContext } from '../context';
import { notFound } from '../problem';
import { bootstrapIndexWorkflowId, statusQuery, type BootstrapIndexResult, type BootstrapIndexStatus } from '../../workflows/bootstrapIndex.messages';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function indexProgress(context: ApiContext, caller: Caller, id: string) {
  const workflowId = await resolveWorkflowId(context, caller, id);
  const handle = context.temporal.workflow.getHandle(workflowId);
  const description = await handle.describe().catch((error) => {
    if (error instanceof WorkflowNotFoundError) throw notFound(`no index run ${id}`);
    throw error;
  });
  const runStatus = description.status.name;
  const result = runStatus === 'COMPLETED' ? await handle.result() as BootstrapIndexResult : null;
  const status = runStatus === 'RUNNING' ? await handle.query(statusQuery).catch(() => null) as BootstrapIndexStatus | null : null;
  const scanId = result?.scanId ?? status?.scanId ?? null;
  const db = scanId === null ? null : await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, async (client) => ({
    totals: await walkTotals(client, scanId),
    issues: await listIssues(client, scanId, 50),
    scan: (await client.query('SELECT id, scan_guid AS guid, status, host_id AS "hostId", volume FROM scan WHERE id = $1', [scanId])).rows[0],
  }));
  const entries = Number(db?.totals.entries ?? status?.entries ?? 0);
  const elapsed = result?.seconds ?? status?.elapsedSeconds ?? 0;
  const filesPerSecond = result?.filesPerSecond ?? (elapsed > 0 ? Math.round(entries / elapsed) : 0);
  const estimated = status?.estimatedEntries ?? entries;
  return {
    id: workflowId, runStatus, phase: result ? 'done' : status?.phase ?? runStatus.toLowerCase(),
    hostId: db?.scan?.hostId ?? status?.hostId ?? '', volume: db?.scan?.volume ?? status?.volume ?? '',
    scan: db?.scan ? { id: db.scan.id, guid: db.scan.guid, status: db.scan.status } : null,
    progress: {
      entries, files: Number(db?.totals.files ?? 0), dirs: Number(db?.totals.dirs ?? 0), bytes: Number(db?.totals.bytes ?? 0),
      issues: Number(db?.totals.issues ?? 0), filesPerSecond, estimatedEntries: estimated,
      etaSeconds: runStatus === 'RUNNING' && filesPerSecond > 0 && estimated > entries ? Math.round((estimated - entries) / filesPerSecond) : null,
      partitions: db?.totals.partitions ?? 0, pendingPartitions: db?.totals.pending ?? 0,
    },
    result, issues: db?.issues ?? [], warnings: status?.warnings ?? [],
  };
}

/** A run is named by its workflow id (index/<tenant>/<host>/<volume>) or by its scan guid. */
async function resolveWorkflowId(context: ApiContext, caller: Caller, id: string): Promise<string> {
  if (!UUID.test(id)) {
    if (!id.startsWith(`index/${caller.tenantCode}/`)) throw notFound(`no index run ${id}`);
    return id;
  }
  const scan = await withTenant(context.pool, { tenantId: caller.tenantId, role: 'strata_report' }, async (client) =>
    (await client.query(`SELECT host_id AS "hostId", volume FROM scan WHERE scan_guid = $1 AND src_type = 'POSIX' AND host_id IS NOT NULL`, [id])).rows[0]);
  if (!scan) throw notFound(`no index run with scan ${id}`);
  return bootstrapIndexWorkflowId(caller.tenantCode, scan.hostId, scan.volume);
}
