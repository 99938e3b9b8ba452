import { randomUUID } from 'node:crypto';
import { park } from '@park/contracts';
import type { JsonObject, RecordedEvent } from '@park/eventstore';
import type { IntegrationMessage } from '@park/messaging';
import type { MeterDescriptor, MeterRegistration } from '../registry/meter-registration';
import { COMMODITIES, METER_ROLES, METER_UNITS } from '../registry/meter-registration';
import { SIZE_BANDS } from '../registry/park';
import { enterpriseDecider } from '../registry/enterprise';
import { createMeterDecider } from '../readings/meter';
import { decodeMeteringEvent, decodeMeteringRecord, UnknownMeteringTypeError } from './decode';
import { commodityToProto, meterRoleToProto, sizeBandToProto, unitToProto } from './enums';
import {
  meteringEventMapper,
  RegistryStateMissingError,
  UnknownMeteringEventError,
  type MeteringDomainEvent,
  type EnterpriseSnapshot,
  type MeterSnapshot,
} from './mapper';
import { METERING_READINGS_TOPIC, METERING_REGISTRY_TOPIC, meteringTopics } from './topics';

const v1 = park.metering.v1;
const { Unit } = park.common.v1;
/** Domain events as stored, registry updates with the state after them. */
type StoredEvent = MeteringDomainEvent & {
  enterprise?: EnterpriseSnapshot;
  current?: MeterSnapshot;
};

const RECORDED_AT = new Date('2026-03-01T08:00:00.000Z');

function recorded(event: StoredEvent, streamId = 'stream-1') {
  const { type, ...data } = event;
  return {
    eventId: randomUUID(),
    streamId,
    streamVersion: 1,
    globalPosition: 1n,
    transactionId: 1n,
    type,
    schemaVersion: 1,
    data: JSON.parse(JSON.stringify(data)) as JsonObject,
    metadata: {},
    recordedAt: RECORDED_AT,
  } satisfies RecordedEvent;
}

function map(event: StoredEvent): IntegrationMessage {
  const message = meteringEventMapper(recorded(event));
  if (!message) throw new Error(`${event.type} mapped to null`);
  return message;
}

const registration: MeterRegistration = {
  meterId: 'm-1',
  parkId: 'park-1',
  enterpriseId: 'ent-1',
  installationId: 'inst-1',
  timeZone: 'Asia/Shanghai',
  commodity: 'electricity',
  role: 'green_direct_line',
  sourceGeneratorId: 'gen-7',
  unit: 'kWh',
  registerType: 'cumulative',
  registerMaximum: '100000',
  multiplier: '80',
  ratedPowerKw: '2500.5',
  intervalMinutes: 15,
};

const descriptor: MeterDescriptor = {
  meterId: 'm-1',
  parkId: 'park-1',
  enterpriseId: 'ent-1',
  installationId: 'inst-1',
  commodity: 'electricity',
  role: 'green_direct_line',
  unit: 'kWh',
  intervalMinutes: 15,
  sourceGeneratorId: 'gen-7',
};

const expectedDescriptor: park.metering.v1.MeterDescriptor = {
  meterId: 'm-1',
  enterpriseId: 'ent-1',
  commodity: v1.Commodity.COMMODITY_ELECTRICITY,
  role: v1.MeterRole.METER_ROLE_GREEN_DIRECT_LINE,
  unit: Unit.UNIT_KWH,
  intervalMinutes: 15,
  sourceGeneratorId: 'gen-7',
  sourceEntityId: '',
};

const expectedMeter: park.metering.v1.Meter = {
  meterId: 'm-1',
  enterpriseId: 'ent-1',
  commodity: v1.Commodity.COMMODITY_ELECTRICITY,
  role: v1.MeterRole.METER_ROLE_GREEN_DIRECT_LINE,
  unit: Unit.UNIT_KWH,
  registerType: v1.RegisterType.REGISTER_TYPE_CUMULATIVE,
  registerMaximum: { value: '100000' },
  multiplier: { value: '80' },
  ratedPowerKw: { value: '2500.5' },
  intervalMinutes: 15,
  steamEnthalpyGjPerTonne: undefined,
  sourceGeneratorId: 'gen-7',
  sourceEntityId: '',
  status: v1.MeterStatus.METER_STATUS_ACTIVE,
  registeredAt: RECORDED_AT,
  serialNumber: '',
};

