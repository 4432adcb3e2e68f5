// Schemas of the index browser: one directory's children with sizes, owners,
// permissions and world-access flags, and the directory's subtree totals.
import { z } from 'zod';

export const subtreeTotals = z.object({ files: z.number(), dirs: z.number(), bytes: z.number(), worldFiles: z.number() });

export const browseEntry = z.object({
  name: z.string(), type: z.enum(['dir', 'file', 'symlink', 'other']), size: z.number(), mtime: z.number(), mode: z.string(),
  fileRef: z.number(), owner: z.string(), group: z.string(), permissions: z.string().nullable(), worldAccess: z.boolean(),
  extendedAcl: z.boolean(), securityId: z.number().nullable(), shareId: z.number().nullable(), subtree: subtreeTotals.nullable(),
});

export const browseSchema = {
  querystring: z.object({
    share: z.string().min(1).max(4096).optional(),
    host: z.string().min(1).max(63).optional(),
    volume: z.string().min(1).max(16_384).optional(),
    path: z.string().min(1).max(16_384).optional(),
    parent_ref: z.coerce.number().int().nonnegative().optional(),
    after: z.string().max(4096).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  }).strict(),
  response: {
    200: z.object({
      hostId: z.string(), volume: z.string(), scanId: z.number(), share: z.object({ id: z.number(), name: z.string() }).nullable(),
      directory: z.object({ path: z.string(), fileRef: z.number(), subtree: subtreeTotals.nullable() }),
      entries: z.array(browseEntry), next: z.string().nullable(),
    }),
  },
};
