import type { park } from '@park/contracts';
import type { Principal, Role } from '@park/service-kit';
import { PermissionDeniedError } from '@park/service-kit/errors';

/** The RPCs of park.metering.v1.MeteringService, by their ts-proto (camelCase) names. */
export type MeteringMethod = keyof typeof park.metering.v1.MeteringServiceService;

export interface AccessRule {
  /** Roles that may call the RPC at all. */
  allow: readonly Role[];
  /**
   * The RPC reads one enterprise's data: an enterprise token may call it for its own enterprise
   * only (the handler names the enterprise with `assertOwnEnterprise` once it knows it).
   */
  enterpriseScoped: boolean;
}

const ALL: readonly Role[] = ['operator', 'integrator', 'enterprise', 'service'];
const OPERATOR: readonly Role[] = ['operator'];
const METER_WRITERS: readonly Role[] = ['operator', 'integrator'];

const rule = (allow: readonly Role[], enterpriseScoped = false): AccessRule => ({
  allow,
  enterpriseScoped,
});

/**
 * Who may call what (DESIGN.md section 5), one rule per RPC; every handler is wrapped with its
 * rule (grpc-service.ts), and the Record type makes a new RPC without a rule a compile error.
 *  - operator: everything, park-wide;
 *  - integrator: register, replace and decommission meters, ingest, and read the registry,
 *    meters and series; not enterprise management, not the review of held readings, not the park;
 *  - enterprise: reads of its own enterprise only (and the park it is in);
 *  - service: reads.
 */
export const METERING_ACCESS: Readonly<Record<MeteringMethod, AccessRule>> = {
  configurePark: rule(OPERATOR),
  getPark: rule(ALL),

  registerEnterprise: rule(OPERATOR),
  updateEnterprise: rule(OPERATOR),
  getEnterprise: rule(ALL, true),
  listEnterprises: rule(ALL, true),

  registerInstallation: rule(OPERATOR),

  registerMeter: rule(METER_WRITERS),
  replaceMeter: rule(METER_WRITERS),
  decommissionMeter: rule(METER_WRITERS),
  getMeter: rule(ALL, true),
  listMeters: rule(ALL, true),

  ingestReadings: rule(METER_WRITERS),
  getSeries: rule(ALL, true),
  correctReading: rule(OPERATOR),
  acceptReading: rule(OPERATOR),
  watchReadings: rule(ALL, true),
};

/** Refuses a caller whose role the RPC's rule does not allow. */
export function authorize(method: MeteringMethod, principal: Principal): void {
  const { allow } = METERING_ACCESS[method];
  if (!allow.includes(principal.role)) {
    throw new PermissionDeniedError(
      `role ${principal.role} may not call ${method} (allowed: ${allow.join(', ')})`,
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