const current: MeterSnapshot = {
  registration: { ...registration, multiplier: '120', registerMaximum: '1000000' },
  registeredAt: '2026-01-05T00:00:00.000Z',
};

describe('registry events go to the compacted registry topic keyed by entity id', () => {
  it('ParkConfigured carries the park', () => {
    const message = map({
      type: 'ParkConfigured',
      parkId: 'park-1',
      name: 'Harbin Zero-Carbon Park',
      timeZone: 'Asia/Shanghai',
      latitude: 45.75,
      longitude: 126.63,
      gridRegion: 'northeast_china',
      sizeBand: '200k_to_1m_tce',
    });
    expect(message).toMatchObject({
      topic: METERING_REGISTRY_TOPIC,
      key: 'park-1',
      type: 'park.metering.v1.ParkConfigured',
    });
    expect(v1.ParkConfigured.decode(message.payload)).toEqual({
      park: {
        parkId: 'park-1',
        name: 'Harbin Zero-Carbon Park',
        timeZone: 'Asia/Shanghai',
        latitude: { value: '45.75' },
        longitude: { value: '126.63' },
        gridRegion: 'northeast_china',
        sizeBand: v1.SizeBand.SIZE_BAND_200K_TO_1M_TCE,
      },
    });
  });

  const enterprise = {
    enterpriseId: 'ent-1',
    parkId: 'park-1',
    name: 'Songbei Steel',
    creditCode: '91230100MA1B2C3D4E',
    industryCode: 'C3120',
    exporter: true,
    energyUsing: true,
    keyEnergyConsumingUnit: false,
  };

  it('EnterpriseRegistered carries the enterprise', () => {
    const message = map({ type: 'EnterpriseRegistered', ...enterprise });
    expect(message).toMatchObject({
      topic: METERING_REGISTRY_TOPIC,
      key: 'ent-1',
      type: 'park.metering.v1.EnterpriseRegistered',
    });
    expect(v1.EnterpriseRegistered.decode(message.payload)).toEqual({ enterprise });
  });

  it('EnterpriseUpdated carries the whole enterprise after the change, not the change alone', () => {
    const after = { ...enterprise, keyEnergyConsumingUnit: true };
    const message = map({
      type: 'EnterpriseUpdated',
      enterpriseId: 'ent-1',
      changes: { keyEnergyConsumingUnit: true },
      enterprise: after,
    });
    expect(message).toMatchObject({ key: 'ent-1', type: 'park.metering.v1.EnterpriseUpdated' });
    expect(v1.EnterpriseUpdated.decode(message.payload)).toEqual({ enterprise: after });
  });

  it('an update event without the state after it is refused, never published half-empty', () => {
    expect(() =>
      meteringEventMapper(
        recorded({
          type: 'EnterpriseUpdated',
          enterpriseId: 'ent-1',
          changes: { name: 'X' },
        } as unknown as StoredEvent),
      ),
    ).toThrow(RegistryStateMissingError);
    expect(() =>
      meteringEventMapper(
        recorded({
          type: 'MeterDecommissioned',
          meterId: 'm-1',
          at: '2026-03-01T00:00:00Z',
        } as unknown as StoredEvent),
      ),
    ).toThrow(RegistryStateMissingError);
  });

  it('InstallationRegistered carries the installation', () => {
    const message = map({
      type: 'InstallationRegistered',
      installationId: 'inst-1',
      enterpriseId: 'ent-1',
      parkId: 'park-1',
      name: 'Rolling mill',
      meterIds: ['m-1', 'm-2'],
    });
    expect(message).toMatchObject({
      key: 'inst-1',
      type: 'park.metering.v1.InstallationRegistered',
    });
    expect(v1.InstallationRegistered.decode(message.payload)).toEqual({
      installation: {
        installationId: 'inst-1',
        enterpriseId: 'ent-1',
        name: 'Rolling mill',
        meterIds: ['m-1', 'm-2'],
      },
    });
  });

  it('MeterRegistered carries the meter, registered when the event was recorded', () => {
    const message = map({ type: 'MeterRegistered', ...registration });
    expect(message).toMatchObject({
      topic: METERING_REGISTRY_TOPIC,
      key: 'm-1',
      type: 'park.metering.v1.MeterRegistered',
    });
    expect(v1.MeterRegistered.decode(message.payload)).toEqual({ meter: expectedMeter });
  });

  it('MeterRegistered of an interval steam meter: no register maximum, enthalpy passed through', () => {
    const message = map({
      type: 'MeterRegistered',
      meterId: 'm-steam',
      parkId: 'park-1',
      enterpriseId: 'ent-2',
      timeZone: 'Asia/Shanghai',
      commodity: 'steam',
      role: 'internal_transfer',
      sourceEntityId: 'ent-boiler',
      unit: 't',
      enthalpyGjPerTonne: '2.7600',
      registerType: 'interval',
      multiplier: '1',
      intervalMinutes: 60,
    });
    expect(v1.MeterRegistered.decode(message.payload)).toEqual({
      meter: {
        meterId: 'm-steam',
        enterpriseId: 'ent-2',
        commodity: v1.Commodity.COMMODITY_STEAM,
        role: v1.MeterRole.METER_ROLE_INTERNAL_TRANSFER,
        unit: Unit.UNIT_TONNE,
        registerType: v1.RegisterType.REGISTER_TYPE_INTERVAL,
        registerMaximum: undefined,
        multiplier: { value: '1' },
        ratedPowerKw: undefined,
        intervalMinutes: 60,
        steamEnthalpyGjPerTonne: { value: '2.7600' },
        sourceGeneratorId: '',
        sourceEntityId: 'ent-boiler',
        status: v1.MeterStatus.METER_STATUS_ACTIVE,
        registeredAt: RECORDED_AT,
        serialNumber: '',
      },
    });
  });

  it('MeterReplaced carries the meter as it is after the replacement', () => {
    const message = map({
      type: 'MeterReplaced',
      meterId: 'm-1',
      at: '2026-02-10T06:00:00.000Z',
      oldFinalRegister: '99876.25',
      newFirstRegister: '0.00',
      multiplier: '120',
      registerMaximum: '1000000',
      current,
    });
    expect(message).toMatchObject({ key: 'm-1', type: 'park.metering.v1.MeterReplaced' });
    expect(v1.MeterReplaced.decode(message.payload)).toEqual({
      meter: {
        ...expectedMeter,
        multiplier: { value: '120' },
        registerMaximum: { value: '1000000' },
        registeredAt: new Date('2026-01-05T00:00:00.000Z'),
      },
      oldSerialNumber: '',
      oldFinalRegister: { value: '99876.25' },
      newFirstRegister: { value: '0.00' },
      replacedAt: new Date('2026-02-10T06:00:00.000Z'),
    });
  });

  it('MeterDecommissioned carries the meter with status decommissioned', () => {
    const message = map({
      type: 'MeterDecommissioned',
      meterId: 'm-1',
      at: '2026-02-28T16:00:00.000Z',
      current,
    });
    expect(message).toMatchObject({ key: 'm-1', type: 'park.metering.v1.MeterDecommissioned' });
    expect(v1.MeterDecommissioned.decode(message.payload)).toEqual({
      meter: {
        ...expectedMeter,
        multiplier: { value: '120' },
        registerMaximum: { value: '1000000' },
        registeredAt: new Date('2026-01-05T00:00:00.000Z'),
        status: v1.MeterStatus.METER_STATUS_DECOMMISSIONED,
      },
      decommissionedAt: new Date('2026-02-28T16:00:00.000Z'),
    });
  });
});

