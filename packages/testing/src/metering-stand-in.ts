import { randomUUID } from 'node:crypto';
import { park } from '@park/contracts';
import { cloudEventRecord, type MessageProducer } from '@park/messaging';

/**
 * A stand-in for the metering service's relay in tests of the services that consume its topics:
 * registry and readings records encoded as metering publishes them, with CloudEvents headers.
 */
const metering = park.metering.v1;
const Unit = park.common.v1.Unit;

export interface MeterSpec {
  meterId: string;
  enterpriseId: string;
  commodity: park.metering.v1.Commodity;
  role: park.metering.v1.MeterRole;
  unit: park.common.v1.Unit;
  sourceGeneratorId?: string;
  sourceEntityId?: string;
  steamEnthalpyGjPerTonne?: string;
}

export type Publish = (
  topic: string,
  key: string,
  type: string,
  payload: Uint8Array,
  id?: string,
) => Promise<string>;

/** Publishes one record as a relay would (ce_id, ce_type, protobuf payload); answers its id. */
export function recordPublisher(producer: MessageProducer): Publish {
  return async (topic, key, type, payload, id = randomUUID()) => {
    await producer.send([
      cloudEventRecord({ topic, key, type, payload, id, source: '//park/test' }),
    ]);
    return id;
  };
}

function descriptor(meter: MeterSpec): park.metering.v1.MeterDescriptor {
  return {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    commodity: meter.commodity,
    role: meter.role,
    unit: meter.unit,
    intervalMinutes: 15,
    sourceGeneratorId: meter.sourceGeneratorId ?? '',
    sourceEntityId: meter.sourceEntityId ?? '',
  };
}

export interface MeteringStandIn {
  publishPark(parkId: string, options?: { timeZone?: string; gridRegion?: string }): Promise<void>;
  publishEnterprise(enterpriseId: string, parkId: string, name?: string): Promise<void>;
  publishMeter(meter: MeterSpec): Promise<void>;
  /** ReadingsRecorded of one meter: [interval start ISO, value] pairs. Returns the event id. */
  publishReadings(
    meter: MeterSpec,
    readings: [string, string][],
    quality?: park.metering.v1.Quality,
  ): Promise<string>;
  publishCorrection(
    meter: MeterSpec,
    intervalStart: string,
    oldValue: string,
    newValue: string,
  ): Promise<string>;
  /** ReadingsEstimated: values metering filled across a short gap. */
  publishEstimates(meter: MeterSpec, readings: [string, string][]): Promise<string>;
  /** GapDetected: a gap too long to estimate, intervals starting in [start, end). */
  publishGap(
    meter: MeterSpec,
    gap: { start: string; end: string; missingIntervals: number },
  ): Promise<string>;
  /** InstallationRegistered: an enterprise's installation (CBAM). */
  publishInstallation(installation: {
    installationId: string;
    enterpriseId: string;
    name: string;
  }): Promise<string>;
}

