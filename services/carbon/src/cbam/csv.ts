import { Dec } from '@park/domain-primitives';
import type { CbamGood, InstallationCbamResult } from './attribution';

/**
 * The CBAM data as CSV (RFC 4180: comma-separated, CRLF line ends, header row first), one row per
 * good of each process. Decimals are rounded half-even to 6 places for display; the JSON keeps
 * full precision. Columns, in order:
 *
 * | column | meaning |
 * | --- | --- |
 * | installation_id | the installation |
 * | from_month, to_month | first and last month of the reporting period, YYYY-MM |
 * | process_id | the production process that made the good |
 * | cn_code | 8-digit CN code, no spaces |
 * | sector | cement, electricity, fertilisers, iron_and_steel, aluminium or hydrogen |
 * | route | production route as recorded |
 * | net_mass_t | net mass produced, t |
 * | direct_tco2e, indirect_tco2e | the good's share of the process's direct and indirect emissions, tCO2e |
 * | precursor_direct_tco2e, precursor_indirect_tco2e | the good's share of its precursors' embedded emissions, tCO2e |
 * | direct_see_tco2e_per_t, indirect_see_tco2e_per_t | specific embedded emissions, precursors included, tCO2e/t |
 * | indirect_counts | true when the good's indirect emissions count (false for Annex II goods) |
 * | counted_indirect_see_tco2e_per_t | the part of the indirect SEE that counts, tCO2e/t |
 * | total_see_tco2e_per_t | direct SEE plus counted indirect SEE, tCO2e/t |
 * | electricity_mwh | electricity attributed to the good, MWh |
 * | electricity_mwh_per_t | electricity per t of good, MWh/t |
 * | electricity_factor_tco2_per_mwh | weighted factor of the process's electricity; empty when it used none |
 * | electricity_sources | `source:factor_source:MWh` per source, `;`-separated, e.g. `grid:mee_grid:360.000000` |
 */
export const CBAM_CSV_HEADER = [
  'installation_id',
  'from_month',
  'to_month',
  'process_id',
  'cn_code',
  'sector',
  'route',
  'net_mass_t',
  'direct_tco2e',
  'indirect_tco2e',
  'precursor_direct_tco2e',
  'precursor_indirect_tco2e',
  'direct_see_tco2e_per_t',
  'indirect_see_tco2e_per_t',
  'indirect_counts',
  'counted_indirect_see_tco2e_per_t',
  'total_see_tco2e_per_t',
  'electricity_mwh',
  'electricity_mwh_per_t',
  'electricity_factor_tco2_per_mwh',
  'electricity_sources',
] as const;

export function cbamCsv(result: InstallationCbamResult): string {
  const rows = result.goods.map((good) => csvRow(result, good));
  return [CBAM_CSV_HEADER.join(','), ...rows].map((line) => `${line}\r\n`).join('');
}

function csvRow(result: InstallationCbamResult, good: CbamGood): string {
  return [
    text(result.installationId),
    text(result.fromMonth),
    text(result.toMonth),
    text(good.processId),
    text(good.cnCode),
    text(good.sector),
    text(good.route),
    shown(good.netMassTonnes),
    shown(good.directTco2e),
    shown(good.indirectTco2e),
    shown(good.precursorDirectTco2e),
    shown(good.precursorIndirectTco2e),
    shown(good.directSee),
    shown(good.indirectSee),
    String(good.indirectCounts),
    shown(good.countedIndirectSee),
    shown(good.totalSee),
    shown(good.electricityMwh),
    shown(good.electricityMwhPerTonne),
    good.electricityFactor === null ? '' : shown(good.electricityFactor),
    text(
      good.electricitySources
        .map((share) => `${share.source}:${share.factorSource}:${shown(share.mwh)}`)
        .join(';'),
    ),
  ].join(',');
}

/** Half-even to 6 places (the Dec clone's rounding mode). */
function shown(value: string): string {
  return new Dec(value).toFixed(6);
}

// Route and ids are typed in by people and the file is opened in spreadsheets: a leading = + - @
// would run as a formula there, so such text gets a leading apostrophe (OWASP's advice).
function text(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
