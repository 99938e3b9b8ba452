import { park } from '@park/contracts';
import { ValidationError, type FieldViolation } from '@park/service-kit/errors';
import {
  commodityToProto,
  meterRoleToProto,
  qualityToProto,
  registerTypeToProto,
  sizeBandToProto,
  unitToProto,
} from '../integration/enums';
import { enterpriseToProto } from '../integration/mapper';
import type { Quality } from '../readings/model';
import type { EnterpriseProfile } from '../registry/enterprise';
import type { Commodity, MeterRole, MeterUnit, RegisterType } from '../registry/meter-registration';
import type { GridRegion, ParkProfile, SizeBand } from '../registry/park';
import type { SeriesQueryResolution } from '../series/series-store';
import { instantText } from '@park/domain-primitives';

const v1 = park.metering.v1;
const { Unit } = park.common.v1;

/*
 * Protobuf <-> domain. Proto enums map with exhaustive switches (a `never` default: an enum
 * value added to the proto does not compile until it is mapped; an unknown number off the wire
 * is a violation). Missing required fields are violations naming the proto field path, e.g.
 * "meter.unit"; the domain's own violations (snake_case names) get the message's prefix.
 */

/** Collects violations with proto field paths; throws them together. */
export class ProtoViolations {
  readonly list: FieldViolation[] = [];

  add(field: string, description: string): void {
    this.list.push({ field, description });
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError([...this.list]);
  }

  /** A non-empty string field. */
  text(field: string, value: string | undefined): string | undefined {
    const text = value?.trim() ?? '';
    if (text === '') {
      this.add(field, 'is required');
      return undefined;
    }
    return text;
  }

  message<T>(field: string, value: T | undefined): T | undefined {
    if (value === undefined || value === null) this.add(field, 'is required');
    return value ?? undefined;
  }

  timestamp(field: string, value: Date | undefined): string | undefined {
    if (!value) {
      this.add(field, 'is required');
      return undefined;
    }
    if (Number.isNaN(value.getTime())) {
      this.add(field, 'is not a valid timestamp');
      return undefined;
    }
    return instantText(value.getTime());
  }

  decimal(field: string, value: park.common.v1.Decimal | undefined): string | undefined {
    const text = optionalDecimal(value);
    if (text === undefined) this.add(field, 'is required');
    return text;
  }
}

/** Runs a domain call, giving its violations the proto message's path ("meter.unit"). */
export async function withFieldPrefix<T>(prefix: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError && prefix !== '') {
      throw new ValidationError(
        error.violations.map((v) => ({ ...v, field: `${prefix}.${v.field}` })),
      );
    }
    throw error;
  }
}

export const optionalText = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

export const optionalDecimal = (value: park.common.v1.Decimal | undefined): string | undefined =>
  value === undefined || value.value.trim() === '' ? undefined : value.value.trim();

export const decimal = (value: string): park.common.v1.Decimal => ({ value });

const maybeDecimal = (value: string | undefined | null): park.common.v1.Decimal | undefined =>
  value === undefined || value === null ? undefined : decimal(value);

// ---- enums, proto -> domain ----

function invalidEnum(v: ProtoViolations, field: string, value: never): undefined {
  v.add(field, `unknown value ${String(value)}`);
  return undefined;
}

export function commodityFromProto(
  v: ProtoViolations,
  field: string,
  value: park.metering.v1.Commodity,
  required: boolean,
): Commodity | undefined {
  switch (value) {
    case v1.Commodity.COMMODITY_UNSPECIFIED:
      if (required) v.add(field, 'is required');
      return undefined;
    case v1.Commodity.COMMODITY_ELECTRICITY:
      return 'electricity';
    case v1.Commodity.COMMODITY_NATURAL_GAS:
      return 'natural_gas';
    case v1.Commodity.COMMODITY_HEAT:
      return 'heat';
    case v1.Commodity.COMMODITY_STEAM:
      return 'steam';
    case v1.Commodity.COMMODITY_WATER:
      return 'water';
    case v1.Commodity.COMMODITY_DIESEL:
      return 'diesel';
    case v1.Commodity.COMMODITY_HYDROGEN:
      return 'hydrogen';
    default:
      return invalidEnum(v, field, value);
  }
}

