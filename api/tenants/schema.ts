// Request and response schemas of tenant onboarding, tokens and key rotation.
import { z } from 'zod';

export const tenantCode = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, 2-63 characters, starting with a letter');
const role = z.enum(['viewer', 'operator', 'approver', 'admin', 'agent']);
const userName = z.string().min(1).max(200);

export const onboardSchema = {
  body: z.object({
    code: tenantCode,
    name: z.string().min(1).max(200),
    admin: z.object({ name: userName }).optional(),
  }).strict(),
  response: {
    201: z.object({
      tenantId: z.string().uuid(), code: z.string(), kmsRef: z.string(),
      adminToken: z.object({ id: z.string().uuid(), userName: z.string(), token: z.string() }),
    }),
  },
};

export const issueTokenSchema = {
  params: z.object({ code: tenantCode }),
  body: z.object({
    userName, role, label: z.string().max(200).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  }).strict(),
  response: { 201: z.object({ id: z.string().uuid(), userName: z.string(), role, token: z.string(), expiresAt: z.string().nullable() }) },
};

export const revokeTokenSchema = {
  params: z.object({ id: z.string().uuid() }),
  response: { 200: z.object({ id: z.string().uuid(), revoked: z.literal(true) }) },
};

export const rotateKeySchema = {
  params: z.object({ code: tenantCode }),
  response: { 200: z.object({ latestVersion: z.number().int(), rewrapped: z.boolean() }) },
};
