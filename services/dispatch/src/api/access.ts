import type { park } from '@park/contracts';
import { accessRule as rule, type AccessTable, type Role } from '@park/service-kit';

const OPERATOR: readonly Role[] = ['operator'];
const READERS: readonly Role[] = ['operator', 'integrator', 'enterprise', 'service'];
const EMS: readonly Role[] = ['operator', 'integrator'];

/**
 * Who may call what (DESIGN.md section 5):
 *  - operator: everything (topology, planning);
 *  - integrator (EMS, forecasting): submit forecasts, read and acknowledge setpoints, read plans;
 *  - enterprise: read plans (park-wide information); not the topology, which holds other
 *    enterprises' direct-line contracts and loads;
 *  - service: reads.
 */
export const DISPATCH_ACCESS: AccessTable<typeof park.dispatch.v1.DispatchServiceService> = {
  registerPlant: rule(OPERATOR),
  registerBattery: rule(OPERATOR),
  registerFlexibleLoad: rule(OPERATOR),
  registerDirectLine: rule(OPERATOR),
  configureGrid: rule(OPERATOR),
  getTopology: rule(['operator', 'integrator', 'service']),
  submitForecast: rule(EMS),
  planDay: rule(OPERATOR),
  getPlan: rule(READERS),
  getSetpoints: rule(['operator', 'integrator', 'service']),
  acknowledgeSetpoint: rule(EMS),
  explainPlan: rule(READERS),
  // Other enterprises' consumption shares: not for enterprise tokens.
  getDirectLineRatios: rule(['operator', 'integrator', 'service']),
};