export function meterRoleFromProto(
  v: ProtoViolations,
  field: string,
  value: park.metering.v1.MeterRole,
  required: boolean,
): MeterRole | undefined {
  switch (value) {
    case v1.MeterRole.METER_ROLE_UNSPECIFIED:
      if (required) v.add(field, 'is required');
      return undefined;
    case v1.MeterRole.METER_ROLE_GRID_IMPORT:
      return 'grid_import';
    case v1.MeterRole.METER_ROLE_GRID_EXPORT:
      return 'grid_export';
    case v1.MeterRole.METER_ROLE_GREEN_DIRECT_LINE:
      return 'green_direct_line';
    case v1.MeterRole.METER_ROLE_ONSITE_PV:
      return 'onsite_pv';
    case v1.MeterRole.METER_ROLE_WIND:
      return 'wind';
    case v1.MeterRole.METER_ROLE_STORAGE_CHARGE:
      return 'storage_charge';
    case v1.MeterRole.METER_ROLE_STORAGE_DISCHARGE:
      return 'storage_discharge';
    case v1.MeterRole.METER_ROLE_STORAGE_STATE_OF_CHARGE:
      return 'storage_soc';
    case v1.MeterRole.METER_ROLE_INTERNAL_TRANSFER:
      return 'internal_transfer';
    case v1.MeterRole.METER_ROLE_SUB_METER:
      return 'sub_meter';
    default:
      return invalidEnum(v, field, value);
  }
}

/** A unit a meter reads in; power, coal-equivalent and CO2 units are not. */
export function unitFromProto(
  v: ProtoViolations,
  field: string,
  value: park.common.v1.Unit,
): MeterUnit | undefined {
  switch (value) {
    case Unit.UNIT_UNSPECIFIED:
      v.add(field, 'is required');
      return undefined;
    case Unit.UNIT_KWH:
      return 'kWh';
    case Unit.UNIT_MWH:
      return 'MWh';
    case Unit.UNIT_NM3:
      return 'Nm3';
    case Unit.UNIT_GJ:
      return 'GJ';
    case Unit.UNIT_MJ:
      return 'MJ';
    case Unit.UNIT_TONNE:
      return 't';
    case Unit.UNIT_KG:
      return 'kg';
    case Unit.UNIT_M3:
      return 'm3';
    case Unit.UNIT_PERCENT:
      return '%';
    case Unit.UNIT_KW:
    case Unit.UNIT_MW:
    case Unit.UNIT_TCE:
    case Unit.UNIT_KGCE:
    case Unit.UNIT_KGCO2E:
    case Unit.UNIT_TCO2E:
      v.add(field, `${Unit[value]} is not a unit meters read in`);
      return undefined;
    default:
      return invalidEnum(v, field, value);
  }
}

export function registerTypeFromProto(
  v: ProtoViolations,
  field: string,
  value: park.metering.v1.RegisterType,
): RegisterType | undefined {
  switch (value) {
    case v1.RegisterType.REGISTER_TYPE_UNSPECIFIED:
      v.add(field, 'is required');
      return undefined;
    case v1.RegisterType.REGISTER_TYPE_CUMULATIVE:
      return 'cumulative';
    case v1.RegisterType.REGISTER_TYPE_INTERVAL:
      return 'interval';
    default:
      return invalidEnum(v, field, value);
  }
}

export function sizeBandFromProto(
  v: ProtoViolations,
  field: string,
  value: park.metering.v1.SizeBand,
): SizeBand | undefined {
  switch (value) {
    case v1.SizeBand.SIZE_BAND_UNSPECIFIED:
      v.add(field, 'is required');
      return undefined;
    case v1.SizeBand.SIZE_BAND_BELOW_200K_TCE:
      return 'below_200k_tce';
    case v1.SizeBand.SIZE_BAND_200K_TO_1M_TCE:
      return '200k_to_1m_tce';
    case v1.SizeBand.SIZE_BAND_ABOVE_1M_TCE:
      return 'above_1m_tce';
    default:
      return invalidEnum(v, field, value);
  }
}

