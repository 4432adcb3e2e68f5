// Builds a tiering plan from the latest OK scan of a share: idle files become
// PLANNED tier objects with deterministic target URIs, page by page, each page and
// its progress committed together so a retried activity resumes exactly.
import { Context } from '@temporalio/activity';
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { appendAudit } from '../db/queries/audit';
import { getShareConfig } from '../db/queries/tiering-config';
import * as plans from '../db/queries/tiering-plan';
import { insertPlanned, type PlannedRow } from '../db/queries/tiering';
import { joinScanPath, objectKey, pathStyleOf, relativeSegments, targetUri, type PathStyle } from '../lib/target-uri';
import { PathFilter, idleCutoff, normalizePolicy, type TieringPolicy } from '../lib/tier2-policy';
import { InvalidInputError, NotFoundError } from './errors';
import type { ActivityDeps } from './deps';

const PAGE = 5000;
const MAX_FOLDERS_IN_SUMMARY = 500;

export interface PlanInput { tenantId: string; planId: string; actor: string }

interface PageContext {
  plan: plans.PlanRow; policy: TieringPolicy; style: PathStyle; prefix: string; rootUri: string; filter: PathFilter; progress: plans.PlanProgress;
}

export function createTieringPlanActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  const asPlanner = <T>(tenantId: string, work: (client: PoolClient) => Promise<T>) => withTenant(pool, { tenantId, role: 'strata_planner' }, work);

  return {
    /** Selects the plan's files into tier_object; resumable, heartbeating its progress. */
    async buildTieringPlan(input: PlanInput): Promise<plans.PlanProgress> {
      const context = await asPlanner(input.tenantId, (client) => pageContext(client, input.planId));
      if (context.progress.done) return context.progress;
      const cutoff = idleCutoff(new Date(context.plan.asOf), context.policy.idleDays);
      // One reading transaction holds the cursor; each page is written in its own transaction with the progress.
      await asPlanner(input.tenantId, async (reader) => {
        await plans.openCandidates(reader, {
          scanId: context.plan.scanId as number, afterFileId: context.progress.afterFileId ?? 0, cutoff,
          basis: context.policy.basis, minSize: context.policy.minSizeBytes,
        });
        let carried: plans.Candidate[] = [];
        const timings = { readMs: 0, mapMs: 0, writeMs: 0 };
        const timed = async <T>(key: keyof typeof timings, work: () => Promise<T> | T): Promise<T> => {
          const started = performance.now();
          try { return await work(); } finally { timings[key] += performance.now() - started; }
        };
        const fetchPage = () => {
          const page = timed('readMs', () => plans.fetchCandidates(reader, PAGE));
          page.catch(() => undefined); // awaited later; a failure is rethrown there, never left unhandled
          return page;
        };
        // The next page is read while this one is written: the cursor only reads ahead, progress moves with each write.
        let next: Promise<plans.Candidate[]> | null = fetchPage();
        while (!context.progress.done) {
          const page = carried.length > 0 ? carried : await (next ?? fetchPage());
          next = null;
          const { rows, consumed, lastId, capped } = await timed('mapMs', () => selectRows(context, page));
          carried = page.slice(consumed);
          context.progress.candidates = (context.progress.candidates ?? 0) + consumed;
          context.progress.afterFileId = lastId;
          context.progress.capped = capped;
          if (carried.length === 0 && page.length > 0 && !capped) next = fetchPage();
          await timed('writeMs', () => asPlanner(input.tenantId, (client) => savePage(client, input, context, rows, page.length === 0 || capped)));
          Context.current().heartbeat(context.progress);
        }
        // A read left in flight (the plan ended on its cap) finishes before the cursor's transaction does.
        await next?.catch(() => undefined);
        Context.current().log.info('tiering plan built', { planned: context.progress.planned, ...roundedMs(timings) });
      });
      return context.progress;
    },

    /** Marks the plan PLANNED with counts and bytes by top-level folder; audited once. */
    async finishTieringPlan(input: PlanInput): Promise<Record<string, unknown>> {
      return asPlanner(input.tenantId, async (client) => {
        const plan = await plans.getPlan(client, input.planId);
        if (!plan) throw new NotFoundError(`tiering plan ${input.planId} not found`);
        if (plan.status === 'PLANNED') return plan.summary;
        const totals = await plans.summarisePlan(client, input.planId, MAX_FOLDERS_IN_SUMMARY);
        const counts: Record<string, unknown> = { ...plan.progress };
        delete counts.afterFileId;
        delete counts.done;
        const summary = {
          scanId: plan.scanId, asOf: new Date(plan.asOf).toISOString(), policy: plan.policy,
          candidates: 0, alreadyPlanned: 0, filtered: 0, outsideRoot: 0, unsafePath: 0, capped: false, ...counts, ...totals,
        };
        await plans.finishPlan(client, input.planId, summary, totals.files, totals.bytes);
        await appendAudit(client, input.tenantId, {
          actor: input.actor, action: 'tiering.planned', target: plan.shareName,
          details: { planId: input.planId, files: totals.files, bytes: totals.bytes, scanId: plan.scanId }, eventKey: `tiering.planned/${input.planId}`,
        });
        return summary;
      });
    },

    async failTieringPlan(input: PlanInput & { reason: string }): Promise<void> {
      await asPlanner(input.tenantId, async (client) => {
        await plans.failPlan(client, input.planId, input.reason);
        await appendAudit(client, input.tenantId, {
          actor: input.actor, action: 'tiering.plan-failed', target: input.planId, details: { reason: input.reason }, eventKey: `tiering.plan-failed/${input.planId}`,
        });
      });
    },
  };
}

