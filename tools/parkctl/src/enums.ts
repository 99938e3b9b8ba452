// Proto enums as people type and read them: `grid_import` for METER_ROLE_GRID_IMPORT, `kWh` for
// UNIT_KWH. The full proto name is accepted too.
import { park } from '@park/contracts';
import { UsageError } from './errors';

type ProtoEnum = Record<string, string | number>;

/** The enum's names without their prefix and the UNSPECIFIED value, lower case. */
export function enumChoices(values: ProtoEnum, prefix: string): string[] {
  return Object.keys(values)
    .filter((name) => Number.isNaN(Number(name)) && name !== `${prefix}UNSPECIFIED`)
    .map((name) => name.slice(prefix.length).toLowerCase());
}

/** The enum's number for `text` ("grid_import", "grid-import" or "METER_ROLE_GRID_IMPORT"). */
export function parseEnum(values: ProtoEnum, prefix: string, text: string, option: string): number {
  const normal = text
    .trim()
    .toUpperCase()
    .replace(/[-\s]+/g, '_');
  const name = normal.startsWith(prefix) ? normal : `${prefix}${normal}`;
  const value = values[name];
  if (typeof value !== 'number' || name === `${prefix}UNSPECIFIED`) {
    throw new UsageError(
      `${option} must be one of ${enumChoices(values, prefix).join(', ')} (not "${text}")`,
    );
  }
  return value;
}

/** "grid_import" for METER_ROLE_GRID_IMPORT; empty for the unspecified value. */
export function enumLabel(values: ProtoEnum, prefix: string, value: number): string {
  const name = values[value];
  if (typeof name !== 'string' || name === `${prefix}UNSPECIFIED`) return '';
  return name.slice(prefix.length).toLowerCase();
}

const { Unit } = park.common.v1;

/** How units are written in the README and the CSV format (kWh, Nm3, tCO2e). */
const UNIT_LABELS: Record<number, string> = {
  [Unit.UNIT_KWH]: 'kWh',
  [Unit.UNIT_MWH]: 'MWh',
  [Unit.UNIT_KW]: 'kW',
  [Unit.UNIT_MW]: 'MW',
  [Unit.UNIT_NM3]: 'Nm3',
  [Unit.UNIT_GJ]: 'GJ',
  [Unit.UNIT_MJ]: 'MJ',
  [Unit.UNIT_TONNE]: 't',
  [Unit.UNIT_KG]: 'kg',
  [Unit.UNIT_M3]: 'm3',
  [Unit.UNIT_PERCENT]: '%',
  [Unit.UNIT_TCE]: 'tce',
  [Unit.UNIT_KGCE]: 'kgce',
  [Unit.UNIT_KGCO2E]: 'kgCO2e',
  [Unit.UNIT_TCO2E]: 'tCO2e',
};

export function unitLabel(unit: park.common.v1.Unit): string {
  return UNIT_LABELS[unit] ?? '';
}

export function parseUnit(text: string, option = '--unit'): park.common.v1.Unit {
  const byLabel = Object.entries(UNIT_LABELS).find(
    ([, label]) => label.toLowerCase() === text.trim().toLowerCase(),
  );
  if (byLabel) return Number(byLabel[0]) as park.common.v1.Unit;
  if (text.trim().toLowerCase() === 'tonne') return Unit.UNIT_TONNE;
  try {
    return parseEnum(Unit as unknown as ProtoEnum, 'UNIT_', text, option);
  } catch {
    throw new UsageError(
      `${option} must be one of ${Object.values(UNIT_LABELS).join(', ')} (not "${text}")`,
    );
  }
}

const m = park.metering.v1;
/** Enums of the metering contract with their prefixes, for parsing and labels. */
export const ENUMS = {
  commodity: { values: m.Commodity as unknown as ProtoEnum, prefix: 'COMMODITY_' },
  meterRole: { values: m.MeterRole as unknown as ProtoEnum, prefix: 'METER_ROLE_' },
  registerType: { values: m.RegisterType as unknown as ProtoEnum, prefix: 'REGISTER_TYPE_' },
  meterStatus: { values: m.MeterStatus as unknown as ProtoEnum, prefix: 'METER_STATUS_' },
  resolution: { values: m.Resolution as unknown as ProtoEnum, prefix: 'RESOLUTION_' },
  sizeBand: { values: m.SizeBand as unknown as ProtoEnum, prefix: 'SIZE_BAND_' },
  granularity: {
    values: park.reporting.v1.Granularity as unknown as ProtoEnum,
    prefix: 'GRANULARITY_',
  },
  kpiStatus: { values: park.reporting.v1.KpiStatus as unknown as ProtoEnum, prefix: 'KPI_STATUS_' },
} as const;

export type EnumKind = keyof typeof ENUMS;

export function parseEnumOf(kind: EnumKind, text: string, option: string): number {
  return parseEnum(ENUMS[kind].values, ENUMS[kind].prefix, text, option);
}

export function labelOf(kind: EnumKind, value: number): string {
  return enumLabel(ENUMS[kind].values, ENUMS[kind].prefix, value);
}

export function choicesOf(kind: EnumKind): string[] {
  return enumChoices(ENUMS[kind].values, ENUMS[kind].prefix);
}
