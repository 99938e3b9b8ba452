import type { park } from '@park/contracts';
import { accessRule as rule, type AccessTable, type Role } from '@park/service-kit';

const ALL_READERS: readonly Role[] = ['operator', 'enterprise', 'service'];

/**
 * Who may call what (DESIGN.md section 5): operators everything; an enterprise its own
 * statement and its own rank (others anonymous), exports of its own statement and CBAM data;
 * services (dashboards, other services) reads; integrators nothing here.
 */
export const REPORTING_ACCESS: AccessTable<typeof park.reporting.v1.ReportingServiceService> = {
  getParkKpis: rule(['operator', 'service']),
  getEnterpriseStatement: rule(ALL_READERS, true),
  listEnterpriseRanking: rule(ALL_READERS),
  getPlanVsActual: rule(['operator', 'service']),
  exportReport: rule(ALL_READERS, true),
  rebuildProjection: rule(['operator']),
  listProjections: rule(['operator', 'service']),
};