export function resolutionFromProto(
  v: ProtoViolations,
  field: string,
  value: park.metering.v1.Resolution,
): SeriesQueryResolution | undefined {
  switch (value) {
    case v1.Resolution.RESOLUTION_UNSPECIFIED:
      v.add(field, 'is required');
      return undefined;
    case v1.Resolution.RESOLUTION_QUARTER_HOUR:
      return 'quarter_hour';
    case v1.Resolution.RESOLUTION_HOUR:
      return 'hour';
    case v1.Resolution.RESOLUTION_DAY:
      return 'day';
    case v1.Resolution.RESOLUTION_MONTH:
      return 'month';
    default:
      return invalidEnum(v, field, value);
  }
}

export function resolutionToProto(resolution: SeriesQueryResolution): park.metering.v1.Resolution {
  switch (resolution) {
    case 'quarter_hour':
      return v1.Resolution.RESOLUTION_QUARTER_HOUR;
    case 'hour':
      return v1.Resolution.RESOLUTION_HOUR;
    case 'day':
      return v1.Resolution.RESOLUTION_DAY;
    case 'month':
      return v1.Resolution.RESOLUTION_MONTH;
  }
}

// ---- registry messages ----

/** ConfigurePark's command; the domain validates the values (names prefixed "park."). */
export function parkFromProto(request: park.metering.v1.ConfigureParkRequest) {
  const v = new ProtoViolations();
  const p = v.message('park', request.park);
  if (!p) v.throwIfAny();
  const latitude = v.decimal('park.latitude', p!.latitude);
  const longitude = v.decimal('park.longitude', p!.longitude);
  const sizeBand = sizeBandFromProto(v, 'park.size_band', p!.sizeBand);
  const gridRegion = v.text('park.grid_region', p!.gridRegion);
  v.throwIfAny();
  return {
    parkId: p!.parkId,
    name: p!.name,
    timeZone: optionalText(p!.timeZone),
    latitude: Number(latitude),
    longitude: Number(longitude),
    gridRegion: gridRegion!,
    sizeBand: sizeBand!,
  };
}

export function parkToProto(profile: ParkProfile): park.metering.v1.Park {
  return {
    parkId: profile.parkId,
    name: profile.name,
    timeZone: profile.timeZone,
    latitude: decimal(String(profile.latitude)),
    longitude: decimal(String(profile.longitude)),
    gridRegion: profile.gridRegion satisfies GridRegion,
    sizeBand: sizeBandToProto(profile.sizeBand),
  };
}

export { enterpriseToProto };

export function enterpriseChangesFromProto(
  enterprise: park.metering.v1.Enterprise,
): Partial<EnterpriseProfile> {
  const changes: Partial<EnterpriseProfile> = {
    exporter: enterprise.exporter,
    energyUsing: enterprise.energyUsing,
    keyEnergyConsumingUnit: enterprise.keyEnergyConsumingUnit,
  };
  const name = optionalText(enterprise.name);
  const creditCode = optionalText(enterprise.creditCode);
  const industryCode = optionalText(enterprise.industryCode);
  if (name !== undefined) changes.name = name;
  if (creditCode !== undefined) changes.creditCode = creditCode;
  if (industryCode !== undefined) changes.industryCode = industryCode;
  return changes;
}

/** RegisterMeter's fields from a proto Meter (the park comes from the enterprise). */
export function meterFromProto(meter: park.metering.v1.Meter | undefined) {
  const v = new ProtoViolations();
  const m = v.message('meter', meter);
  if (!m) v.throwIfAny();
  const meterId = v.text('meter.meter_id', m!.meterId);
  const enterpriseId = v.text('meter.enterprise_id', m!.enterpriseId);
  const commodity = commodityFromProto(v, 'meter.commodity', m!.commodity, true);
  const role = meterRoleFromProto(v, 'meter.role', m!.role, true);
  const unit = unitFromProto(v, 'meter.unit', m!.unit);
  const registerType = registerTypeFromProto(v, 'meter.register_type', m!.registerType);
  v.throwIfAny();
  return {
    meterId: meterId!,
    enterpriseId: enterpriseId!,
    commodity: commodity!,
    role: role!,
    unit: unit!,
    registerType: registerType!,
    registerMaximum: optionalDecimal(m!.registerMaximum),
    multiplier: optionalDecimal(m!.multiplier),
    ratedPowerKw: optionalDecimal(m!.ratedPowerKw),
    intervalMinutes: m!.intervalMinutes === 0 ? undefined : m!.intervalMinutes,
    enthalpyGjPerTonne: optionalDecimal(m!.steamEnthalpyGjPerTonne),
    sourceGeneratorId: optionalText(m!.sourceGeneratorId),
    sourceEntityId: optionalText(m!.sourceEntityId),
    serialNumber: optionalText(m!.serialNumber),
  };
}

