import { park } from '@park/contracts';

const v1 = park.metering.v1;

/** The integration events of the metering topics by CloudEvents type (ce_type). */
export interface MeteringMessages {
  'park.metering.v1.ParkConfigured': park.metering.v1.ParkConfigured;
  'park.metering.v1.EnterpriseRegistered': park.metering.v1.EnterpriseRegistered;
  'park.metering.v1.EnterpriseUpdated': park.metering.v1.EnterpriseUpdated;
  'park.metering.v1.InstallationRegistered': park.metering.v1.InstallationRegistered;
  'park.metering.v1.MeterRegistered': park.metering.v1.MeterRegistered;
  'park.metering.v1.MeterReplaced': park.metering.v1.MeterReplaced;
  'park.metering.v1.MeterDecommissioned': park.metering.v1.MeterDecommissioned;
  'park.metering.v1.ReadingsRecorded': park.metering.v1.ReadingsRecorded;
  'park.metering.v1.ReadingCorrected': park.metering.v1.ReadingCorrected;
  'park.metering.v1.ReadingsEstimated': park.metering.v1.ReadingsEstimated;
  'park.metering.v1.GapDetected': park.metering.v1.GapDetected;
}

const MESSAGES: {
  [T in keyof MeteringMessages]: { decode(input: Uint8Array): MeteringMessages[T] };
} = {
  'park.metering.v1.ParkConfigured': v1.ParkConfigured,
  'park.metering.v1.EnterpriseRegistered': v1.EnterpriseRegistered,
  'park.metering.v1.EnterpriseUpdated': v1.EnterpriseUpdated,
  'park.metering.v1.InstallationRegistered': v1.InstallationRegistered,
  'park.metering.v1.MeterRegistered': v1.MeterRegistered,
  'park.metering.v1.MeterReplaced': v1.MeterReplaced,
  'park.metering.v1.MeterDecommissioned': v1.MeterDecommissioned,
  'park.metering.v1.ReadingsRecorded': v1.ReadingsRecorded,
  'park.metering.v1.ReadingCorrected': v1.ReadingCorrected,
  'park.metering.v1.ReadingsEstimated': v1.ReadingsEstimated,
  'park.metering.v1.GapDetected': v1.GapDetected,
};

export type MeteringEventType = keyof MeteringMessages;

export type MeteringMessage<T extends MeteringEventType> = MeteringMessages[T];

/** A decoded record, discriminated by its type, for consumers that switch over it. */
export type DecodedMeteringEvent = {
  [T in MeteringEventType]: { type: T; message: MeteringMessage<T> };
}[MeteringEventType];

export const METERING_EVENT_TYPES = Object.keys(MESSAGES) as MeteringEventType[];

export class UnknownMeteringTypeError extends Error {
  override readonly name = 'UnknownMeteringTypeError';
}

export function isMeteringEventType(type: string): type is MeteringEventType {
  return Object.hasOwn(MESSAGES, type);
}

/**
 * Decodes a metering record's payload by its ce_type header. A type the metering contracts do
 * not define throws UnknownMeteringTypeError (a consumer dead-letters it).
 */
export function decodeMeteringEvent<T extends MeteringEventType>(
  type: T,
  bytes: Uint8Array,
): MeteringMessage<T>;
export function decodeMeteringEvent(
  type: string,
  bytes: Uint8Array,
): DecodedMeteringEvent['message'];
export function decodeMeteringEvent(
  type: string,
  bytes: Uint8Array,
): DecodedMeteringEvent['message'] {
  return decodeMeteringRecord(type, bytes).message;
}

/** As decodeMeteringEvent, returning the type with the message so a switch narrows it. */
export function decodeMeteringRecord(type: string, bytes: Uint8Array): DecodedMeteringEvent {
  if (!isMeteringEventType(type)) {
    throw new UnknownMeteringTypeError(`'${type}' is not a metering integration event type`);
  }
  const fns = MESSAGES[type] as { decode(input: Uint8Array): unknown };
  return { type, message: fns.decode(bytes) } as DecodedMeteringEvent;
}
