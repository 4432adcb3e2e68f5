// Request and response schemas of the codec endpoints, in the Temporal UI's codec
// server protocol: payloads as JSON with base64 metadata values and data.
import { z } from 'zod';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be standard base64');

const payload = z.object({
  metadata: z.record(z.string(), base64).optional(),
  data: base64.optional(),
});

const payloads = z.object({ payloads: z.array(payload).max(10_000, 'at most 10000 payloads per request') });

export const codecSchema = {
  params: z.object({ operation: z.enum(['encode', 'decode']) }),
  headers: z.object({ 'x-namespace': z.string().min(1).max(1000).optional() }),
  body: payloads,
  response: { 200: payloads },
};

export const preflightSchema = { params: codecSchema.params, hide: true };

export const loginSchema = {
  hide: true,
  body: z.object({ token: z.string().min(1).max(200) }),
};
