import * as grpc from '@grpc/grpc-js';
import { signDevelopmentToken, type AuthSettings, type Role } from '@park/service-kit';

/** Call metadata with a development bearer token for the role (and enterprise). */
export async function bearerMetadata(
  auth: AuthSettings,
  role: Role,
  enterpriseId?: string,
): Promise<grpc.Metadata> {
  const jwt = await signDevelopmentToken(auth, {
    role,
    subject: `test-${role}`,
    ...(enterpriseId !== undefined && { enterpriseId }),
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${jwt}`);
  return metadata;
}

/** A unary call as a promise. */
export function unary<Response>(
  invoke: (done: (error: grpc.ServiceError | null, response?: Response) => void) => unknown,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response!)));
  });
}

/** The status code a call ended with (0 for OK). */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return grpc.status.OK;
  } catch (error) {
    const code = (error as grpc.ServiceError).code;
    if (typeof code !== 'number') throw error;
    return code;
  }
}

/** The error a call failed with; throws when it succeeded. */
export async function failure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** Exponential backoff: the delay before retry `attempt` (1 for the first retry), capped. */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}
