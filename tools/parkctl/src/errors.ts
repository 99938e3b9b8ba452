import * as grpc from '@grpc/grpc-js';
import { fieldViolationsOf } from '@park/service-kit';

/**
 * Exit codes: 1 a call failed (the server said no, or could not be reached); 2 bad usage; 3 an
 * import with --strict had rows rejected or held; 70 a bug in parkctl.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, rowsRejected: 3, internal: 70 } as const;

/** An error meant for the user: its message is printed as it is, without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** A wrong argument or option (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export function isServiceError(error: unknown): error is grpc.ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<grpc.ServiceError>).code === 'number' &&
    'metadata' in error
  );
}

/** "INVALID_ARGUMENT" for 3. */
export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? `status ${code}`;
}

/**
 * What a failed gRPC call tells the user: the status, the server's message, each field
 * violation of a google.rpc.BadRequest detail, and a hint where the status has an obvious one.
 */
export function describeServiceError(error: grpc.ServiceError, target?: string): string {
  // grpc-js appends an empty "Resolution note:" to connection failures.
  const details = (error.details || error.message).replace(/\s*Resolution note:\s*$/, '');
  const violations = fieldViolationsOf(error);
  const listed = violations.map((v) => `${v.field}: ${v.description}`);
  // The service kit's message is the violations joined: list them once, a line each.
  const onlyViolations =
    listed.length > 0 && details.replace(/^invalid argument:\s*/, '') === listed.join('; ');
  const lines = [
    onlyViolations
      ? `${statusName(error.code)}: the service refused ${listed.length === 1 ? 'a field' : `${listed.length} fields`}:`
      : `${statusName(error.code)}: ${details}`,
    ...listed.map((line) => `  ${line}`),
  ];
  const hint = hintFor(error.code, target);
  if (hint) lines.push(hint);
  return lines.join('\n');
}

function hintFor(code: number, target?: string): string | undefined {
  switch (code) {
    case grpc.status.UNAVAILABLE:
      return target
        ? `is the service running at ${target}? (set it with the option or its PARK_*_ADDR variable; --tls for TLS)`
        : undefined;
    case grpc.status.UNAUTHENTICATED:
      return 'pass a token with --token or PARK_TOKEN (development: set JWT_SECRET to sign one)';
    case grpc.status.DEADLINE_EXCEEDED:
      return 'the call took longer than --timeout allows';
    default:
      return undefined;
  }
}

/** An HTTP problem+json answer (RFC 9457) as the user sees it. */
export interface ProblemBody {
  title?: string;
  status?: number;
  detail?: string;
  violations?: { field: string; description: string }[];
}

export function describeProblem(
  status: number,
  body: ProblemBody | undefined,
  raw: string,
): string {
  const title = body?.title ?? `HTTP ${status}`;
  const lines = [`HTTP ${status} ${title === `HTTP ${status}` ? '' : title}`.trimEnd()];
  if (body?.detail) lines[0] += `: ${body.detail}`;
  else if (!body && raw.trim()) lines[0] += `: ${raw.trim().slice(0, 500)}`;
  for (const violation of body?.violations ?? []) {
    lines.push(`  ${violation.field}: ${violation.description}`);
  }
  if (status === 401) {
    lines.push('pass a token with --token or PARK_TOKEN (development: set JWT_SECRET to sign one)');
  }
  return lines.join('\n');
}

/** The message printed for any error that ends a command; stacks only with PARKCTL_DEBUG. */
export function errorMessage(
  error: unknown,
  debug: boolean,
): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (isServiceError(error)) return { message: describeServiceError(error), exitCode: EXIT.failed };
  const text = error instanceof Error ? error.message : String(error);
  const connection = connectionProblem(error);
  if (connection) return { message: connection, exitCode: EXIT.failed };
  if (error instanceof Error && error.name.startsWith('KafkaJS')) {
    return { message: `Kafka: ${text}`, exitCode: EXIT.failed };
  }
  return {
    message:
      debug && error instanceof Error && error.stack
        ? error.stack
        : `${text}${debug ? '' : '\n(set PARKCTL_DEBUG=1 for details)'}`,
    exitCode: EXIT.internal,
  };
}

/** Network errors (ECONNREFUSED and friends) are the user's to fix, not a bug. */
function connectionProblem(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) {
      const message = (current as Error).message ?? code;
      return `cannot connect: ${message}`;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
