// Requests that Node's HTTP parser refuses before Fastify sees them (bad request
// line, header overflow, conflicting lengths, slow headers) still get a
// problem+json answer saying what was wrong, then the connection is closed.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

export function handleClientError(error: Error & { code?: string; reason?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = statusOf(error.code);
  const reason = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'the request headers or body did not arrive in time'
    : error.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : (error.reason ?? error.message);
  const body = JSON.stringify({
    type: 'about:blank', title: STATUS_CODES[status], status,
    detail: `malformed HTTP request: ${reason}${error.code ? ` (${error.code})` : ''}`, errors: [{ field: 'request', reason }],
  });
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  } else {
    socket.destroy();
  }
}