describe('reading events go to the readings topic keyed by meter id, with the descriptor', () => {
  it('ReadingsRecorded publishes the valued entries and skips a register without a value', () => {
    const message = map({
      type: 'ReadingsRecorded',
      meter: descriptor,
      readings: [
        {
          intervalStart: '2026-03-01T00:00:00.000Z',
          intervalEnd: '2026-03-01T00:15:00.000Z',
          quality: 'measured',
          source: 'gateway:gw-17',
          register: '1000.5',
        },
        {
          intervalStart: '2026-03-01T00:15:00.000Z',
          intervalEnd: '2026-03-01T00:30:00.000Z',
          value: '120.000000000000000001',
          quality: 'measured',
          source: 'gateway:gw-17',
          register: '1002',
        },
        {
          intervalStart: '2026-03-01T00:30:00.000Z',
          intervalEnd: '2026-03-01T00:45:00.000Z',
          value: '96',
          quality: 'edited',
          source: 'operator:li.wei',
          register: '1003.2',
          registerEdited: true,
        },
      ],
    });
    expect(message).toMatchObject({
      topic: METERING_READINGS_TOPIC,
      key: 'm-1',
      type: 'park.metering.v1.ReadingsRecorded',
    });
    expect(v1.ReadingsRecorded.decode(message.payload)).toEqual({
      meter: expectedDescriptor,
      readings: [
        {
          intervalStart: new Date('2026-03-01T00:15:00.000Z'),
          value: { value: '120.000000000000000001' },
          quality: v1.Quality.QUALITY_MEASURED,
          source: 'gateway:gw-17',
        },
        {
          intervalStart: new Date('2026-03-01T00:30:00.000Z'),
          value: { value: '96' },
          quality: v1.Quality.QUALITY_EDITED,
          source: 'operator:li.wei',
        },
      ],
    });
  });

  it('a ReadingsRecorded batch of value-less registers publishes nothing', () => {
    expect(
      meteringEventMapper(
        recorded({
          type: 'ReadingsRecorded',
          meter: descriptor,
          readings: [
            {
              intervalStart: '2026-03-01T00:00:00.000Z',
              intervalEnd: '2026-03-01T00:15:00.000Z',
              quality: 'measured',
              source: 'gateway:gw-17',
              register: '1000.5',
            },
          ],
        }),
      ),
    ).toBeNull();
  });

  it('ReadingCorrected carries the old value and the new one', () => {
    const message = map({
      type: 'ReadingCorrected',
      meter: descriptor,
      intervalStart: '2026-03-01T00:15:00.000Z',
      intervalEnd: '2026-03-01T00:30:00.000Z',
      oldValue: '120',
      oldQuality: 'estimated',
      newValue: '118.40',
      newQuality: 'measured',
      reason: 'gateway re-read after outage',
      source: 'gateway:gw-17',
    });
    expect(message).toMatchObject({
      topic: METERING_READINGS_TOPIC,
      key: 'm-1',
      type: 'park.metering.v1.ReadingCorrected',
    });
    expect(v1.ReadingCorrected.decode(message.payload)).toEqual({
      meter: expectedDescriptor,
      intervalStart: new Date('2026-03-01T00:15:00.000Z'),
      oldValue: { value: '120' },
      oldQuality: v1.Quality.QUALITY_ESTIMATED,
      newValue: {
        intervalStart: new Date('2026-03-01T00:15:00.000Z'),
        value: { value: '118.40' },
        quality: v1.Quality.QUALITY_MEASURED,
        source: 'gateway:gw-17',
      },
      reason: 'gateway re-read after outage',
    });
  });

  it('ReadingCorrected of an accepted held spike has no old value', () => {
    const message = map({
      type: 'ReadingCorrected',
      meter: descriptor,
      intervalStart: '2026-03-01T01:00:00.000Z',
      intervalEnd: '2026-03-01T01:15:00.000Z',
      newValue: '9000',
      newQuality: 'edited',
      reason: 'commissioning test load',
      source: 'operator:li.wei',
    });
    expect(v1.ReadingCorrected.decode(message.payload)).toEqual({
      meter: expectedDescriptor,
      intervalStart: new Date('2026-03-01T01:00:00.000Z'),
      oldValue: undefined,
      oldQuality: v1.Quality.QUALITY_UNSPECIFIED,
      newValue: {
        intervalStart: new Date('2026-03-01T01:00:00.000Z'),
        value: { value: '9000' },
        quality: v1.Quality.QUALITY_EDITED,
        source: 'operator:li.wei',
      },
      reason: 'commissioning test load',
    });
  });

  it.each([
    ['prorated_register_difference', 'prorated'],
    ['linear_interpolation', 'interpolated'],
  ] as const)('ReadingsEstimated (%s) carries the method %s', (method, expected) => {
    const message = map({
      type: 'ReadingsEstimated',
      meter: descriptor,
      method,
      basis: { before: '1000', after: '1003' },
      readings: [
        {
          intervalStart: '2026-03-01T02:00:00.000Z',
          intervalEnd: '2026-03-01T02:15:00.000Z',
          value: '120.000000',
        },
        {
          intervalStart: '2026-03-01T02:15:00.000Z',
          intervalEnd: '2026-03-01T02:30:00.000Z',
          value: '120.000001',
        },
      ],
    });
    expect(message).toMatchObject({
      topic: METERING_READINGS_TOPIC,
      key: 'm-1',
      type: 'park.metering.v1.ReadingsEstimated',
    });
    expect(v1.ReadingsEstimated.decode(message.payload)).toEqual({
      meter: expectedDescriptor,
      readings: [
        {
          intervalStart: new Date('2026-03-01T02:00:00.000Z'),
          value: { value: '120.000000' },
          quality: v1.Quality.QUALITY_ESTIMATED,
          source: 'estimation',
        },
        {
          intervalStart: new Date('2026-03-01T02:15:00.000Z'),
          value: { value: '120.000001' },
          quality: v1.Quality.QUALITY_ESTIMATED,
          source: 'estimation',
        },
      ],
      method: expected,
    });
  });

  it('GapDetected carries the gap', () => {
    const message = map({
      type: 'GapDetected',
      meter: descriptor,
      start: '2026-03-01T03:00:00.000Z',
      end: '2026-03-01T05:00:00.000Z',
      missingIntervals: 8,
    });
    expect(message).toMatchObject({
      topic: METERING_READINGS_TOPIC,
      key: 'm-1',
      type: 'park.metering.v1.GapDetected',
    });
    expect(v1.GapDetected.decode(message.payload)).toEqual({
      meter: expectedDescriptor,
      gapStart: new Date('2026-03-01T03:00:00.000Z'),
      gapEnd: new Date('2026-03-01T05:00:00.000Z'),
      missingIntervals: 8,
    });
  });
});

