import { park } from '@park/contracts';
import { assertEnterpriseAccess, type Role } from '../auth';
import { ValidationError } from '../errors';
import { defineService, type GrpcService, type ServiceHandlers } from './service';

const v1 = park.diagnostics.v1;

export const DIAGNOSTICS_SERVICE = 'park.diagnostics.v1.DiagnosticsService';

export type DiagnosticsHandlers = ServiceHandlers<typeof v1.DiagnosticsServiceService>;

const ROLE: Record<Role, park.diagnostics.v1.Role> = {
  operator: v1.Role.ROLE_OPERATOR,
  integrator: v1.Role.ROLE_INTEGRATOR,
  enterprise: v1.Role.ROLE_ENTERPRISE,
  service: v1.Role.ROLE_SERVICE,
};

/** The handlers every park service serves, for callers to check where they are and who. */
export function diagnosticsHandlers(identity: {
  name: string;
  version: string;
}): DiagnosticsHandlers {
  return {
    ping: () => ({ service: identity.name, version: identity.version, serverTime: new Date() }),
    whoAmI: (_request, { principal }) => ({
      subject: principal.subject,
      role: ROLE[principal.role],
      enterpriseId: principal.enterpriseId ?? '',
      expiresAt: principal.expiresAt,
    }),
    checkEnterpriseAccess: ({ enterpriseId }, { principal }) => {
      if (!enterpriseId) throw ValidationError.field('enterprise_id', 'is required');
      assertEnterpriseAccess(principal, enterpriseId);
      return { enterpriseId };
    },
  };
}

/** park.diagnostics.v1.DiagnosticsService; pass overrides to replace single methods (tests). */
export function diagnosticsService(
  identity: { name: string; version: string },
  overrides: Partial<DiagnosticsHandlers> = {},
): GrpcService {
  return defineService(v1.DiagnosticsServiceService, {
    ...diagnosticsHandlers(identity),
    ...overrides,
  });
}
