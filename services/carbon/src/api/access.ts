import type { park } from '@park/contracts';
import { accessRule as rule, type AccessTable, type Role } from '@park/service-kit';

const OPERATOR: readonly Role[] = ['operator'];
const READERS: readonly Role[] = ['operator', 'enterprise', 'service'];
const ALL: readonly Role[] = ['operator', 'integrator', 'enterprise', 'service'];
const OWN_DATA_WRITERS: readonly Role[] = ['operator', 'enterprise'];
const PRODUCTION_WRITERS: readonly Role[] = ['operator', 'integrator', 'enterprise'];

/**
 * Who may call what (DESIGN.md section 5), one rule per RPC:
 *  - operator: everything, park-wide;
 *  - enterprise: its own footprint, ledger, certificates, processes, production and CBAM data;
 *  - integrator: factor sets to read, production and precursors to record (a plant's MES);
 *  - service: reads (reporting).
 */
export const CARBON_ACCESS: AccessTable<typeof park.carbon.v1.CarbonServiceService> = {
  publishFactorSet: rule(OPERATOR),
  listFactorSets: rule(ALL),
  registerGenerator: rule(OPERATOR),
  registerProcess: rule(OWN_DATA_WRITERS, true),
  recordProduction: rule(PRODUCTION_WRITERS, true),
  recordPrecursor: rule(PRODUCTION_WRITERS, true),
  closePeriod: rule(OPERATOR),
  getEnterpriseFootprint: rule(READERS, true),
  getLedgerEntries: rule(READERS, true),
  getParkBalance: rule(['operator', 'service']),
  importCertificates: rule(OWN_DATA_WRITERS, true),
  retireCertificates: rule(OWN_DATA_WRITERS, true),
  getCbamData: rule(READERS, true),
};