describe('internal and unknown events', () => {
  it.each<MeteringDomainEvent>([
    {
      type: 'ReadingsHeld',
      meter: descriptor,
      readings: [
        {
          intervalStart: '2026-03-01T01:00:00.000Z',
          intervalEnd: '2026-03-01T01:15:00.000Z',
          value: '9000',
          source: 'gateway:gw-17',
          reason: 'spike',
          limit: '625.125',
        },
      ],
    },
    {
      type: 'HeldReadingResolved',
      meter: descriptor,
      intervalStart: '2026-03-01T01:00:00.000Z',
      resolution: 'accepted',
      reason: 'commissioning test load',
    },
    {
      type: 'GapClosed',
      meter: descriptor,
      start: '2026-03-01T03:00:00.000Z',
      end: '2026-03-01T05:00:00.000Z',
    },
  ])('$type is not published', (event) => {
    expect(meteringEventMapper(recorded(event))).toBeNull();
  });

  it('a stored type the mapper does not know stops the relay instead of being skipped', () => {
    const event = { ...recorded({ type: 'GapClosed', meter: descriptor, start: 'x', end: 'y' }) };
    expect(() => meteringEventMapper({ ...event, type: 'ReadingRecordedV0' })).toThrow(
      UnknownMeteringEventError,
    );
  });
});

