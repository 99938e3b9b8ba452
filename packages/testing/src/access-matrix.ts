import * as grpc from '@grpc/grpc-js';
import type { AccessRule, AuthSettings, Role } from '@park/service-kit';
import { bearerMetadata } from './grpc';

/** How a call ended for an authorization matrix: past the access checks, refused, or unknown caller. */
export const ALLOWED = 'allowed';
export const DENIED = 'PERMISSION_DENIED';
export const UNAUTHENTICATED = 'UNAUTHENTICATED';
export type AccessOutcome = typeof ALLOWED | typeof DENIED | typeof UNAUTHENTICATED;

/** A call's status code as a matrix outcome (any other code got past the access checks). */
export function accessOutcomeOf(code: number): AccessOutcome {
  if (code === grpc.status.PERMISSION_DENIED) return DENIED;
  if (code === grpc.status.UNAUTHENTICATED) return UNAUTHENTICATED;
  return ALLOWED;
}

/** A matrix caller: its role, and whether it reaches for another enterprise's data. */
export interface MatrixCaller {
  role: Role;
  otherEnterprise?: boolean;
}

/**
 * The callers of an enterprise-scoped API's matrix: each role, an enterprise user asking for its
 * own enterprise and for another, and two callers without a valid token.
 */
export const ENTERPRISE_SCOPED_CALLERS = {
  operator: { role: 'operator' },
  integrator: { role: 'integrator' },
  'enterprise-own': { role: 'enterprise' },
  'enterprise-other': { role: 'enterprise', otherEnterprise: true },
  service: { role: 'service' },
  'no-token': undefined,
  'forged-token': undefined,
} as const satisfies Record<string, MatrixCaller | undefined>;

/**
 * What a service's access table says for each caller and RPC; callers mapped to undefined carry
 * no valid token. A test compares this with its hand-written matrix, so the two cannot drift.
 */
export function expectedFromAccessTable<C extends string>(
  table: Readonly<Record<string, AccessRule>>,
  callers: Readonly<Record<C, MatrixCaller | undefined>>,
): Record<string, Record<C, AccessOutcome>> {
  return Object.fromEntries(
    Object.entries(table).map(([method, rule]) => [
      method,
      Object.fromEntries(
        (Object.entries(callers) as [C, MatrixCaller | undefined][]).map(([caller, who]) => {
          if (!who) return [caller, UNAUTHENTICATED];
          const allowed =
            rule.allow.includes(who.role) && !(rule.enterpriseScoped && who.otherEnterprise);
          return [caller, allowed ? ALLOWED : DENIED];
        }),
      ) as Record<C, AccessOutcome>,
    ]),
  );
}

/** An operator token signed with a secret the service does not know. */
export function forgedOperatorMetadata(auth: AuthSettings): Promise<grpc.Metadata> {
  return bearerMetadata({ ...auth, secret: `forged-${auth.secret}`.slice(0, 64) }, 'operator');
}
