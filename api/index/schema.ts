// Schemas of the index endpoints: start a bootstrap, watch it, send change events.
import { z } from 'zod';

const hostId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, dots, dashes; up to 63 characters');
const absolutePath = z.string().min(1).max(16_384).regex(/^\//, 'an absolute path').refine((p) => !p.includes('\0'), 'no NUL bytes');
const configPath = absolutePath.nullable().optional();

export const bootstrapSchema = {
  body: z.object({
    hostId,
    volume: absolutePath,
    shareSources: z.object({
      smbConfPath: configPath, exportsPath: configPath, exportsDir: configPath, serverName: z.string().min(1).max(255).optional(),
    }).strict().optional(),
    worldGroups: z.array(z.string().min(1).max(64)).max(50).optional(),
    parallelism: z.number().int().min(1).max(64).optional(),
    batchRows: z.number().int().min(1_000).max(1_000_000).optional(),
    watch: z.boolean().optional(),
    hostWaitSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
  }).strict(),
  response: { 202: z.object({ id: z.string(), hostId: z.string(), volume: z.string(), status: z.string() }) },
};

const counts = z.object({ entries: z.number(), files: z.number(), dirs: z.number(), bytes: z.number(), issues: z.number() });

export const getIndexSchema = {
  params: z.object({ id: z.string().min(1).max(20_000) }),
  response: {
    200: z.object({
      id: z.string(), runStatus: z.string(), phase: z.string(), hostId: z.string(), volume: z.string(),
      scan: z.object({ id: z.number(), guid: z.string(), status: z.string() }).nullable(),
      progress: counts.extend({ filesPerSecond: z.number(), estimatedEntries: z.number(), etaSeconds: z.number().nullable(), partitions: z.number(), pendingPartitions: z.number() }),
      result: z.unknown().nullable(),
      issues: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })),
      warnings: z.array(z.string()),
    }),
  },
};

export const changesSchema = {
  body: z.object({
    hostId,
    volume: absolutePath,
    events: z.array(z.object({
      type: z.enum(['create', 'delete', 'rename', 'attrib', 'modify']),
      path: absolutePath,
      oldPath: absolutePath.optional(),
    }).strict().refine((e) => e.type !== 'rename' || e.oldPath !== undefined, { message: 'a rename needs oldPath', path: ['oldPath'] }))
      .min(1).max(1_000),
  }).strict(),
  response: { 202: z.object({ workflowId: z.string(), accepted: z.number() }) },
};
