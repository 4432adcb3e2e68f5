// The JSON body parser: says where a body is not valid JSON (line, column), and
// refuses prototype-pollution keys (__proto__, constructor.prototype) at any depth
// instead of handing them to code that might merge them into an object.
import type { FastifyInstance } from 'fastify';
import { badRequest, type HttpProblem } from './problem';

const SUSPICIOUS = /"(?:__proto__|constructor)"\s*:/;

function invalidJson(error: Error): HttpProblem {
  const where = /line (\d+) column (\d+)/.exec(error.message);
  const location = where ? { line: Number(where[1]), column: Number(where[2]) } : {};
  return badRequest(`the body is not valid JSON: ${error.message}`, [{ field: 'body', ...location, reason: error.message }]);
}

function refusePollution(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)) {
    throw badRequest(`the body holds the key ${JSON.stringify(key === '__proto__' ? key : 'constructor.prototype')}, which is refused (prototype pollution)`,
      [{ field: `body.${key}`, reason: 'forbidden key' }]);
  }
  return value;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw badRequest('the body is empty but Content-Type says application/json', [{ field: 'body', reason: 'empty' }]);
  try {
    return SUSPICIOUS.test(text) ? JSON.parse(text, refusePollution) : JSON.parse(text);
  } catch (error) {
    if (error instanceof RangeError) throw badRequest('the JSON body is nested too deeply', [{ field: 'body', reason: error.message }]);
    if (error instanceof SyntaxError) throw invalidJson(error);
    throw error;
  }
}

export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
