import { park } from '@park/contracts';
import { toDomainEvent, type RecordedEvent } from '@park/eventstore';
import type { IntegrationEventMapper, IntegrationMessage } from '@park/messaging';
import type { MeterEvent } from '../readings/model';
import type { EnterpriseEvent, EnterpriseSnapshot } from '../registry/enterprise';
import type { InstallationEvent } from '../registry/installation';
import type {
  MeterDescriptor,
  MeterRegistration,
  MeterSnapshot,
} from '../registry/meter-registration';
import type { ParkEvent } from '../registry/park';
import {
  commodityToProto,
  estimationMethodToProto,
  meterRoleToProto,
  qualityToProto,
  registerTypeToProto,
  sizeBandToProto,
  unitToProto,
} from './enums';
import { METERING_READINGS_TOPIC, METERING_REGISTRY_TOPIC } from './topics';

const v1 = park.metering.v1;

export type { EnterpriseSnapshot, MeterSnapshot };

/**
 * Registry topics carry each entity's whole state, but the domain's update events carry what
 * changed. The mapper is synchronous and sees one event, so the deciders put the state after the
 * event in these fields; an event without it (stored before they did) is an error, never
 * published half-empty to a compacted topic.
 */
export interface RegistryStateFields {
  EnterpriseUpdated: { enterprise: EnterpriseSnapshot };
  MeterReplaced: { current: MeterSnapshot };
  MeterDecommissioned: { current: MeterSnapshot };
}

/** Every event the metering event store holds. */
export type MeteringDomainEvent = MeterEvent | ParkEvent | EnterpriseEvent | InstallationEvent;

export class UnknownMeteringEventError extends Error {
  override readonly name = 'UnknownMeteringEventError';
}

export class RegistryStateMissingError extends Error {
  override readonly name = 'RegistryStateMissingError';
}

interface Message<T> {
  encode(message: T): { finish(): Uint8Array };
}

function message<T>(
  topic: string,
  key: string,
  name: string,
  fns: Message<T>,
  payload: T,
): IntegrationMessage {
  return { topic, key, type: `park.metering.v1.${name}`, payload: fns.encode(payload).finish() };
}

const decimal = (value: string): park.common.v1.Decimal => ({ value });
const optionalDecimal = (value: string | undefined): park.common.v1.Decimal | undefined =>
  value === undefined ? undefined : decimal(value);
const timestamp = (iso: string): Date => new Date(iso);

export function meterDescriptorToProto(meter: MeterDescriptor): park.metering.v1.MeterDescriptor {
  return {
    meterId: meter.meterId,
    enterpriseId: meter.enterpriseId,
    commodity: commodityToProto(meter.commodity),
    role: meterRoleToProto(meter.role),
    unit: unitToProto(meter.unit),
    intervalMinutes: meter.intervalMinutes,
    sourceGeneratorId: meter.sourceGeneratorId ?? '',
    sourceEntityId: meter.sourceEntityId ?? '',
  };
}

export function meterToProto(
  registration: MeterRegistration,
  status: 'active' | 'decommissioned',
  registeredAt: string | Date | undefined,
): park.metering.v1.Meter {
  return {
    meterId: registration.meterId,
    enterpriseId: registration.enterpriseId,
    commodity: commodityToProto(registration.commodity),
    role: meterRoleToProto(registration.role),
    unit: unitToProto(registration.unit),
    registerType: registerTypeToProto(registration.registerType),
    registerMaximum: optionalDecimal(registration.registerMaximum),
    multiplier: decimal(registration.multiplier),
    ratedPowerKw: optionalDecimal(registration.ratedPowerKw),
    intervalMinutes: registration.intervalMinutes,
    steamEnthalpyGjPerTonne: optionalDecimal(registration.enthalpyGjPerTonne),
    sourceGeneratorId: registration.sourceGeneratorId ?? '',
    sourceEntityId: registration.sourceEntityId ?? '',
    status:
      status === 'active'
        ? v1.MeterStatus.METER_STATUS_ACTIVE
        : v1.MeterStatus.METER_STATUS_DECOMMISSIONED,
    registeredAt:
      registeredAt === undefined
        ? undefined
        : registeredAt instanceof Date
          ? registeredAt
          : timestamp(registeredAt),
    serialNumber: registration.serialNumber ?? '',
  };
}

export function enterpriseToProto(enterprise: EnterpriseSnapshot): park.metering.v1.Enterprise {
  return {
    enterpriseId: enterprise.enterpriseId,
    parkId: enterprise.parkId,
    name: enterprise.name,
    creditCode: enterprise.creditCode,
    industryCode: enterprise.industryCode,
    exporter: enterprise.exporter,
    energyUsing: enterprise.energyUsing,
    keyEnergyConsumingUnit: enterprise.keyEnergyConsumingUnit,
  };
}

function requireState<K extends keyof RegistryStateFields>(
  type: K,
  event: { type: K },
  field: keyof RegistryStateFields[K],
  streamId: string,
): RegistryStateFields[K] {
  const data = event as unknown as Partial<RegistryStateFields[K]>;
  if (data[field] === undefined) {
    throw new RegistryStateMissingError(
      `${type} in stream ${streamId} lacks '${String(field)}', the entity's state after it: ` +
        'the registry topic carries whole entities',
    );
  }
  return data as RegistryStateFields[K];
}

/**
 * Maps a stored metering event to its integration event (events.proto), or null for events
 * other services do not see (held readings, closed gaps). Registry events go to the compacted
 * registry topic keyed by the entity id, reading events to the readings topic keyed by meter id.
 * Decimals pass through as the strings the domain stored.
 */
