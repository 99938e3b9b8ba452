// How the page shows numbers. The API sends exact decimals as strings; the page rounds them here
// (half away from zero, as toFixed does, for display only), and says "n/a" where there is none.

export function fixed(value: string | number | null | undefined, places: number): string {
  if (value === null || value === undefined || value === '') return 'n/a';
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(places) : 'n/a';
}

/** A fraction as a percentage: "0.875" -> "87.5 %". */
export function percent(value: string | number | null | undefined, places = 1): string {
  if (value === null || value === undefined || value === '') return 'n/a';
  return `${(Number(value) * 100).toFixed(places)} %`;
}

/** A KPI's value as its tile shows it: fractions as percentages, intensities to 3 places. */
export function kpiText(value: string | undefined, unit: string): string {
  const { number, shownUnit } = kpiParts(value, unit);
  return number === 'n/a' && unit === 'fraction' ? number : `${number} ${shownUnit}`;
}

/** The number and the unit of a KPI's text, apart (a tile sets the unit smaller). */
export function kpiParts(value: string | undefined, unit: string) {
  if (unit !== 'fraction') return { number: fixed(value, 3), shownUnit: unit };
  return {
    number: value === undefined ? 'n/a' : (Number(value) * 100).toFixed(1),
    shownUnit: value === undefined ? '' : '%',
  };
}

export function kpiTarget(
  target: string | undefined,
  comparison: string | undefined,
  unit: string,
) {
  if (target === undefined) return '';
  const shown = unit === 'fraction' ? percent(target, 0) : `${target} ${unit}`;
  return `target ${comparison === '<=' ? '≤' : '≥'} ${shown}`;
}

/** "2025-06-01T02:15:00.000Z" -> "10:15" in the park's time zone. */
export function clock(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(instant));
}

export function dateTime(instant: string | undefined, timeZone: string): string {
  if (!instant) return 'never';
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(instant));
}

export const ROLE_LABELS: Record<string, string> = {
  grid_import: 'Grid import',
  grid_export: 'Grid export',
  green_direct_line: 'Green direct line',
  onsite_pv: 'On-site PV',
  wind: 'Wind',
  storage_charge: 'Storage charge',
  storage_discharge: 'Storage discharge',
  storage_soc: 'Storage SOC',
  internal_transfer: 'Internal transfer',
  sub_meter: 'Sub-meter',
};

export const COMMODITY_LABELS: Record<string, string> = {
  electricity: 'Electricity',
  natural_gas: 'Natural gas',
  heat: 'Heat',
  steam: 'Steam',
  water: 'Water',
  diesel: 'Diesel',
  hydrogen: 'Hydrogen',
};