function roundedMs(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([key, ms]) => [key, Math.round(ms)]));
}

async function savePage(client: PoolClient, input: PlanInput, context: PageContext, rows: PlannedRow[], last: boolean): Promise<void> {
  const inserted = await insertPlanned(client, input.tenantId, { planId: input.planId, shareName: context.plan.shareName, plannedBy: input.actor }, rows);
  const progress = context.progress;
  // A capped page ends the plan, unless paths planned before left room under the cap: then the next rows fill it.
  progress.done = last && (!progress.capped || inserted.files === rows.length);
  progress.planned = (progress.planned ?? 0) + inserted.files;
  progress.plannedBytes = (progress.plannedBytes ?? 0) + inserted.bytes;
  progress.alreadyPlanned = (progress.alreadyPlanned ?? 0) + rows.length - inserted.files;
  await plans.savePlanProgress(client, input.planId, progress);
}

async function pageContext(client: PoolClient, planId: string): Promise<PageContext> {
  const plan = await plans.getPlan(client, planId);
  if (!plan) throw new NotFoundError(`tiering plan ${planId} not found`);
  const config = await getShareConfig(client, plan.shareName);
  if (!config?.targetUri) throw new InvalidInputError(`share ${plan.shareName} has no tiering source root and Tier-2 target`);
  const scan = plan.scanId ? { id: plan.scanId, srcType: await scanType(client, plan.scanId) } : await plans.latestOkScan(client, plan.shareName);
  if (!scan) throw new NotFoundError(`share ${plan.shareName} has no scan with status OK`);
  if (!plan.scanId) await plans.setPlanScan(client, planId, scan.id);
  const policy = normalizePolicy(plan.policy);
  const style = pathStyleOf(scan.srcType);
  return {
    plan: { ...plan, scanId: scan.id }, policy, style, prefix: config.scanPathPrefix, rootUri: config.targetUri,
    filter: new PathFilter(policy.include, policy.exclude, { nocase: style === 'windows' }), progress: { ...plan.progress },
  };
}

async function scanType(client: PoolClient, scanId: number): Promise<string> {
  return (await client.query('SELECT src_type FROM scan WHERE id = $1', [scanId])).rows[0]?.src_type ?? 'POSIX';
}

/** The page's rows that pass the filters and fit the plan's caps, how many candidates that consumed, and the last one's id. */
function selectRows(context: PageContext, page: plans.Candidate[]): { rows: PlannedRow[]; consumed: number; lastId: number; capped: boolean } {
  const { policy, progress } = context;
  const rows: PlannedRow[] = [];
  const seen = new Set<string>();
  let lastId = progress.afterFileId ?? 0;
  let files = progress.planned ?? 0;
  let bytes = progress.plannedBytes ?? 0;
  for (const [index, candidate] of page.entries()) {
    if ((policy.maxFiles !== null && files >= policy.maxFiles) || (policy.maxBytes !== null && bytes + candidate.size > policy.maxBytes)) {
      return { rows, consumed: index, lastId, capped: true };
    }
    lastId = candidate.fileId;
    const relative = relativeSegments(context.style, context.prefix, candidate.dirPath, candidate.name);
    if (!relative.ok) {
      if (relative.reason === 'outside-root') progress.outsideRoot = (progress.outsideRoot ?? 0) + 1;
      else progress.unsafePath = (progress.unsafePath ?? 0) + 1;
      continue;
    }
    if (!context.filter.matches(relative.relPath)) { progress.filtered = (progress.filtered ?? 0) + 1; continue; }
    const fullPath = joinScanPath(context.style, candidate.dirPath, candidate.name);
    if (seen.has(fullPath)) continue;
    seen.add(fullPath);
    files++;
    bytes += candidate.size;
    rows.push({
      fullPath, relPath: relative.relPath, dirId: candidate.dirId, name: candidate.name, size: candidate.size,
      atime: candidate.atime, mtime: candidate.mtime, targetUri: targetUri(context.rootUri, objectKey(context.plan.shareName, relative.segments)),
    });
  }
  return { rows, consumed: page.length, lastId, capped: false };
}
