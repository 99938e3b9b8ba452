import type { park } from '@park/contracts';
import { accessRule, type AccessTable, type Role } from '@park/service-kit';

export { assertOwnEnterprise, enterpriseLimit, type AccessRule } from '@park/service-kit';

/** The RPCs of park.metering.v1.MeteringService, by their ts-proto (camelCase) names. */
export type MeteringMethod = keyof typeof park.metering.v1.MeteringServiceService;

const ALL: readonly Role[] = ['operator', 'integrator', 'enterprise', 'service'];
const OPERATOR: readonly Role[] = ['operator'];
const METER_WRITERS: readonly Role[] = ['operator', 'integrator'];

const rule = accessRule;

/**
 * Who may call what (DESIGN.md section 5), one rule per RPC; every handler is wrapped with its
 * rule (grpc-service.ts), and the Record type makes a new RPC without a rule a compile error.
 *  - operator: everything, park-wide;
 *  - integrator: register, replace and decommission meters, ingest, and read the registry,
 *    meters and series; not enterprise management, not the review of held readings, not the park;
 *  - enterprise: reads of its own enterprise only (and the park it is in);
 *  - service: reads.
 */
export const METERING_ACCESS: AccessTable<typeof park.metering.v1.MeteringServiceService> = {
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