/** Metering's registry and readings records on the given (test-prefixed) topics. */
export function meteringStandIn(
  publish: Publish,
  topics: { registry: string; readings: string },
): MeteringStandIn {
  return {
    async publishPark(parkId, options = {}) {
      await publish(
        topics.registry,
        parkId,
        'park.metering.v1.ParkConfigured',
        metering.ParkConfigured.encode({
          park: {
            parkId,
            name: parkId,
            timeZone: options.timeZone ?? 'Asia/Shanghai',
            latitude: { value: '41.8' },
            longitude: { value: '123.4' },
            gridRegion: options.gridRegion ?? 'northeast_china',
            sizeBand: metering.SizeBand.SIZE_BAND_BELOW_200K_TCE,
          },
        }).finish(),
      );
    },
    async publishEnterprise(enterpriseId, parkId, name = enterpriseId) {
      await publish(
        topics.registry,
        enterpriseId,
        'park.metering.v1.EnterpriseRegistered',
        metering.EnterpriseRegistered.encode({
          enterprise: {
            enterpriseId,
            parkId,
            name,
            creditCode: '91210106MA0Y5K7R5J',
            industryCode: 'C3120',
            exporter: true,
            energyUsing: true,
            keyEnergyConsumingUnit: false,
          },
        }).finish(),
      );
    },
    async publishMeter(meter) {
      await publish(
        topics.registry,
        meter.meterId,
        'park.metering.v1.MeterRegistered',
        metering.MeterRegistered.encode({
          meter: {
            ...descriptor(meter),
            registerType: metering.RegisterType.REGISTER_TYPE_INTERVAL,
            registerMaximum: undefined,
            multiplier: { value: '1' },
            ratedPowerKw: undefined,
            steamEnthalpyGjPerTonne: meter.steamEnthalpyGjPerTonne
              ? { value: meter.steamEnthalpyGjPerTonne }
              : undefined,
            status: metering.MeterStatus.METER_STATUS_ACTIVE,
            registeredAt: new Date(),
            serialNumber: '',
          },
        }).finish(),
      );
    },
    publishReadings(meter, readings, quality = metering.Quality.QUALITY_MEASURED) {
      return publish(
        topics.readings,
        meter.meterId,
        'park.metering.v1.ReadingsRecorded',
        metering.ReadingsRecorded.encode({
          meter: descriptor(meter),
          readings: readings.map(([start, value]) => ({
            intervalStart: new Date(start),
            value: { value },
            quality,
            source: 'gateway:test',
          })),
        }).finish(),
      );
    },
    publishCorrection(meter, intervalStart, oldValue, newValue) {
      return publish(
        topics.readings,
        meter.meterId,
        'park.metering.v1.ReadingCorrected',
        metering.ReadingCorrected.encode({
          meter: descriptor(meter),
          intervalStart: new Date(intervalStart),
          oldValue: { value: oldValue },
          oldQuality: metering.Quality.QUALITY_MEASURED,
          newValue: {
            intervalStart: new Date(intervalStart),
            value: { value: newValue },
            quality: metering.Quality.QUALITY_EDITED,
            source: 'operator:test',
          },
          reason: 'test correction',
        }).finish(),
      );
    },
    publishEstimates(meter, readings) {
      return publish(
        topics.readings,
        meter.meterId,
        'park.metering.v1.ReadingsEstimated',
        metering.ReadingsEstimated.encode({
          meter: descriptor(meter),
          readings: readings.map(([start, value]) => ({
            intervalStart: new Date(start),
            value: { value },
            quality: metering.Quality.QUALITY_ESTIMATED,
            source: 'estimation',
          })),
          method: 'interpolated',
        }).finish(),
      );
    },
    publishGap(meter, gap) {
      return publish(
        topics.readings,
        meter.meterId,
        'park.metering.v1.GapDetected',
        metering.GapDetected.encode({
          meter: descriptor(meter),
          gapStart: new Date(gap.start),
          gapEnd: new Date(gap.end),
          missingIntervals: gap.missingIntervals,
        }).finish(),
      );
    },
    publishInstallation(installation) {
      return publish(
        topics.registry,
        installation.installationId,
        'park.metering.v1.InstallationRegistered',
        metering.InstallationRegistered.encode({
          installation: { ...installation, meterIds: [] },
        }).finish(),
      );
    },
  };
}

/** A meter of a common kind: commodity, role and unit as metering registers them. */
export function meterSpec(
  meterId: string,
  enterpriseId: string,
  kind: 'grid' | 'direct_line' | 'pv' | 'gas' | 'heat' | 'internal_heat' | 'steam' | 'soc' | 'wind',
  extra: Partial<MeterSpec> = {},
): MeterSpec {
  const C = metering.Commodity;
  const R = metering.MeterRole;
  const table: Record<typeof kind, Omit<MeterSpec, 'meterId' | 'enterpriseId'>> = {
    grid: {
      commodity: C.COMMODITY_ELECTRICITY,
      role: R.METER_ROLE_GRID_IMPORT,
      unit: Unit.UNIT_KWH,
    },
    direct_line: {
      commodity: C.COMMODITY_ELECTRICITY,
      role: R.METER_ROLE_GREEN_DIRECT_LINE,
      unit: Unit.UNIT_KWH,
    },
    pv: { commodity: C.COMMODITY_ELECTRICITY, role: R.METER_ROLE_ONSITE_PV, unit: Unit.UNIT_KWH },
    gas: {
      commodity: C.COMMODITY_NATURAL_GAS,
      role: R.METER_ROLE_GRID_IMPORT,
      unit: Unit.UNIT_NM3,
    },
    heat: { commodity: C.COMMODITY_HEAT, role: R.METER_ROLE_GRID_IMPORT, unit: Unit.UNIT_GJ },
    internal_heat: {
      commodity: C.COMMODITY_HEAT,
      role: R.METER_ROLE_INTERNAL_TRANSFER,
      unit: Unit.UNIT_GJ,
    },
    steam: { commodity: C.COMMODITY_STEAM, role: R.METER_ROLE_GRID_IMPORT, unit: Unit.UNIT_TONNE },
    soc: {
      commodity: C.COMMODITY_ELECTRICITY,
      role: R.METER_ROLE_STORAGE_STATE_OF_CHARGE,
      unit: Unit.UNIT_PERCENT,
    },
    wind: { commodity: C.COMMODITY_ELECTRICITY, role: R.METER_ROLE_WIND, unit: Unit.UNIT_KWH },
  };
  return { meterId, enterpriseId, ...table[kind], ...extra };
}
