// Request and response schemas of access-time updates (LucidLink audit events).
import { z } from 'zod';
import { MAX_TIME, MIN_TIME } from '../../lib/csv-rules';

export const MAX_EVENTS = 10_000;

const noNul = (s: string) => !s.includes('\0');

/** Unix seconds, or an ISO 8601 time with offset. */
const accessTime = z.union([z.number().int(), z.string()]).transform((value, ctx) => {
  const seconds = typeof value === 'number' ? value
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value) ? Math.floor(Date.parse(value) / 1000) : NaN;
  if (!Number.isInteger(seconds) || seconds < MIN_TIME || seconds > MAX_TIME) {
    ctx.addIssue({ code: 'custom', message: 'Unix seconds or an ISO 8601 time with offset, between 1900 and 9999' });
  }
  return seconds;
});

export const accessEvent = z.object({
  file_path: z.string().min(1).max(4096).refine(noNul, 'must not contain NUL bytes'),
  new_last_accessed: accessTime,
  audit_file: z.string().min(1).max(1024).refine(noNul, 'must not contain NUL bytes'),
  audit_event_id: z.string().min(1).max(200).refine(noNul, 'must not contain NUL bytes'),
}).strict();

const events = z.array(accessEvent).min(1).max(MAX_EVENTS);

export const volumeId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/, 'letters, digits and . _ : @ -, at most 200');

const answer = z.object({
  volumeId: z.string(), batchId: z.string(), events: z.number().int(), status: z.enum(['accepted', 'duplicate']),
});

export const auditUpdatesSchema = {
  summary: 'Post a batch of file access events from a LucidLink volume',
  description: 'Body: an array of events, or {"events": [...]}; at most 10,000. Applied once per (volume, audit_event_id); access times only move forward.',
  headers: z.looseObject({ 'x-volume-id': volumeId, 'x-tenant-code': z.string().optional(), 'x-source-type': z.string().optional() }),
  // A bare array is accepted too, as {events: [...]}, so errors still name body.events.N.field.
  body: z.preprocess((value) => (Array.isArray(value) ? { events: value } : value), z.object({ events }).strict()),
  response: { 200: answer, 202: answer },
};
