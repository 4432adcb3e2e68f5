// Schemas of permission remediation: plan requests (scope, policy, options), run
// lists and reviews, execution approvals and rollbacks.
import { z } from 'zod';

export const PRINCIPAL_PATTERN = /^(other|(user|group|u|g):([^:\s]+|\*))$/;
const principal = z.string().min(1).max(300).regex(PRINCIPAL_PATTERN, 'other, user:<name|uid|*> or group:<name|gid|*>');
const absolutePath = z.string().min(1).max(16_384).regex(/^\//, 'an absolute path').refine((p) => !p.includes('\0'), 'no NUL bytes')
  .refine((p) => !p.split('/').includes('..'), 'no .. segments');

export const runIdParams = z.object({ id: z.string().uuid() });

export const planSchema = {
  body: z.object({
    scope: z.object({
      share: z.string().min(1).max(4096).optional(),
      host: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a host id').optional(),
      pathPrefix: absolutePath.optional(),
      worldAccessibleOnly: z.boolean().default(false),
      owner: z.string().min(1).max(300).optional(),
      type: z.enum(['file', 'dir', 'all']).default('all'),
    }).strict().refine((s) => s.share !== undefined || (s.host !== undefined && s.pathPrefix !== undefined), {
      message: 'name a share, or a host and a path prefix',
    }),
    policy: z.object({
      remove: z.array(principal).max(100).default([]),
      add: z.array(z.object({ principal, access: z.enum(['r', 'rw', 'rwx', 'rx']) }).strict()).max(100).default([]),
      preserve: z.array(principal).max(100).default([]),
    }).strict(),
    options: z.object({
      dryRun: z.boolean().default(false),
      approvalsRequired: z.number().int().min(0).max(5).default(1),
      approvalDeadlineHours: z.number().positive().max(24 * 30).default(72),
      maxFiles: z.number().int().min(1).max(2_000_000_000).optional(),
      parallelism: z.number().int().min(1).max(32).default(4),
      batchSize: z.number().int().min(10).max(100_000).default(2_000),
      rollbackWindowHours: z.number().min(0).max(24 * 90).default(24),
      maxFilesPerSecond: z.number().int().min(1).max(10_000_000).optional(),
      heartbeatTimeoutSeconds: z.number().int().min(3).max(600).default(30),
      hostWaitSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
      worldGroups: z.array(z.string().min(1).max(64)).max(50).optional(),
      applyToDefault: z.boolean().default(true),
      fsSnapshot: z.boolean().default(true),
      driftIntervalMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
    }).strict().prefault({}),
  }).strict(),
  response: { 202: z.object({ id: z.string().uuid(), workflowId: z.string(), status: z.string() }) },
};

export const RUN_STATUSES = ['PLANNING', 'DRY_RUN', 'AWAITING_APPROVAL', 'REJECTED', 'EXPIRED', 'SNAPSHOT', 'APPLYING', 'VERIFYING',
  'COMPLETED', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED'] as const;

export const listSchema = {
  querystring: z.object({ status: z.enum(RUN_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
  response: {
    200: z.object({
      runs: z.array(z.object({
        id: z.string(), status: z.string(), requestedBy: z.string(), hostId: z.string().nullable(), volume: z.string().nullable(),
        pathPrefix: z.string().nullable(), reportHash: z.string().nullable(), toChange: z.number().nullable(), transformations: z.number().nullable(),
        approvalsRequired: z.number(), createdAt: z.string(), finishedAt: z.string().nullable(),
      })),
    }),
  },
};

export const getSchema = {
  params: runIdParams,
  querystring: z.object({
    outcome: z.enum(['applied', 'already', 'skipped_changed', 'skipped_missing', 'failed', 'pending', 'conflict']).optional(),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  }).strict(),
  response: {
    200: z.object({
      id: z.string(), status: z.string(), statusReason: z.string().nullable(), requestedBy: z.string(), workflowId: z.string(),
      scope: z.unknown(), policy: z.unknown(), options: z.unknown(), hostId: z.string().nullable(), volume: z.string().nullable(),
      report: z.unknown(), reportHash: z.string().nullable(), fsSnapshot: z.unknown().nullable(), counters: z.record(z.string(), z.unknown()),
      rollbackUntil: z.string().nullable(), createdAt: z.string(), finishedAt: z.string().nullable(),
      action: z.object({ status: z.string(), events: z.array(z.object({ at: z.string(), event: z.string(), fromStatus: z.string().nullable(), toStatus: z.string(), details: z.unknown() })) }),
      items: z.array(z.object({
        itemNo: z.number(), path: z.string(), type: z.enum(['file', 'dir']), outcome: z.string().nullable(), detail: z.string().nullable(),
        verified: z.boolean().nullable(), rollbackOutcome: z.string().nullable(), before: z.string().nullable(), after: z.string().nullable(),
      })),
      drift: z.object({ open: z.number(), lastCheck: z.unknown().nullable() }),
      live: z.unknown().optional(),
    }),
  },
};

export const executeSchema = {
  params: runIdParams,
  body: z.object({
    reportHash: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest'),
    decision: z.enum(['approve', 'reject']).default('approve'),
    reason: z.string().max(2000).optional(),
  }).strict(),
  response: { 200: z.object({ status: z.string(), approvals: z.number(), required: z.number() }) },
};

export const rollbackSchema = {
  params: runIdParams,
  body: z.object({ reason: z.string().max(2000).optional() }).strict().default({}),
  response: { 202: z.object({ accepted: z.boolean(), status: z.string() }) },
};
