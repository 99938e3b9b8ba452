export {
  ANNEX_ONE,
  CBAM_SECTORS,
  classifyCnCode,
  indirectEmissionsCount,
  normalisedCnCode,
  type AnnexOneLine,
  type CbamSector,
  type CnClassification,
} from './annex-one';
export {
  cbamForInstallation,
  cbamForProcess,
  type CbamGood,
  type ElectricityFactorSource,
  type ElectricitySourceKind,
  type ElectricitySourceShare,
  type ElectricitySupply,
  type InstallationCbamResult,
  type InstallationPeriodInput,
  type PrecursorConsumption,
  type PrecursorOrigin,
  type ProcessCbamResult,
  type ProcessPeriodInput,
  type ProductionOutput,
} from './attribution';
export { CBAM_CSV_HEADER, cbamCsv } from './csv';
