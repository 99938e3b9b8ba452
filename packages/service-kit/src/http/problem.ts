import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { isDatabaseUnavailable, WrongExpectedVersionError } from '@park/eventstore';
import {
  databaseUnavailable,
  ApiError,
  ConflictError,
  HTTP_STATUS,
  ValidationError,
  type FieldViolation,
} from '../errors';

/** RFC 9457 problem details, the body of every HTTP error the park's services send. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Present for 400: every field that is wrong, named as in the request. */
  violations?: FieldViolation[];
  traceId?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The problem for an error, and whether it is internal: internal errors are logged by the caller
 * and answered with a trace id only, so no detail of the failure reaches the client.
 */
export function toProblem(error: unknown): { problem: Problem; internal: boolean } {
  const traceId = trace.getActiveSpan()?.spanContext().traceId ?? randomUUID().replace(/-/g, '');
  const known =
    error instanceof WrongExpectedVersionError
      ? new ConflictError(error.message)
      : isDatabaseUnavailable(error)
        ? databaseUnavailable()
        : error;
  if (known instanceof ApiError) {
    const status = HTTP_STATUS[known.kind];
    return {
      internal: false,
      problem: {
        type: `https://park.example/problems/${known.kind.replace(/_/g, '-')}`,
        title: TITLES[status] ?? known.kind,
        status,
        detail: known.message,
        violations: known instanceof ValidationError ? known.violations : undefined,
        traceId,
      },
    };
  }
  return {
    internal: true,
    problem: {
      type: 'https://park.example/problems/internal',
      title: TITLES[500]!,
      status: 500,
      detail: `internal error (trace ${traceId})`,
      traceId,
    },
  };
}
