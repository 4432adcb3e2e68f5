// Request and response schemas of tiering: share configuration (source root and
// Tier-2 target), plans and their report, act, rehydrate, and run control.
import { z } from 'zod';
import { compileGlob } from '../../lib/tier2-policy';

const shareName = z.string().min(1).max(255).refine((value) => !value.includes('\0'), 'must not contain NUL');
const uuid = z.string().uuid();
const glob = z.string().min(1).max(1024).refine((pattern) => {
  try { compileGlob(pattern); return true; } catch { return false; }
}, 'is not a valid glob');

export const shareConfigBody = z.object({
  source: z.object({
    hostId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, dot, dash, underscore'),
    rootPath: z.string().min(1).max(4096).refine((path) => path.startsWith('/') && !path.includes('\0')
      && path.split('/').every((segment) => segment !== '.' && segment !== '..'), 'an absolute path without . or .. segments'),
    scanPathPrefix: z.string().max(4096).default(''),
  }).strict(),
  target: z.object({
    uri: z.string().min(8).max(2048).regex(/^file:\/\/\//, 'a file:/// URI (other target kinds are not supported yet)'),
    credentials: z.record(z.string().min(1).max(200), z.string().max(8192)).optional(),
  }).strict(),
}).strict();

const shareConfigResponse = z.object({
  shareName: z.string(), hostId: z.string(), rootPath: z.string(), scanPathPrefix: z.string(), targetUri: z.string().nullable(), hasCredentials: z.boolean(),
});

export const putShareSchema = { params: z.object({ shareName }), body: shareConfigBody, response: { 200: shareConfigResponse } };
export const getShareSchema = { params: z.object({ shareName }), response: { 200: shareConfigResponse } };

export const policySchema = z.object({
  idleDays: z.number().min(0).max(36500).optional(),
  basis: z.enum(['atime', 'mtime']).optional(),
  minSizeBytes: z.number().int().min(0).optional(),
  include: z.array(glob).max(100).optional(),
  exclude: z.array(glob).max(100).optional(),
  maxFiles: z.number().int().min(1).optional(),
  maxBytes: z.number().int().min(1).optional(),
}).strict();

export const createPlanSchema = {
  body: z.object({ shareName, policy: policySchema.default({}) }).strict(),
  response: { 202: z.object({ planId: uuid, workflowId: z.string(), status: z.literal('PLANNING') }) },
};

const actionSummary = z.object({
  id: z.string(), kind: z.string(), status: z.string(), requestedBy: z.string(), workflowId: z.string().nullable(),
  summary: z.record(z.string(), z.unknown()), createdAt: z.string(), finishedAt: z.string().nullable(),
});

export const getPlanSchema = {
  params: z.object({ planId: uuid }),
  response: {
    200: z.object({
      planId: z.string(), shareName: z.string(), status: z.string(), statusReason: z.string().nullable(), scanId: z.number().nullable(),
      policy: z.record(z.string(), z.unknown()), asOf: z.string(), requestedBy: z.string(), plannedFiles: z.number(), plannedBytes: z.number(),
      progress: z.record(z.string(), z.unknown()), summary: z.record(z.string(), z.unknown()), createdAt: z.string(), finishedAt: z.string().nullable(),
      actions: z.array(actionSummary),
    }),
  },
};

export const listPlansSchema = {
  querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
  response: { 200: z.object({ plans: z.array(getPlanSchema.response[200].omit({ actions: true })) }) },
};

export const reportSchema = { params: z.object({ planId: uuid }) };

export const runOptionsSchema = z.object({
  pacing: z.object({ filesPerSecond: z.number().positive().optional(), bytesPerSecond: z.number().positive().optional() }).strict().optional(),
  maxFiles: z.number().int().min(1).optional(),
  maxBytes: z.number().int().min(1).optional(),
  failureRatio: z.number().min(0).max(1).optional(),
  minSample: z.number().int().min(1).optional(),
  batchSize: z.number().int().min(1).max(100_000).optional(),
  waveSize: z.number().int().min(1).max(4096).optional(),
  heartbeatTimeoutSeconds: z.number().int().min(5).max(3600).optional(),
  hostWaitSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
  verifySample: z.number().int().min(0).max(10000).optional(),
  historyLimit: z.number().int().min(50).max(50000).optional(),
}).strict();

const startedRun = z.object({ actionId: uuid, workflowId: z.string() });

export const actSchema = {
  params: z.object({ planId: uuid }),
  body: z.object({ options: runOptionsSchema.default({}) }).strict().default({ options: {} }),
  response: { 202: startedRun },
};

export const rehydrateSchema = {
  body: z.object({
    paths: z.array(z.string().min(1).max(8192).refine((path) => !path.includes('\0') && !path.split(/[\\/]/).some((segment) => segment === '.' || segment === '..'),
      'a file path without NUL bytes or . and .. segments')).min(1).max(1000).optional(),
    planId: uuid.optional(),
    rewarmed: z.literal(true).optional(),
    shareName: shareName.optional(),
    options: runOptionsSchema.default({}),
  }).strict().refine((body) => [body.paths, body.planId, body.rewarmed].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of paths, planId or rewarmed', path: ['paths'],
  }),
  response: { 202: startedRun },
};

export const actionParams = z.object({ actionId: uuid });

export const getActionSchema = {
  params: actionParams,
  response: {
    200: actionSummary.extend({
      subject: z.string(), shareName: z.string().nullable(), live: z.record(z.string(), z.unknown()).nullable(),
      events: z.array(z.object({ at: z.string(), event: z.string(), fromStatus: z.string().nullable(), toStatus: z.string(), details: z.unknown() })),
    }),
  },
};

export const controlSchema = {
  params: z.object({ actionId: uuid, signal: z.enum(['pause', 'resume', 'cancel']) }),
  body: z.object({ reason: z.string().max(1000).optional() }).strict().default({}),
  response: { 202: z.object({ actionId: uuid, signal: z.string() }) },
};
