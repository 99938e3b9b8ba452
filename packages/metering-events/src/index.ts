import { park } from '@park/contracts';
import { decodePayload, PermanentMessageError } from '@park/messaging';

export const COMMODITIES = [
  'electricity',
  'natural_gas',
  'heat',
  'steam',
  'water',
  'diesel',
  'hydrogen',
] as const;
export type Commodity = (typeof COMMODITIES)[number];

export const METER_ROLES = [
  'grid_import',
  'grid_export',
  'green_direct_line',
  'onsite_pv',
  'wind',
  'storage_charge',
  'storage_discharge',
  'storage_soc',
  'internal_transfer',
  'sub_meter',
] as const;
export type MeterRole = (typeof METER_ROLES)[number];

/** Units as metering publishes them (a reading's unit is its meter's unit). */
export type EnergyUnit = 'kWh' | 'MWh' | 'Nm3' | 'GJ' | 'MJ' | 't' | 'kg' | 'm3' | '%';

export type Quality = 'measured' | 'estimated' | 'edited';

/** What a meter's reading is, as the readings topic describes it. */
export interface MeterFacts {
  meterId: string;
  enterpriseId: string;
  commodity: Commodity;
  role: MeterRole;
  unit: EnergyUnit;
  /** Direct-line, on-site PV and wind meters: the generating plant. */
  sourceGeneratorId?: string;
  /** Internal-transfer meters: the park entity (enterprise id) that supplies the energy. */
  sourceEntityId?: string;
  /** Steam meters: GJ per tonne, from the registry topic. */
  steamEnthalpyGjPerTonne?: string;
}

/** The topics these decoders read; names and keys are the producing services' contracts. */
export const METERING_REGISTRY_TOPIC = 'park.metering.registry.v1';
export const METERING_READINGS_TOPIC = 'park.metering.readings.v1';
export const GREEN_ALLOCATIONS_TOPIC = 'park.dispatch.green-allocations.v1';

const metering = park.metering.v1;

const COMMODITY: Record<number, Commodity> = {
  [metering.Commodity.COMMODITY_ELECTRICITY]: 'electricity',
  [metering.Commodity.COMMODITY_NATURAL_GAS]: 'natural_gas',
  [metering.Commodity.COMMODITY_HEAT]: 'heat',
  [metering.Commodity.COMMODITY_STEAM]: 'steam',
  [metering.Commodity.COMMODITY_WATER]: 'water',
  [metering.Commodity.COMMODITY_DIESEL]: 'diesel',
  [metering.Commodity.COMMODITY_HYDROGEN]: 'hydrogen',
};

const ROLE: Record<number, MeterRole> = {
  [metering.MeterRole.METER_ROLE_GRID_IMPORT]: 'grid_import',
  [metering.MeterRole.METER_ROLE_GRID_EXPORT]: 'grid_export',
  [metering.MeterRole.METER_ROLE_GREEN_DIRECT_LINE]: 'green_direct_line',
  [metering.MeterRole.METER_ROLE_ONSITE_PV]: 'onsite_pv',
  [metering.MeterRole.METER_ROLE_WIND]: 'wind',
  [metering.MeterRole.METER_ROLE_STORAGE_CHARGE]: 'storage_charge',
  [metering.MeterRole.METER_ROLE_STORAGE_DISCHARGE]: 'storage_discharge',
  [metering.MeterRole.METER_ROLE_STORAGE_STATE_OF_CHARGE]: 'storage_soc',
  [metering.MeterRole.METER_ROLE_INTERNAL_TRANSFER]: 'internal_transfer',
  [metering.MeterRole.METER_ROLE_SUB_METER]: 'sub_meter',
};

const UNIT: Record<number, EnergyUnit> = {
  [park.common.v1.Unit.UNIT_KWH]: 'kWh',
  [park.common.v1.Unit.UNIT_MWH]: 'MWh',
  [park.common.v1.Unit.UNIT_NM3]: 'Nm3',
  [park.common.v1.Unit.UNIT_GJ]: 'GJ',
  [park.common.v1.Unit.UNIT_MJ]: 'MJ',
  [park.common.v1.Unit.UNIT_TONNE]: 't',
  [park.common.v1.Unit.UNIT_KG]: 'kg',
  [park.common.v1.Unit.UNIT_M3]: 'm3',
  [park.common.v1.Unit.UNIT_PERCENT]: '%',
};

