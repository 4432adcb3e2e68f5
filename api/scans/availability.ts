// Postgres or Temporal being unreachable is answered 503 with Retry-After (the
// agent retries), never 500; everything else passes through unchanged.
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { unavailable } from '../problem';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
// Postgres: shutting down, starting up, too many connections, connection failures.
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;

export const RETRY_AFTER_SECONDS = 5;
/** How long one call to Temporal may take before the request answers 503. */
export const TEMPORAL_CALL_MS = 10_000;

export function isUnavailable(error: unknown, depth = 0): boolean {
  // Duck-typed: errors from Node's own modules may come from another realm than this Error class.
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_UNAVAILABLE.has(code))) return true;
  if (typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message)) return true;
  if (isGrpcServiceError(error)) return [GRPC_UNAVAILABLE, GRPC_DEADLINE_EXCEEDED, GRPC_RESOURCE_EXHAUSTED].includes(error.code);
  if (error instanceof ServiceError && cause === undefined) return true;
  return cause !== undefined && cause !== error && isUnavailable(cause, depth + 1);
}

/** Runs work; an unreachable dependency becomes a 503 naming it. */
export async function orUnavailable<T>(dependency: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUnavailable(error)) throw unavailable(`${dependency} is unavailable right now; retry later`, RETRY_AFTER_SECONDS);
    throw error;
  }
}
