// Remediation planning: every unique descriptor in scope is transformed once in memory
// and classified (no change / maps to an existing descriptor / new descriptor); the
// files needing a change are then selected in one set-based statement; the report
// and its hash bind what approvers review to exactly these items.
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { canonicalDescriptorBytes, describe, descriptorIdOf } from './acl';
import { PrincipalDirectory } from './acl-principals';
import { formatAcl, parseAclXattr, serializeAclXattr, type AclEntry } from '../lib/posix-acl';
import { isMinimalAcl, modeBitsOf, transformAcl, type AclPolicy } from '../lib/acl-policy';
import * as q from '../db/queries/remediation';
import { refreshStatistics } from '../db/queries/statistics';
import { InvalidInputError, NotFoundError } from './errors';

export interface RemediationScope {
  shareId?: number; hostId?: string; pathPrefix?: string;
  worldAccessibleOnly?: boolean; ownerUid?: number; type?: 'file' | 'dir' | 'all';
}

export interface PlanOptions { maxFiles?: number; worldGroups?: string[]; applyToDefault?: boolean }

export interface PlanReport {
  hostId: string; volume: string; scanId: number; pathPrefix: string;
  filesInScope: number; alreadyCompliant: number; toChange: number; selected: number; truncated: boolean;
  uniqueDescriptors: number; transformations: number; mapsToExisting: number; newDescriptors: number;
  estimatedSeconds: number; estimateBasis: string;
  transforms: { source: string; target: string; outcome: string; files: number; before: string; after: string }[];
}

export interface PlanResult { report: PlanReport; reportHash: string }

/** Conservative default rate (files/s through snapshot, apply and verify) until this tenant has measured one. */
const DEFAULT_RATE = 5_000;
const FIXED_SECONDS = 5;

interface Planned { row: q.TransformRow; changes: boolean }

export function planTransform(sd: q.DescriptorBytes, hostId: string, policy: AclPolicy, options: PlanOptions,
  principals: PrincipalDirectory, worldGids: ReadonlySet<number>, files: number): Planned {
  const access = parseAclXattr(sd.acl);
  const defaults = sd.defaultAcl ? parseAclXattr(sd.defaultAcl) : null;
  const nextAccess = transformAcl(access, policy);
  const nextDefaults = defaults && options.applyToDefault !== false ? transformAcl(defaults, policy) : defaults;
  const targetAcl = serializeAclXattr(nextAccess);
  const targetDefault = nextDefaults ? serializeAclXattr(nextDefaults) : null;
  const modeBits = modeBitsOf(nextAccess);
  const input = { uid: sd.ownerUid, gid: sd.ownerGid, mode: modeBits, access: isMinimalAcl(nextAccess) ? null : targetAcl, defaults: targetDefault };
  const hash = createHash('sha256').update(canonicalDescriptorBytes(hostId, input)).digest();
  const targetSdId = descriptorIdOf(hash);
  const record = describe(hostId, input, principals, worldGids);
  const text = (entries: readonly AclEntry[], more: readonly AclEntry[] | null) =>
    `${formatAcl(entries, principals.nameOf)}${more ? ` default:${formatAcl(more, principals.nameOf)}` : ''}`;
  const changes = targetSdId !== sd.id;
  return {
    changes,
    row: {
      sourceSdId: sd.id, files, outcome: changes ? 'new' : 'no_change', targetSdId, targetAclHex: targetAcl.toString('hex'),
      targetDefaultHex: targetDefault?.toString('hex') ?? null, targetModeBits: modeBits, targetRecord: record,
      sourceSummary: text(access, defaults), targetSummary: text(nextAccess, nextDefaults),
    },
  };
}

