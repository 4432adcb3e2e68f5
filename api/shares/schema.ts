// Schemas of the share list: every enumerated share with its stats and risk.
import { z } from 'zod';

export const shareSchema = z.object({
  id: z.number(), hostId: z.string(), protocol: z.enum(['smb', 'nfs']), name: z.string(), uncPath: z.string(), localPath: z.string(),
  volume: z.string().nullable(), remark: z.string().nullable(), permissions: z.record(z.string(), z.unknown()), rootFileRef: z.number().nullable(),
  active: z.boolean(), files: z.number(), dirs: z.number(), bytes: z.number(), worldFiles: z.number(),
  risk: z.object({ score: z.number(), level: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']), factors: z.array(z.string()) }),
  statsAt: z.string().nullable(),
});

export const listSharesSchema = {
  querystring: z.object({
    host: z.string().min(1).max(63).optional(),
    inactive: z.enum(['true', 'false']).default('false'),
  }).strict(),
  response: { 200: z.object({ shares: z.array(shareSchema) }) },
};