const QUALITY: Record<number, Quality> = {
  [metering.Quality.QUALITY_MEASURED]: 'measured',
  [metering.Quality.QUALITY_ESTIMATED]: 'estimated',
  [metering.Quality.QUALITY_EDITED]: 'edited',
};

function known<T>(table: Record<number, T>, value: number, what: string): T {
  const mapped = table[value];
  if (mapped === undefined) throw new PermanentMessageError(`unknown ${what} ${value}`);
  return mapped;
}

export function meterFacts(descriptor: park.metering.v1.MeterDescriptor | undefined): MeterFacts {
  if (!descriptor?.meterId || !descriptor.enterpriseId) {
    throw new PermanentMessageError('reading event without its meter descriptor');
  }
  return {
    meterId: descriptor.meterId,
    enterpriseId: descriptor.enterpriseId,
    commodity: known(COMMODITY, descriptor.commodity, 'commodity'),
    role: known(ROLE, descriptor.role, 'meter role'),
    unit: known(UNIT, descriptor.unit, 'unit'),
    sourceGeneratorId: descriptor.sourceGeneratorId || undefined,
    sourceEntityId: descriptor.sourceEntityId || undefined,
  };
}

export interface IntervalReading {
  intervalStart: string;
  value: string;
  quality: Quality;
  source: string;
}

function intervalReading(value: park.metering.v1.IntervalValue): IntervalReading {
  if (!value.intervalStart || !value.value?.value) {
    throw new PermanentMessageError('interval value without its start or value');
  }
  return {
    intervalStart: value.intervalStart.toISOString(),
    value: value.value.value,
    quality: known(QUALITY, value.quality, 'quality'),
    source: value.source,
  };
}

export type ReadingCause = 'reading' | 'estimate' | 'correction';

/** A readings-topic record as this service accounts it; undefined for records it does not use. */
export interface MeteredValues {
  meter: MeterFacts;
  cause: ReadingCause;
  readings: IntervalReading[];
  /** A correction of a published value: the value and quality it replaces. */
  replaced?: { value: string; quality: Quality };
}

export function decodeReadingsRecord(type: string, value: Uint8Array): MeteredValues | undefined {
  switch (type) {
    case 'park.metering.v1.ReadingsRecorded': {
      const event = decodePayload(metering.ReadingsRecorded, type, value);
      return {
        meter: meterFacts(event.meter),
        cause: 'reading',
        readings: event.readings.map(intervalReading),
      };
    }
    case 'park.metering.v1.ReadingsEstimated': {
      const event = decodePayload(metering.ReadingsEstimated, type, value);
      return {
        meter: meterFacts(event.meter),
        cause: 'estimate',
        readings: event.readings.map(intervalReading),
      };
    }
    case 'park.metering.v1.ReadingCorrected': {
      const event = decodePayload(metering.ReadingCorrected, type, value);
      if (!event.newValue) throw new PermanentMessageError('ReadingCorrected without new_value');
      return {
        meter: meterFacts(event.meter),
        cause: 'correction',
        readings: [intervalReading(event.newValue)],
        // Empty old_value: a held value accepted, which had no published value before.
        ...(event.oldValue?.value
          ? {
              replaced: {
                value: event.oldValue.value,
                quality: QUALITY[event.oldQuality] ?? 'measured',
              },
            }
          : {}),
      };
    }
    case 'park.metering.v1.GapDetected':
      return undefined;
    default:
      throw new PermanentMessageError(`'${type}' is not a metering readings event`);
  }
}

/** Registry facts this service keeps (its mirror of metering's compacted topic). */
export type RegistryFact =
  | {
      kind: 'park';
      parkId: string;
      timeZone: string;
      gridRegion: string;
      sizeBand: string;
      latitude: string;
      longitude: string;
    }
  | {
      kind: 'enterprise';
      enterpriseId: string;
      parkId: string;
      name: string;
      energyUsing: boolean;
      exporter: boolean;
    }
  | {
      kind: 'meter';
      meter: MeterFacts;
      steamEnthalpyGjPerTonne?: string;
      /** Minutes per interval (15 for electricity by default). */
      intervalMinutes: number;
      /** False once the meter is decommissioned. */
      active: boolean;
    }
  | { kind: 'installation'; installationId: string; enterpriseId: string; name: string };

const SIZE_BAND: Record<number, string> = {
  [metering.SizeBand.SIZE_BAND_BELOW_200K_TCE]: 'below_200k_tce',
  [metering.SizeBand.SIZE_BAND_200K_TO_1M_TCE]: '200k_to_1m_tce',
  [metering.SizeBand.SIZE_BAND_ABOVE_1M_TCE]: 'above_1m_tce',
};

