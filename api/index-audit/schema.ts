// Schemas of the permission audits over the index: entries readable by everyone,
// and entries a given user or group can read (or write).
import { z } from 'zod';

const scope = {
  share: z.string().min(1).max(4096).optional(),
  host: z.string().min(1).max(63).optional(),
  volume: z.string().min(1).max(16_384).optional(),
  kind: z.enum(['file', 'dir', 'all']).default('all'),
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
};

export const auditEntry = z.object({
  hostId: z.string(), volume: z.string(), path: z.string(), type: z.enum(['dir', 'file']), size: z.number(),
  securityId: z.number(), permissions: z.string(), shareId: z.number().nullable(),
});

export const worldAccessSchema = {
  querystring: z.object(scope).strict(),
  response: { 200: z.object({ descriptors: z.number(), entries: z.array(auditEntry), next: z.string().nullable() }) },
};

export const accessibleBySchema = {
  querystring: z.object({
    ...scope,
    principal: z.string().min(1).max(300).regex(/^((user|group|u|g):)?[^:\s]+$/, 'user:<name>, group:<name> or a name'),
    access: z.enum(['read', 'write']).default('read'),
  }).strict(),
  response: {
    200: z.object({
      principal: z.object({ kind: z.enum(['user', 'group']), name: z.string(), hosts: z.array(z.object({ hostId: z.string(), id: z.number(), gids: z.array(z.number()) })) }),
      descriptors: z.number(), entries: z.array(auditEntry), next: z.string().nullable(),
    }),
  },
};
