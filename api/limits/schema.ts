// Request and response schemas of a tenant's rate limits and quotas.
import { z } from 'zod';
import { tenantCode } from '../tenants/schema';

const limitValues = z.object({
  requestsPerSecond: z.number().int(), burst: z.number().int(), maxConcurrentUploads: z.number().int(), maxRowsPerDay: z.number().int(),
});
const nullable = (min: number, max: number) => z.number().int().min(min).max(max).nullable().optional();

const limitsAnswer = z.object({
  tenantCode: z.string(),
  limits: limitValues.describe('what is enforced'),
  overrides: z.object({
    requestsPerSecond: z.number().int().nullable(), burst: z.number().int().nullable(),
    maxConcurrentUploads: z.number().int().nullable(), maxRowsPerDay: z.number().int().nullable(),
  }).describe('the tenant\'s own settings; null means the default'),
  defaults: limitValues,
  usage: z.object({ rowsToday: z.number().int(), uploadsInProgress: z.number().int() }),
});

export const getLimitsSchema = {
  summary: 'Rate limits and quotas of a tenant, with its usage today',
  params: z.object({ code: tenantCode }),
  response: { 200: limitsAnswer },
};

export const putLimitsSchema = {
  summary: 'Set a tenant\'s rate limits and quotas (install admin); null or absent restores the default',
  params: z.object({ code: tenantCode }),
  body: z.object({
    requestsPerSecond: nullable(1, 100_000), burst: nullable(1, 1_000_000),
    maxConcurrentUploads: nullable(1, 10_000), maxRowsPerDay: nullable(1, 1_000_000_000_000),
  }).strict(),
  response: { 200: limitsAnswer },
};
