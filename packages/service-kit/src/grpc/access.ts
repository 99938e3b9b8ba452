import type * as grpc from '@grpc/grpc-js';
import type { Principal, Role } from '../auth';
import { PermissionDeniedError } from '../errors';
import { defineService, type CallContext, type GrpcService, type ServiceHandlers } from './service';

/** Who may call one RPC. */
export interface AccessRule {
  /** Roles that may call the RPC at all. */
  allow: readonly Role[];
  /**
   * The RPC reaches one enterprise's data: an enterprise token may call it for its own
   * enterprise only (the handler names the enterprise with `assertOwnEnterprise` once it knows it).
   */
  enterpriseScoped: boolean;
}

/** One rule per RPC of a service: a new RPC without a rule does not compile. */
export type AccessTable<Definition extends grpc.ServiceDefinition> = Readonly<
  Record<keyof Definition & string, AccessRule>
>;

export const accessRule = (allow: readonly Role[], enterpriseScoped = false): AccessRule => ({
  allow,
  enterpriseScoped,
});

/** Refuses a caller whose role the RPC's rule does not allow. */
export function authorizeCall(method: string, rule: AccessRule, principal: Principal): void {
  if (!rule.allow.includes(principal.role)) {
    throw new PermissionDeniedError(
      `role ${principal.role} may not call ${method} (allowed: ${rule.allow.join(', ')})`,
    );
  }
}

/** An enterprise token reaches its own enterprise only; the other roles pass. */
export function assertOwnEnterprise(principal: Principal, enterpriseId: string): void {
  if (principal.role !== 'enterprise') return;
  if (principal.enterpriseId !== undefined && principal.enterpriseId === enterpriseId) return;
  throw new PermissionDeniedError(
    `an enterprise token for ${principal.enterpriseId} cannot access enterprise ${enterpriseId || '(none)'}`,
  );
}

/** The enterprise an enterprise token is limited to; undefined for park-wide roles. */
export function enterpriseLimit(principal: Principal): string | undefined {
  return principal.role === 'enterprise' ? principal.enterpriseId : undefined;
}

/** defineService with every handler behind its access rule, checked before the handler runs. */
export function defineGuardedService<Definition extends grpc.ServiceDefinition>(
  definition: Definition,
  access: AccessTable<Definition>,
  handlers: ServiceHandlers<Definition>,
): GrpcService {
  const guarded = Object.fromEntries(
    (Object.keys(access) as (keyof Definition & string)[]).map((method) => {
      const handler = handlers[method] as unknown as (request: never, ctx: CallContext) => unknown;
      const rule = access[method];
      if (definition[method]!.responseStream) {
        return [
          method,
          (request: never, ctx: CallContext) => {
            authorizeCall(method, rule, ctx.principal);
            return handler(request, ctx);
          },
        ];
      }
      return [
        method,
        async (request: never, ctx: CallContext) => {
          authorizeCall(method, rule, ctx.principal);
          return handler(request, ctx);
        },
      ];
    }),
  ) as unknown as ServiceHandlers<Definition>;
  return defineService(definition, guarded);
}