describe('enum mappings', () => {
  it('map every domain value to a distinct, specified proto value', () => {
    for (const [values, toProto] of [
      [COMMODITIES, commodityToProto],
      [METER_ROLES, meterRoleToProto],
      [METER_UNITS, unitToProto],
      [SIZE_BANDS, sizeBandToProto],
    ] as [readonly string[], (value: never) => number][]) {
      const mapped = values.map((value) => toProto(value as never));
      expect(mapped).not.toContain(0);
      expect(new Set(mapped).size).toBe(values.length);
    }
  });
});

describe('decodeMeteringEvent', () => {
  it('decodes a payload by its ce_type', () => {
    const message = map({
      type: 'GapDetected',
      meter: descriptor,
      start: '2026-03-01T03:00:00.000Z',
      end: '2026-03-01T05:00:00.000Z',
      missingIntervals: 8,
    });
    const gap = decodeMeteringEvent('park.metering.v1.GapDetected', message.payload);
    expect(gap.missingIntervals).toBe(8);
    const decoded = decodeMeteringRecord(message.type, message.payload);
    expect(decoded.type).toBe('park.metering.v1.GapDetected');
    if (decoded.type === 'park.metering.v1.GapDetected')
      expect(decoded.message.meter).toEqual(expectedDescriptor);
  });

  it('refuses a type that is not a metering event', () => {
    expect(() => decodeMeteringEvent('park.carbon.v1.Emission', new Uint8Array())).toThrow(
      UnknownMeteringTypeError,
    );
  });
});

