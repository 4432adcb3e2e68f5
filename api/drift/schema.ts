// Schema of the drift report: files of completed remediations found off their target.
import { z } from 'zod';

export const driftSchema = {
  querystring: z.object({
    run: z.string().uuid().optional(),
    after: z.string().regex(/^[0-9a-f-]{36}:\d+$/, '<runId>:<itemNo> from a previous page').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }).strict(),
  response: {
    200: z.object({
      lastCheck: z.unknown().nullable(),
      entries: z.array(z.object({
        runId: z.string(), itemNo: z.number(), path: z.string(), state: z.enum(['drifted', 'missing']), expected: z.string().nullable(),
        found: z.string().nullable(), firstSeenAt: z.string(), lastSeenAt: z.string(),
      })),
      next: z.string().nullable(),
    }),
  },
};