function meterFact(
  meter: park.metering.v1.Meter | undefined,
  decommissioned = false,
): RegistryFact {
  if (!meter) throw new PermanentMessageError('meter event without its meter');
  return {
    kind: 'meter',
    meter: meterFacts({
      meterId: meter.meterId,
      enterpriseId: meter.enterpriseId,
      commodity: meter.commodity,
      role: meter.role,
      unit: meter.unit,
      intervalMinutes: meter.intervalMinutes,
      sourceGeneratorId: meter.sourceGeneratorId,
      sourceEntityId: meter.sourceEntityId,
    }),
    steamEnthalpyGjPerTonne: meter.steamEnthalpyGjPerTonne?.value,
    intervalMinutes: meter.intervalMinutes || 15,
    active: !decommissioned && meter.status !== metering.MeterStatus.METER_STATUS_DECOMMISSIONED,
  };
}

function enterpriseFact(enterprise: park.metering.v1.Enterprise | undefined): RegistryFact {
  if (!enterprise) throw new PermanentMessageError('enterprise event without its enterprise');
  return {
    kind: 'enterprise',
    enterpriseId: enterprise.enterpriseId,
    parkId: enterprise.parkId,
    name: enterprise.name,
    energyUsing: enterprise.energyUsing,
    exporter: enterprise.exporter,
  };
}

export function decodeRegistryRecord(type: string, value: Uint8Array): RegistryFact {
  switch (type) {
    case 'park.metering.v1.ParkConfigured': {
      const parkState = decodePayload(metering.ParkConfigured, type, value).park;
      if (!parkState) throw new PermanentMessageError('ParkConfigured without its park');
      return {
        kind: 'park',
        parkId: parkState.parkId,
        timeZone: parkState.timeZone,
        gridRegion: parkState.gridRegion,
        sizeBand: SIZE_BAND[parkState.sizeBand] ?? 'below_200k_tce',
        latitude: parkState.latitude?.value ?? '0',
        longitude: parkState.longitude?.value ?? '0',
      };
    }
    case 'park.metering.v1.EnterpriseRegistered':
      return enterpriseFact(decodePayload(metering.EnterpriseRegistered, type, value).enterprise);
    case 'park.metering.v1.EnterpriseUpdated':
      return enterpriseFact(decodePayload(metering.EnterpriseUpdated, type, value).enterprise);
    case 'park.metering.v1.MeterRegistered':
      return meterFact(decodePayload(metering.MeterRegistered, type, value).meter);
    case 'park.metering.v1.MeterReplaced':
      return meterFact(decodePayload(metering.MeterReplaced, type, value).meter);
    case 'park.metering.v1.MeterDecommissioned':
      return meterFact(decodePayload(metering.MeterDecommissioned, type, value).meter, true);
    case 'park.metering.v1.InstallationRegistered': {
      const installation = decodePayload(metering.InstallationRegistered, type, value).installation;
      if (!installation?.installationId || !installation.enterpriseId) {
        throw new PermanentMessageError('InstallationRegistered without its installation');
      }
      return {
        kind: 'installation',
        installationId: installation.installationId,
        enterpriseId: installation.enterpriseId,
        name: installation.name,
      };
    }
    default:
      throw new PermanentMessageError(`'${type}' is not a metering registry event`);
  }
}

export interface GreenAllocation {
  parkId: string;
  lineId: string;
  generatorId: string;
  enterpriseId: string;
  meterId?: string;
  intervalStart: string;
  allocatedKwh: string;
  revision: bigint;
}

export function decodeAllocationRecord(type: string, value: Uint8Array): GreenAllocation {
  if (type !== 'park.dispatch.v1.GreenPowerAllocated') {
    throw new PermanentMessageError(`'${type}' is not a green allocation event`);
  }
  const event = decodePayload(park.dispatch.v1.GreenPowerAllocated, type, value);
  if (!event.enterpriseId || !event.generatorId || !event.intervalStart || !event.allocatedKwh) {
    throw new PermanentMessageError(
      'GreenPowerAllocated needs enterprise_id, generator_id, interval_start and allocated_kwh',
    );
  }
  return {
    parkId: event.parkId,
    lineId: event.lineId,
    generatorId: event.generatorId,
    enterpriseId: event.enterpriseId,
    meterId: event.meterId || undefined,
    intervalStart: event.intervalStart.toISOString(),
    allocatedKwh: event.allocatedKwh.value,
    revision: event.revision,
  };
}
