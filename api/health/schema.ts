// Schemas of the health endpoints.
import { z } from 'zod';

export const healthSchema = { response: { 200: z.object({ status: z.literal('ok') }) } };

const readyBody = z.object({ ready: z.boolean(), checks: z.object({ postgres: z.string(), temporal: z.string(), vault: z.string() }) });
export const readySchema = { response: { 200: readyBody, 503: readyBody } };
