/**
 * Errors the API reports to callers. Each maps to one gRPC status and one HTTP status; anything
 * else is an internal error, logged with its trace id and never shown to the caller.
 */
export interface FieldViolation {
  /** The field's path in the request, e.g. "readings[3].value" or a CSV "row 12, column value". */
  field: string;
  description: string;
}

export abstract class ApiError extends Error {
  abstract readonly kind: ApiErrorKind;
}

export type ApiErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'conflict'
  | 'failed_precondition'
  | 'unauthenticated'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'unavailable';

export class ValidationError extends ApiError {
  override readonly name = 'ValidationError';
  readonly kind = 'invalid_argument';
  constructor(readonly violations: FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join('; ') || 'invalid request');
  }

  static field(field: string, description: string): ValidationError {
    return new ValidationError([{ field, description }]);
  }
}

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  readonly kind = 'not_found';
}

export class AlreadyExistsError extends ApiError {
  override readonly name = 'AlreadyExistsError';
  readonly kind = 'already_exists';
}

/** An optimistic-concurrency conflict that survived the handler's retries. */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  readonly kind = 'conflict';
}

/** The request is valid but the state does not allow it (double retirement, closed period). */
export class PreconditionError extends ApiError {
  override readonly name = 'PreconditionError';
  readonly kind = 'failed_precondition';
}

export class UnauthenticatedError extends ApiError {
  override readonly name = 'UnauthenticatedError';
  readonly kind = 'unauthenticated';
}

export class PermissionDeniedError extends ApiError {
  override readonly name = 'PermissionDeniedError';
  readonly kind = 'permission_denied';
}

export class TooLargeError extends ApiError {
  override readonly name = 'TooLargeError';
  readonly kind = 'resource_exhausted';
}

export class UnavailableError extends ApiError {
  override readonly name = 'UnavailableError';
  readonly kind = 'unavailable';
}

/** What a caller is told when the service's database cannot take its request now. */
export function databaseUnavailable(): UnavailableError {
  return new UnavailableError(
    'the service cannot reach its database right now: retry with backoff',
  );
}

/** gRPC status codes (grpc.status) by error kind. */
export const GRPC_STATUS: Record<ApiErrorKind, number> = {
  invalid_argument: 3,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  conflict: 10, // ABORTED: the client may retry the read-modify-write
  unavailable: 14,
  unauthenticated: 16,
};

export const HTTP_STATUS: Record<ApiErrorKind, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  resource_exhausted: 413,
  failed_precondition: 409,
  unavailable: 503,
};