export async function buildPlan(client: PoolClient, tenantId: string, runId: string, scope: RemediationScope, policy: AclPolicy,
  options: PlanOptions): Promise<PlanResult> {
  // The selection sorts every file to change by inode: in memory, not in temp files.
  await client.query(`SET LOCAL work_mem = '64MB'`);
  const resolved = await q.resolveScopeIndex(client, scope);
  if (typeof resolved === 'string') throw new NotFoundError(resolved);
  const filter: q.ScopeFilter = {
    scanId: resolved.scanId, pathPrefix: resolved.pathPrefix, ownerUid: scope.ownerUid ?? null, type: scope.type ?? 'all', wholeVolume: resolved.wholeVolume,
  };
  const counts = await q.descriptorsInScope(client, filter);
  const descriptors = (await q.loadDescriptors(client, counts.map((c) => c.id))).filter((sd) => !scope.worldAccessibleOnly || sd.world);
  const filesOf = new Map(counts.map((c) => [c.id, c.files]));
  const principalRows = await q.principalsOfHost(client, resolved.hostId);
  const principals = new PrincipalDirectory(
    principalRows.filter((p) => p.kind === 'user').map((p) => ({ uid: p.id, name: p.name, gid: p.gids[0] ?? 0 })),
    principalRows.filter((p) => p.kind === 'group').map((p) => ({ gid: p.id, name: p.name, members: [] })));
  const worldGids = principals.gidsNamed(options.worldGroups ?? ['users']);
  let planned: Planned[];
  try {
    planned = descriptors.map((sd) => planTransform(sd, resolved.hostId, policy, options, principals, worldGids, filesOf.get(sd.id) ?? 0));
  } catch (error) {
    throw new InvalidInputError(`a descriptor in scope cannot be transformed: ${(error as Error).message}`);
  }
  const existing = await q.existingDescriptorIds(client, planned.filter((p) => p.changes).map((p) => p.row.targetSdId));
  for (const p of planned) if (p.changes && existing.has(p.row.targetSdId)) p.row.outcome = 'existing';
  await q.replaceTransforms(client, tenantId, runId, planned.map((p) => p.row));
  const selection = await q.selectItems(client, tenantId, runId, filter, options.maxFiles ?? null);
  await refreshStatistics(client, ['remediation_item', 'remediation_transform']);
  const report = await reportOf(client, resolved, planned, selection);
  const digest = await q.itemsDigest(client, runId);
  const reportHash = createHash('sha256').update(JSON.stringify({ runId, scope, policy, report, digest })).digest('hex');
  return { report, reportHash };
}

async function reportOf(client: PoolClient, resolved: q.ResolvedScope, planned: Planned[], selection: { selected: number; needed: number }): Promise<PlanReport> {
  const changing = planned.filter((p) => p.changes);
  const filesInScope = planned.reduce((n, p) => n + p.row.files, 0);
  const rate = await q.lastMeasuredRate(client);
  const newTargets = new Set(changing.filter((p) => p.row.outcome === 'new').map((p) => p.row.targetSdId));
  return {
    hostId: resolved.hostId, volume: resolved.volume, scanId: resolved.scanId, pathPrefix: resolved.pathPrefix,
    filesInScope, alreadyCompliant: filesInScope - selection.needed, toChange: selection.needed, selected: selection.selected,
    truncated: selection.selected < selection.needed, uniqueDescriptors: planned.length, transformations: changing.length,
    mapsToExisting: changing.filter((p) => p.row.outcome === 'existing').length, newDescriptors: newTargets.size,
    estimatedSeconds: Math.round(FIXED_SECONDS + selection.selected / (rate ?? DEFAULT_RATE)),
    estimateBasis: rate ? `${Math.round(rate)} files/s measured by this tenant's last remediation` : `${DEFAULT_RATE} files/s default`,
    transforms: changing.sort((a, b) => b.row.files - a.row.files).slice(0, 200).map((p) => ({
      source: p.row.sourceSdId, target: p.row.targetSdId, outcome: p.row.outcome, files: p.row.files, before: p.row.sourceSummary, after: p.row.targetSummary,
    })),
  };
}