export const meteringEventMapper: IntegrationEventMapper = (recorded: RecordedEvent) => {
  const event = toDomainEvent<MeteringDomainEvent>(recorded);
  switch (event.type) {
    case 'ParkConfigured':
      return registry(event.parkId, event.type, v1.ParkConfigured, {
        park: {
          parkId: event.parkId,
          name: event.name,
          timeZone: event.timeZone,
          latitude: decimal(String(event.latitude)),
          longitude: decimal(String(event.longitude)),
          gridRegion: event.gridRegion,
          sizeBand: sizeBandToProto(event.sizeBand),
        },
      });
    case 'EnterpriseRegistered': {
      const { type: _type, ...enterprise } = event;
      return registry(event.enterpriseId, event.type, v1.EnterpriseRegistered, {
        enterprise: enterpriseToProto(enterprise),
      });
    }
    case 'EnterpriseUpdated': {
      const { enterprise } = requireState(event.type, event, 'enterprise', recorded.streamId);
      return registry(event.enterpriseId, event.type, v1.EnterpriseUpdated, {
        enterprise: enterpriseToProto(enterprise),
      });
    }
    case 'InstallationRegistered':
      return registry(event.installationId, event.type, v1.InstallationRegistered, {
        installation: {
          installationId: event.installationId,
          enterpriseId: event.enterpriseId,
          name: event.name,
          meterIds: event.meterIds,
        },
      });
    case 'MeterRegistered': {
      const { type: _type, ...registration } = event;
      return registry(event.meterId, event.type, v1.MeterRegistered, {
        meter: meterToProto(registration, 'active', recorded.recordedAt),
      });
    }
    case 'MeterReplaced': {
      const { current } = requireState(event.type, event, 'current', recorded.streamId);
      return registry(event.meterId, event.type, v1.MeterReplaced, {
        meter: meterToProto(current.registration, 'active', current.registeredAt),
        oldSerialNumber: event.oldSerialNumber ?? '',
        oldFinalRegister: optionalDecimal(event.oldFinalRegister),
        newFirstRegister: optionalDecimal(event.newFirstRegister),
        replacedAt: timestamp(event.at),
      });
    }
    case 'MeterDecommissioned': {
      const { current } = requireState(event.type, event, 'current', recorded.streamId);
      return registry(event.meterId, event.type, v1.MeterDecommissioned, {
        meter: meterToProto(current.registration, 'decommissioned', current.registeredAt),
        decommissionedAt: timestamp(event.at),
      });
    }
    case 'ReadingsRecorded': {
      // A cumulative register without its predecessor has no interval value yet: not published.
      const readings = event.readings.flatMap((reading) =>
        reading.value === undefined
          ? []
          : [
              {
                intervalStart: timestamp(reading.intervalStart),
                value: decimal(reading.value),
                quality: qualityToProto(reading.quality),
                source: reading.source,
              },
            ],
      );
      if (readings.length === 0) return null;
      return readingsMessage(event.meter, event.type, v1.ReadingsRecorded, {
        meter: meterDescriptorToProto(event.meter),
        readings,
      });
    }
    case 'ReadingCorrected':
      return readingsMessage(event.meter, event.type, v1.ReadingCorrected, {
        meter: meterDescriptorToProto(event.meter),
        intervalStart: timestamp(event.intervalStart),
        oldValue: optionalDecimal(event.oldValue),
        oldQuality:
          event.oldQuality === undefined
            ? v1.Quality.QUALITY_UNSPECIFIED
            : qualityToProto(event.oldQuality),
        newValue: {
          intervalStart: timestamp(event.intervalStart),
          value: decimal(event.newValue),
          quality: qualityToProto(event.newQuality),
          source: event.source,
        },
        reason: event.reason,
      });
    case 'ReadingsEstimated':
      return readingsMessage(event.meter, event.type, v1.ReadingsEstimated, {
        meter: meterDescriptorToProto(event.meter),
        readings: event.readings.map((reading) => ({
          intervalStart: timestamp(reading.intervalStart),
          value: decimal(reading.value),
          quality: v1.Quality.QUALITY_ESTIMATED,
          source: 'estimation',
        })),
        method: estimationMethodToProto(event.method),
      });
    case 'GapDetected':
      return readingsMessage(event.meter, event.type, v1.GapDetected, {
        meter: meterDescriptorToProto(event.meter),
        gapStart: timestamp(event.start),
        gapEnd: timestamp(event.end),
        missingIntervals: event.missingIntervals,
      });
    // Internal to the service: a held value is published once accepted or corrected (as
    // ReadingCorrected or ReadingsRecorded with quality edited); a closed gap shows up as the
    // ReadingsRecorded that filled it.
    case 'ReadingsHeld':
    case 'HeldReadingResolved':
    case 'GapClosed':
      return null;
    default:
      return unknownEvent(event, recorded);
  }
};

function registry<T>(key: string, name: string, fns: Message<T>, payload: T) {
  return message(METERING_REGISTRY_TOPIC, key, name, fns, payload);
}

function readingsMessage<T>(meter: MeterDescriptor, name: string, fns: Message<T>, payload: T) {
  return message(METERING_READINGS_TOPIC, meter.meterId, name, fns, payload);
}

/**
 * Compile time: every domain event type is handled above. Run time: a stored type the mapper
 * does not know stops the relay rather than being skipped silently.
 */
function unknownEvent(_event: never, recorded: RecordedEvent): never {
  throw new UnknownMeteringEventError(
    `no integration mapping for event type '${recorded.type}' (stream ${recorded.streamId}, ` +
      `position ${recorded.globalPosition})`,
  );
}