/** A row of the meters read model. */
export interface MeterRow {
  meter_id: string;
  enterprise_id: string;
  commodity: Commodity;
  role: MeterRole;
  unit: MeterUnit;
  register_type: RegisterType;
  register_maximum: string | null;
  multiplier: string;
  rated_power_kw: string | null;
  interval_minutes: number;
  enthalpy_gj_per_tonne: string | null;
  source_generator_id: string | null;
  source_entity_id: string | null;
  status: 'active' | 'decommissioned';
  registered_at: Date | null;
  serial_number: string | null;
}

export const METER_COLUMNS = `meter_id, enterprise_id, commodity, role, unit, register_type,
  register_maximum::text, multiplier::text, rated_power_kw::text, interval_minutes,
  enthalpy_gj_per_tonne::text, source_generator_id, source_entity_id, status, registered_at,
  serial_number`;

export function meterRowToProto(row: MeterRow): park.metering.v1.Meter {
  return {
    meterId: row.meter_id,
    enterpriseId: row.enterprise_id,
    commodity: commodityToProto(row.commodity),
    role: meterRoleToProto(row.role),
    unit: unitToProto(row.unit),
    registerType: registerTypeToProto(row.register_type),
    registerMaximum: maybeDecimal(row.register_maximum),
    multiplier: decimal(row.multiplier),
    ratedPowerKw: maybeDecimal(row.rated_power_kw),
    intervalMinutes: row.interval_minutes,
    steamEnthalpyGjPerTonne: maybeDecimal(row.enthalpy_gj_per_tonne),
    sourceGeneratorId: row.source_generator_id ?? '',
    sourceEntityId: row.source_entity_id ?? '',
    status:
      row.status === 'active'
        ? v1.MeterStatus.METER_STATUS_ACTIVE
        : v1.MeterStatus.METER_STATUS_DECOMMISSIONED,
    registeredAt: row.registered_at ?? undefined,
    serialNumber: row.serial_number ?? '',
  };
}

export function intervalValueToProto(value: {
  intervalStart: string | Date;
  value: string;
  quality: Quality;
  source: string;
}): park.metering.v1.IntervalValue {
  return {
    intervalStart:
      value.intervalStart instanceof Date ? value.intervalStart : new Date(value.intervalStart),
    value: decimal(value.value),
    quality: qualityToProto(value.quality),
    source: value.source,
  };
}

// ---- paging ----

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** The page size and the keyset cursor (the last id of the previous page). */
export function pageFromProto(
  page: park.common.v1.PageRequest | undefined,
  field = 'page',
): { size: number; after: string | undefined } {
  const v = new ProtoViolations();
  const requested = page?.pageSize ?? 0;
  if (requested < 0) v.add(`${field}.page_size`, 'must not be negative');
  let after: string | undefined;
  const token = page?.pageToken ?? '';
  if (token !== '') {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
      if (
        typeof decoded !== 'object' ||
        decoded === null ||
        typeof (decoded as { a?: unknown }).a !== 'string'
      ) {
        throw new Error('bad token');
      }
      after = (decoded as { a: string }).a;
    } catch {
      v.add(`${field}.page_token`, 'is not a token this service returned');
    }
  }
  v.throwIfAny();
  const size = requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  return { size, after };
}

/** An opaque token for the page after `lastId`. */
export function pageToken(lastId: string): string {
  return Buffer.from(JSON.stringify({ a: lastId }), 'utf8').toString('base64url');
}