describe('meteringTopics', () => {
  it('declares the two topics of the contract with dead-letter topics', () => {
    expect(meteringTopics).toEqual([
      {
        name: 'park.metering.registry.v1',
        partitions: 6,
        compacted: true,
        retentionMs: -1,
        withDeadLetterTopic: true,
      },
      {
        name: 'park.metering.readings.v1',
        partitions: 24,
        retentionMs: -1,
        withDeadLetterTopic: true,
      },
    ]);
  });
});

describe('registry events as the deciders produce them', () => {
  it('publishes EnterpriseUpdated, MeterReplaced and MeterDecommissioned with serial numbers', () => {
    const decided: StoredEvent[] = [];
    let enterpriseState = enterpriseDecider.initialState();
    for (const command of [
      {
        type: 'RegisterEnterprise' as const,
        enterpriseId: 'ent-1',
        parkId: 'park-1',
        name: 'Songbei Steel',
        creditCode: '91210106MA0Y5K7R5J',
        industryCode: 'C3120',
        exporter: false,
        energyUsing: true,
        keyEnergyConsumingUnit: false,
      },
      { type: 'UpdateEnterprise' as const, enterpriseId: 'ent-1', changes: { exporter: true } },
    ]) {
      for (const event of enterpriseDecider.decide(command, enterpriseState)) {
        decided.push(event);
        enterpriseState = enterpriseDecider.evolve(enterpriseState, event);
      }
    }
    const meters = createMeterDecider();
    let meterState = meters.initialState();
    for (const command of [
      {
        type: 'RegisterMeter' as const,
        meterId: 'm-9',
        parkId: 'park-1',
        enterpriseId: 'ent-1',
        timeZone: 'Asia/Shanghai',
        commodity: 'electricity',
        role: 'grid_import',
        unit: 'kWh',
        registerType: 'cumulative',
        multiplier: '40',
        serialNumber: 'SN-OLD',
      },
      {
        type: 'ReplaceMeter' as const,
        meterId: 'm-9',
        at: '2026-02-10T06:00:00.000Z',
        now: '2026-02-10T07:00:00.000Z',
        oldFinalRegister: '10',
        newFirstRegister: '0',
        multiplier: '80',
        newSerialNumber: 'SN-NEW',
      },
      { type: 'DecommissionMeter' as const, meterId: 'm-9', at: '2026-02-20T00:00:00.000Z' },
    ]) {
      for (const event of meters.decide(command, meterState)) {
        decided.push(event);
        meterState = meters.evolve(meterState, event);
      }
    }
    const messages = decided.map((event) => meteringEventMapper(recorded(event)));
    const byType = (type: string) =>
      messages.find((message) => message?.type === `park.metering.v1.${type}`)!;

    expect(v1.EnterpriseUpdated.decode(byType('EnterpriseUpdated').payload).enterprise).toEqual(
      expect.objectContaining({ enterpriseId: 'ent-1', name: 'Songbei Steel', exporter: true }),
    );
    expect(v1.MeterRegistered.decode(byType('MeterRegistered').payload).meter).toMatchObject({
      serialNumber: 'SN-OLD',
      multiplier: { value: '40' },
    });
    expect(v1.MeterReplaced.decode(byType('MeterReplaced').payload)).toMatchObject({
      meter: { meterId: 'm-9', serialNumber: 'SN-NEW', multiplier: { value: '80' } },
      oldSerialNumber: 'SN-OLD',
      oldFinalRegister: { value: '10' },
      newFirstRegister: { value: '0' },
    });
    expect(v1.MeterDecommissioned.decode(byType('MeterDecommissioned').payload)).toMatchObject({
      meter: {
        serialNumber: 'SN-NEW',
        multiplier: { value: '80' },
        status: v1.MeterStatus.METER_STATUS_DECOMMISSIONED,
      },
      decommissionedAt: new Date('2026-02-20T00:00:00.000Z'),
    });
  });
});
