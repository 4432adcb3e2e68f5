// Schemas of the sanitize runs, their reports and approvals.
import { z } from 'zod';

export const runIdParams = z.object({ id: z.string().uuid() });

export const startSchema = {
  body: z.object({
    share: z.string().min(1).max(255),
    dryRun: z.boolean().default(false),
    orphanAction: z.enum(['quarantine', 'delete']).default('quarantine'),
    maxDeletes: z.number().int().min(0).max(10_000_000).default(1000),
    idleDays: z.number().int().min(1).max(36_500).default(365),
    approvalDeadlineHours: z.number().positive().max(24 * 90).default(72),
    requiredApprovals: z.number().int().min(2).max(10).default(2),
    hostWaitSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
    heartbeatTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
  }).strict(),
  response: { 202: z.object({ id: z.string().uuid(), workflowId: z.string(), status: z.string() }) },
};

const runSummary = z.object({
  id: z.string(), share: z.string(), status: z.string(), requestedBy: z.string(), reportHash: z.string().nullable(),
  totals: z.record(z.string(), z.unknown()), summary: z.record(z.string(), z.unknown()), inventoried: z.number(),
  createdAt: z.string(), finishedAt: z.string().nullable(),
});

export const listSchema = {
  querystring: z.object({ status: z.string().max(40).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
  response: { 200: z.object({ runs: z.array(runSummary) }) },
};

export const getSchema = {
  params: runIdParams,
  querystring: z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
  response: {
    200: runSummary.extend({
      items: z.array(z.object({
        itemNo: z.number(), category: z.string(), proposedAction: z.string(), destructive: z.boolean(), fullPath: z.string().nullable(),
        targetUri: z.string().nullable(), sizeBytes: z.number().nullable(), outcome: z.string().nullable(), outcomeReason: z.string().nullable(),
      })),
      live: z.unknown().optional(),
    }),
  },
};

export const approvalSchema = {
  params: runIdParams,
  body: z.object({
    decision: z.enum(['approve', 'reject']),
    reportHash: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest'),
    reason: z.string().max(2000).optional(),
  }).strict(),
  response: { 200: z.object({ status: z.string(), approvals: z.number(), required: z.number() }) },
};
