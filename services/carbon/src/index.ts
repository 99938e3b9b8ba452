// The carbon service: energy and GHG accounting traceable to meter readings and factors.
export const SERVICE_NAME = 'carbon';

export * from './accounting';
export * from './factors';
export * from './ledger/ledger';
export * from './generators/generator';
export * from './cbam';
export {
  certificateBookDecider,
  certificatesStreamId,
  coveredKwh,
  DEFAULT_VINTAGE_RULES,
  initialCertificateBook,
  type CertificateBook,
  type CertificateEntry,
  type CertificateEvent,
  type RetirementPeriod,
  type VintageRules,
} from './certificates';
export * from './app';
