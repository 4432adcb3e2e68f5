// Schemas of the audit trail endpoints.
import { z } from 'zod';

export const listEventsSchema = {
  querystring: z.object({
    action: z.string().max(100).optional(),
    actor: z.string().max(300).optional(),
    path: z.string().max(4096).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }).strict(),
  response: {
    200: z.object({
      events: z.array(z.object({
        seq: z.number(), at: z.string(), actor: z.string(), action: z.string(), target: z.string(), details: z.unknown(),
      })),
      next: z.string().nullable(),
    }),
  },
};

export const verifySchema = {
  response: { 200: z.object({ entries: z.number(), valid: z.boolean(), firstBadSeq: z.number().nullable(), reason: z.string().nullable() }) },
};
