import { Dec, decimalText, canonicalTimeZone, Violations } from '@park/domain-primitives';

// The vocabulary of commodities and roles is metering's contract, shared with its consumers.
export { COMMODITIES, METER_ROLES, type Commodity, type MeterRole } from '@park/metering-events';
import { COMMODITIES, METER_ROLES, type Commodity, type MeterRole } from '@park/metering-events';

export const METER_UNITS = ['kWh', 'MWh', 'Nm3', 'GJ', 'MJ', 't', 'm3', 'kg', '%'] as const;
export type MeterUnit = (typeof METER_UNITS)[number];

export const REGISTER_TYPES = ['cumulative', 'interval'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/**
 * Units a commodity may be metered in, each with its size relative to the first. Readings in
 * another unit of the same commodity are converted exactly (powers of ten); a unit from another
 * commodity is a wrong unit. Percent belongs to the storage state-of-charge channel alone.
 */
const UNIT_SCALES: Record<Commodity, Partial<Record<MeterUnit, string>>> = {
  electricity: { kWh: '1', MWh: '1000' },
  natural_gas: { Nm3: '1' },
  hydrogen: { Nm3: '1' },
  heat: { MJ: '1', GJ: '1000' },
  steam: { t: '1' },
  water: { m3: '1' },
  diesel: { kg: '1', t: '1000' },
};

const ELECTRICITY_ONLY_ROLES: readonly MeterRole[] = [
  'green_direct_line',
  'onsite_pv',
  'wind',
  'storage_charge',
  'storage_discharge',
  'storage_soc',
];

/** Rated power in kW converts to these commodities' units; gas, water and diesel have no spike check. */
const RATED_POWER_COMMODITIES: readonly Commodity[] = ['electricity', 'heat', 'steam'];

export const DEFAULT_ELECTRICITY_INTERVAL_MINUTES = 15;
export const DEFAULT_OTHER_INTERVAL_MINUTES = 60;
export const DAILY_INTERVAL_MINUTES = 1440;

/** A meter's registration as the meter stream keeps it; decimals are canonical strings. */
export interface MeterRegistration {
  meterId: string;
  parkId: string;
  enterpriseId: string;
  installationId?: string;
  /** The park's zone, copied at registration: daily meters align to its midnights. */
  timeZone: string;
  commodity: Commodity;
  role: MeterRole;
  /** green_direct_line: the generator wired to the consumer. */
  sourceGeneratorId?: string;
  /** internal_transfer: the park entity that supplies the energy. */
  sourceEntityId?: string;
  unit: MeterUnit;
  /** steam: GJ per tonne, to turn t into energy. */
  enthalpyGjPerTonne?: string;
  registerType: RegisterType;
  /**
   * cumulative only: the value at which the register wraps to zero (100000 for a 5-digit
   * register), so a wrap from prev to new advanced by registerMaximum - prev + new.
   */
  registerMaximum?: string;
  /** CT/PT ratio: raw meter values times this are the primary-side quantity. */
  multiplier: string;
  ratedPowerKw?: string;
  intervalMinutes: number;
  /** The physical meter's serial; a replacement changes it, the meter id stays. */
  serialNumber?: string;
}

/** A meter's whole registry state after an event (registry topic records carry it). */
export interface MeterSnapshot {
  /** The current registration: after a replacement, the new meter's serial, multiplier and maximum. */
  registration: MeterRegistration;
  /** When the meter was registered, where the event's decider knows it. */
  registeredAt?: string;
}

/** What every reading event carries, so consumers need no join with the registry. */
export interface MeterDescriptor {
  meterId: string;
  parkId: string;
  enterpriseId: string;
  installationId?: string;
  commodity: Commodity;
  role: MeterRole;
  unit: MeterUnit;
  intervalMinutes: number;
  sourceGeneratorId?: string;
  sourceEntityId?: string;
  enthalpyGjPerTonne?: string;
}

export interface RegisterMeter {
  type: 'RegisterMeter';
  meterId: string;
  parkId: string;
  enterpriseId: string;
  installationId?: string;
  /** The park's time zone (the adapter copies it from the park). */
  timeZone: string;
  commodity: string;
  role: string;
  sourceGeneratorId?: string;
  sourceEntityId?: string;
  unit: string;
  enthalpyGjPerTonne?: string;
  registerType: string;
  registerMaximum?: string;
  /** Defaults to "1". */
  multiplier?: string;
  ratedPowerKw?: string;
  /** Defaults to 15 for electricity and 60 otherwise. */
  intervalMinutes?: number;
  serialNumber?: string;
}

export function validateMeterRegistration(command: RegisterMeter): MeterRegistration {
  const v = new Violations();
  const meterId = v.requiredText('meter_id', command.meterId, 64);
  const parkId = v.requiredText('park_id', command.parkId, 64);
  const enterpriseId = v.requiredText('enterprise_id', command.enterpriseId, 64);
  const installationId = v.optionalText('installation_id', command.installationId, 64);
  const timeZone = canonicalTimeZone(command.timeZone);
  if (!timeZone) v.add('time_zone', `'${command.timeZone}' is not an IANA time zone name`);
  const commodity = v.oneOf('commodity', command.commodity, COMMODITIES);
  const role = v.oneOf('role', command.role, METER_ROLES);
  const registerType = v.oneOf('register_type', command.registerType, REGISTER_TYPES);
  const unit = v.oneOf('unit', command.unit, METER_UNITS);

  if (commodity && role) {
    if (ELECTRICITY_ONLY_ROLES.includes(role) && commodity !== 'electricity') {
      v.add('role', `${role} meters measure electricity, not ${commodity}`);
    }
    if (role === 'grid_export' && !['electricity', 'heat', 'steam'].includes(commodity)) {
      v.add('role', `grid_export applies to electricity, heat and steam, not ${commodity}`);
    }
    if (role === 'grid_import' && commodity === 'diesel') {
      v.add('role', 'diesel is delivered, not imported from a grid: use sub_meter');
    }
  }
  if (commodity && unit) {
    if (role === 'storage_soc') {
      if (unit !== '%') v.add('unit', 'a storage state-of-charge channel is metered in %');
    } else if (UNIT_SCALES[commodity][unit] === undefined) {
      v.add(
        'unit',
        `${commodity} is metered in ${Object.keys(UNIT_SCALES[commodity]).join(' or ')}`,
      );
    }
  }
  if (role === 'storage_soc' && registerType === 'cumulative') {
    v.add('register_type', 'a state of charge is a level, not a counter: use interval');
  }

  const serialNumber = v.optionalText('serial_number', command.serialNumber, 64);
  const sourceGeneratorId = v.optionalText('source_generator_id', command.sourceGeneratorId, 64);
  if (role === 'green_direct_line' && !sourceGeneratorId) {
    v.add('source_generator_id', 'a green direct line names its source generator');
  }
  if (role && role !== 'green_direct_line' && sourceGeneratorId) {
    v.add('source_generator_id', 'only green_direct_line meters have a source generator');
  }
  const sourceEntityId = v.optionalText('source_entity_id', command.sourceEntityId, 64);
  if (role === 'internal_transfer' && !sourceEntityId) {
    v.add('source_entity_id', 'an internal transfer names the park entity that supplies it');
  }
  if (role && role !== 'internal_transfer' && sourceEntityId) {
    v.add('source_entity_id', 'only internal_transfer meters have a source entity');
  }

  let enthalpy: string | undefined;
  if (commodity === 'steam') {
    const parsed = v.positiveDecimal('enthalpy_gj_per_tonne', command.enthalpyGjPerTonne);
    enthalpy = parsed && decimalText(parsed);
  } else if (command.enthalpyGjPerTonne !== undefined) {
    v.add('enthalpy_gj_per_tonne', 'only steam meters carry an enthalpy');
  }

  let registerMaximum: string | undefined;
  if (command.registerMaximum !== undefined) {
    if (registerType === 'interval') {
      v.add('register_maximum', 'only cumulative registers roll over');
    } else {
      const parsed = v.positiveDecimal('register_maximum', command.registerMaximum);
      registerMaximum = parsed && decimalText(parsed);
    }
  }

  let multiplier = '1';
  if (command.multiplier !== undefined) {
    const parsed = v.positiveDecimal('multiplier', command.multiplier);
    if (parsed) multiplier = decimalText(parsed);
    if (parsed && role === 'storage_soc' && !parsed.eq(1)) {
      v.add('multiplier', 'a state-of-charge percentage has no CT/PT multiplier');
    }
  }

  let ratedPowerKw: string | undefined;
  if (command.ratedPowerKw !== undefined) {
    if (commodity && (!RATED_POWER_COMMODITIES.includes(commodity) || role === 'storage_soc')) {
      v.add('rated_power_kw', 'rated power applies to electricity, heat and steam meters');
    } else {
      const parsed = v.positiveDecimal('rated_power_kw', command.ratedPowerKw);
      ratedPowerKw = parsed && decimalText(parsed);
    }
  }

  const intervalMinutes =
    command.intervalMinutes ??
    (commodity === 'electricity'
      ? DEFAULT_ELECTRICITY_INTERVAL_MINUTES
      : DEFAULT_OTHER_INTERVAL_MINUTES);
  if (!isValidIntervalLength(intervalMinutes)) {
    v.add('interval_minutes', 'must divide 60 (1, 5, 15, 30, 60, ...) or be 1440 (daily)');
  }

  v.throwIfAny();
  return withoutUndefined({
    meterId: meterId!,
    parkId: parkId!,
    enterpriseId: enterpriseId!,
    installationId,
    timeZone: timeZone!,
    commodity: commodity!,
    role: role!,
    sourceGeneratorId,
    sourceEntityId,
    unit: unit!,
    enthalpyGjPerTonne: enthalpy,
    registerType: registerType!,
    registerMaximum,
    multiplier,
    ratedPowerKw,
    intervalMinutes,
    serialNumber,
  });
}

export function isValidIntervalLength(minutes: unknown): minutes is number {
  return (
    typeof minutes === 'number' &&
    Number.isInteger(minutes) &&
    ((minutes >= 1 && 60 % minutes === 0) || minutes === DAILY_INTERVAL_MINUTES)
  );
}

export function descriptorOf(registration: MeterRegistration): MeterDescriptor {
  return withoutUndefined({
    meterId: registration.meterId,
    parkId: registration.parkId,
    enterpriseId: registration.enterpriseId,
    installationId: registration.installationId,
    commodity: registration.commodity,
    role: registration.role,
    unit: registration.unit,
    intervalMinutes: registration.intervalMinutes,
    sourceGeneratorId: registration.sourceGeneratorId,
    sourceEntityId: registration.sourceEntityId,
    enthalpyGjPerTonne: registration.enthalpyGjPerTonne,
  });
}

/** A quantity in `unit` expressed in the meter's unit, or undefined when the unit does not fit. */
export function toMeterUnit(
  value: Dec,
  unit: unknown,
  registration: Pick<MeterRegistration, 'commodity' | 'role' | 'unit'>,
): Dec | undefined {
  if (unit === registration.unit) return value;
  if (registration.role === 'storage_soc' || typeof unit !== 'string') return undefined;
  const scales = UNIT_SCALES[registration.commodity];
  // Own keys only: a unit such as "constructor" or "toString" must not find Object.prototype's.
  const from = Object.hasOwn(scales, unit) ? scales[unit as MeterUnit] : undefined;
  const to = scales[registration.unit];
  if (from === undefined || to === undefined) return undefined;
  return value.mul(from).div(to);
}

/**
 * The most the meter can physically pass in one interval, in its unit after the multiplier:
 * rated power x interval length, converted (1 kWh = 3.6 MJ; steam through its enthalpy).
 * Undefined where there is no rated power to check against.
 */
export function spikeLimit(registration: MeterRegistration): Dec | undefined {
  if (registration.ratedPowerKw === undefined) return undefined;
  const kwh = new Dec(registration.ratedPowerKw).mul(registration.intervalMinutes).div(60);
  switch (registration.unit) {
    case 'kWh':
      return kwh;
    case 'MWh':
      return kwh.div(1000);
    case 'MJ':
      return kwh.mul('3.6');
    case 'GJ':
      return kwh.mul('0.0036');
    case 't':
      return registration.enthalpyGjPerTonne === undefined
        ? undefined
        : kwh.mul('0.0036').div(registration.enthalpyGjPerTonne);
    default:
      return undefined;
  }
}

export interface ReplaceMeter {
  type: 'ReplaceMeter';
  meterId: string;
  /** The swap instant, on an interval boundary: the old register closes and the new one opens. */
  at: string;
  now: string;
  /** cumulative: the old register's last value, read at the swap. */
  oldFinalRegister?: string;
  /** cumulative: the new register's value at the swap (rarely exactly 0). */
  newFirstRegister?: string;
  /** The new meter's CT/PT multiplier and rollover value; the old ones when absent. */
  multiplier?: string;
  registerMaximum?: string;
  /** The new physical meter's serial number. */
  newSerialNumber?: string;
}

export interface DecommissionMeter {
  type: 'DecommissionMeter';
  meterId: string;
  /** Readings for intervals ending after this instant are rejected; earlier late data is kept. */
  at: string;
}

export function withoutUndefined<T extends object>(value: T): T {
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) result[key] = v;
  }
  return result as T;
}
