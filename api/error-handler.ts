// The root error handler: maps every failure to problem+json. Temporal's
// not-found is 404, already-started 409; 5xx details are logged, never shown.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, ApplicationFailure } from '@temporalio/common';
import { HttpProblem, type ProblemLocation } from './problem';

interface ProblemBody { type: string; title: string; status: number; detail: string; instance: string; errors?: ProblemLocation[] }

export function problemFrom(error: unknown, request: FastifyRequest): { body: ProblemBody; headers?: Record<string, string> } {
  const base = { type: 'about:blank', instance: request.url };
  if (error instanceof HttpProblem) {
    return { body: { ...base, status: error.status, title: error.title, detail: error.message, errors: error.errors }, headers: error.headers };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((issue) => ({
      field: `${error.validationContext ?? 'body'}${issue.instancePath.replace(/\//g, '.')}`.replace(/\.$/, ''), reason: issue.message ?? 'invalid',
    }));
    const detail = `invalid request: ${errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`;
    return { body: { ...base, status: 400, title: 'Bad Request', detail, errors } };
  }
  if (error instanceof WorkflowNotFoundError) return { body: { ...base, status: 404, title: 'Not Found', detail: 'no such run' } };
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return { body: { ...base, status: 409, title: 'Conflict', detail: `a run with id ${error.workflowId} is already in progress` } };
  }
  if (error instanceof ApplicationFailure && error.nonRetryable && error.type === 'Rejected') {
    return { body: { ...base, status: 422, title: 'Unprocessable Content', detail: error.message } };
  }
  const fastifyError = error as FastifyError;
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    return { body: { ...base, status, title: STATUS_CODES[status] ?? 'Bad Request', detail: fastifyError.message, errors: [{ field: 'request', reason: fastifyError.message }] } };
  }
  return { body: { ...base, status: 500, title: 'Internal Server Error', detail: 'the server failed to handle this request; it has been logged' } };
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { body, headers } = problemFrom(error, request);
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ status: body.status, detail: body.detail }, 'request refused');
  if (headers) reply.headers(headers);
  return reply.status(body.status).type('application/problem+json').send(body);
}
