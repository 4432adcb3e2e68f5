// Builds a tiering plan from the latest OK scan of a share: idle files become
// PLANNED tier objects with deterministic target URIs, page by page, the progress
// saved in page order (tiering-plan-writer.ts) so a retried activity resumes exactly.
import { Context } from '@temporalio/activity';
import type { PoolClient } from 'pg';
import { withTenant } from '../db/tenant-tx';
import { appendAudit } from '../db/queries/audit';
import { getShareConfig } from '../db/queries/tiering-config';
import * as plans from '../db/queries/tiering-plan';
import type { PlannedRow } from '../db/queries/tiering';
import { joinScanPath, objectKey, pathStyleOf, relativeSegments, targetUri, type PathStyle } from '../lib/target-uri';
import { PathFilter, idleCutoff, normalizePolicy, type TieringPolicy } from '../lib/tier2-policy';
import { InvalidInputError, NotFoundError } from './errors';
import type { ActivityDeps } from './deps';
import { PlanPageWriter, type SelectionProgress } from './tiering-plan-writer';

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
      // One reading transaction holds the cursor; pages are written in their own transactions (tiering-plan-writer.ts).
      const progress = await asPlanner(input.tenantId, async (reader) => {
        await plans.openCandidates(reader, {
          scanId: context.plan.scanId as number, afterFileId: context.progress.afterFileId ?? 0, cutoff,
          basis: context.policy.basis, minSize: context.policy.minSizeBytes,
        });
        return writePages(context, reader, new PlanPageWriter({
          planId: input.planId, shareName: context.plan.shareName, plannedBy: input.actor, tenantId: input.tenantId,
          progress: { ...context.progress }, inFlight: hasCaps(context.policy) ? 1 : 2,
          transaction: (work) => asPlanner(input.tenantId, work),
          onSaved: (saved) => Context.current().heartbeat(saved),
        }));
      });
      Context.current().log.info('tiering plan built', { planned: progress.planned });
      return progress;
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

function hasCaps(policy: TieringPolicy): boolean {
  return policy.maxFiles !== null || policy.maxBytes !== null;
}

function selectionOf({ afterFileId, candidates, filtered, outsideRoot, unsafePath, capped }: plans.PlanProgress): SelectionProgress {
  return { afterFileId, candidates, filtered, outsideRoot, unsafePath, capped };
}

/** Reads candidate pages from the open cursor and hands each page's rows to the writer; the next page is read while one is written. */
async function writePages(context: PageContext, reader: PoolClient, writer: PlanPageWriter): Promise<plans.PlanProgress> {
  const fetchPage = () => {
    const page = plans.fetchCandidates(reader, PAGE);
    page.catch(() => undefined); // awaited later; a failure is rethrown there, never left unhandled
    return page;
  };
  const selection = selectionOf(context.progress);
  const caps = hasCaps(context.policy);
  let carried: plans.Candidate[] = [];
  let next: Promise<plans.Candidate[]> | null = fetchPage();
  try {
    for (;;) {
      // With caps, choosing the next rows needs what the pages before planned; without, writes overlap.
      const written = caps ? await writer.drain() : null;
      if (written?.done) return written;
      const page = carried.length > 0 ? carried : await (next ?? fetchPage());
      next = null;
      const { rows, consumed, capped } = selectRows(context, page, selection, written ?? {});
      carried = page.slice(consumed);
      selection.capped = capped;
      const last = page.length === 0 || capped;
      if (carried.length === 0 && !last) next = fetchPage();
      await writer.submit(rows, { ...selection }, last);
      if (last && !caps) return await writer.drain();
    }
  } finally {
    // A read left in flight (the plan ended on its cap, or a write failed) finishes before the cursor's transaction does.
    await next?.catch(() => undefined);
    await writer.drain().catch(() => undefined);
  }
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

/**
 * The page's rows that pass the filters and fit the plan's caps, and how many
 * candidates that consumed; moves the selection's cursor and filter counts.
 */
function selectRows(context: PageContext, page: plans.Candidate[], selection: SelectionProgress, written: plans.PlanProgress): { rows: PlannedRow[]; consumed: number; capped: boolean } {
  const { policy } = context;
  const rows: PlannedRow[] = [];
  const seen = new Set<string>();
  let files = written.planned ?? 0;
  let bytes = written.plannedBytes ?? 0;
  for (const [index, candidate] of page.entries()) {
    if ((policy.maxFiles !== null && files >= policy.maxFiles) || (policy.maxBytes !== null && bytes + candidate.size > policy.maxBytes)) {
      return { rows, ...consumedUpTo(selection, index), capped: true };
    }
    selection.afterFileId = candidate.fileId;
    const relative = relativeSegments(context.style, context.prefix, candidate.dirPath, candidate.name);
    if (!relative.ok) {
      if (relative.reason === 'outside-root') selection.outsideRoot = (selection.outsideRoot ?? 0) + 1;
      else selection.unsafePath = (selection.unsafePath ?? 0) + 1;
      continue;
    }
    if (!context.filter.matches(relative.relPath)) { selection.filtered = (selection.filtered ?? 0) + 1; continue; }
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
  return { rows, ...consumedUpTo(selection, page.length), capped: false };
}

function consumedUpTo(selection: SelectionProgress, consumed: number): { consumed: number } {
  selection.candidates = (selection.candidates ?? 0) + consumed;
  return { consumed };
}
