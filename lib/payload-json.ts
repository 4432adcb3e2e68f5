// Payloads in their JSON form (base64 metadata values and data), as the Temporal UI's
// codec protocol and `temporal workflow show --output json` histories carry them.
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface JsonPayload { metadata?: Record<string, string>; data?: string }

export function payloadFromJson(payload: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

export function payloadToJson(payload: Payload): Required<JsonPayload> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value ?? new Uint8Array()).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function isJsonPayload(value: unknown): value is JsonPayload {
  const candidate = value as JsonPayload | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.metadata === 'object' && candidate.metadata !== null
    && typeof candidate.metadata.encoding === 'string';
}

/**
 * Every payload object anywhere inside a JSON document (a history, a describe answer),
 * except under the keys named in `skip` (search attributes stay in clear by design).
 */
export function findJsonPayloads(document: unknown, skip: string[] = [], found: JsonPayload[] = []): JsonPayload[] {
  if (isJsonPayload(document)) found.push(document);
  else if (Array.isArray(document)) for (const item of document) findJsonPayloads(item, skip, found);
  else if (typeof document === 'object' && document !== null) {
    for (const [key, value] of Object.entries(document)) if (!skip.includes(key)) findJsonPayloads(value, skip, found);
  }
  return found;
}

/** Decodes, in place, every payload of a JSON history through the codec. */
export async function decodeJsonPayloads<T>(document: T, codec: PayloadCodec): Promise<T> {
  const payloads = findJsonPayloads(document);
  const decoded = await codec.decode(payloads.map(payloadFromJson));
  payloads.forEach((payload, index) => Object.assign(payload, payloadToJson(decoded[index])));
  return document;
}
