import { park } from '@park/contracts';
import type { JsonObject } from '@park/eventstore';
import {
  CE,
  createKafka,
  ensureTopics,
  MessageProducer,
  messagingMigrationsDir,
  OutboxRelay,
  PROTOBUF_CONTENT_TYPE,
  type IntegrationEventMapper,
} from '@park/messaging';
import {
  createTestDatabase,
  eventually,
  readTopic,
  testInfrastructure,
  uniqueTopic,
  type TestDatabase,
  type TopicRecord,
} from '@park/testing';
import type { MeterDescriptor, MeterRegistration } from '../registry/meter-registration';
import { decodeMeteringEvent } from './decode';
import { meteringEventMapper, type EnterpriseSnapshot, type MeteringDomainEvent } from './mapper';
import { METERING_READINGS_TOPIC, METERING_REGISTRY_TOPIC, meteringTopics } from './topics';

const v1 = park.metering.v1;

let db: TestDatabase;
const kafka = () =>
  createKafka({
    clientId: 'metering-relay-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });

beforeAll(async () => {
  db = await createTestDatabase('metering_relay', { migrations: [messagingMigrationsDir] });
});
afterAll(() => db?.drop());

type Stored = MeteringDomainEvent & { enterprise?: EnterpriseSnapshot };

function stored(event: Stored): { type: string; data: JsonObject } {
  const { type, ...data } = event;
  return { type, data: JSON.parse(JSON.stringify(data)) as JsonObject };
}

function meter(meterId: string, commodity: 'electricity' | 'water'): MeterRegistration {
  return {
    meterId,
    parkId: 'park-1',
    enterpriseId: 'ent-1',
    timeZone: 'Asia/Shanghai',
    commodity,
    role: commodity === 'electricity' ? 'grid_import' : 'sub_meter',
    unit: commodity === 'electricity' ? 'kWh' : 'm3',
    registerType: 'cumulative',
    multiplier: '1',
    intervalMinutes: commodity === 'electricity' ? 15 : 60,
  };
}

function descriptor(registration: MeterRegistration): MeterDescriptor {
  return {
    meterId: registration.meterId,
    parkId: registration.parkId,
    enterpriseId: registration.enterpriseId,
    commodity: registration.commodity,
    role: registration.role,
    unit: registration.unit,
    intervalMinutes: registration.intervalMinutes,
  };
}

const at = (minutes: number) => new Date(Date.UTC(2026, 2, 1) + minutes * 60_000).toISOString();

it('the relay publishes metering events to their topics, keyed, typed and decodable', async () => {
  // The contract's topic specs under names of this run, so reruns start from empty topics.
  const names = new Map(meteringTopics.map((spec) => [spec.name, uniqueTopic(spec.name)]));
  const admin = kafka().admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      meteringTopics.map((spec) => ({ ...spec, name: names.get(spec.name)! })),
    );
    const metadata = await admin.fetchTopicMetadata({ topics: [...names.values()] });
    expect(Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]))).toEqual({
      [names.get(METERING_REGISTRY_TOPIC)!]: 6,
      [names.get(METERING_READINGS_TOPIC)!]: 24,
    });
  } finally {
    await admin.disconnect();
  }
  const map: IntegrationEventMapper = (event) => {
    const message = meteringEventMapper(event);
    return message && { ...message, topic: names.get(message.topic)! };
  };

  const enterprise: EnterpriseSnapshot = {
    enterpriseId: 'ent-1',
    parkId: 'park-1',
    name: 'Songbei Steel',
    creditCode: '91230100MA1B2C3D4E',
    industryCode: 'C3120',
    exporter: false,
    energyUsing: true,
    keyEnergyConsumingUnit: false,
  };
  const m1 = meter('m-1', 'electricity');
  const m2 = meter('m-2', 'water');
  await db.store.append(
    'enterprise-ent-1',
    [
      stored({ type: 'EnterpriseRegistered', ...enterprise }),
      stored({
        type: 'EnterpriseUpdated',
        enterpriseId: 'ent-1',
        changes: { exporter: true },
        enterprise: { ...enterprise, exporter: true },
      }),
    ],
    'no_stream',
  );
  await db.store.append('meter-m-1', [stored({ type: 'MeterRegistered', ...m1 })], 'no_stream');
  await db.store.append('meter-m-2', [stored({ type: 'MeterRegistered', ...m2 })], 'no_stream');
  // Interleaved appends, so batches mix keys and topics.
  for (let i = 0; i < 3; i++) {
    await db.store.append(
      'meter-m-1',
      [
        stored({
          type: 'ReadingsRecorded',
          meter: descriptor(m1),
          readings: [
            {
              intervalStart: at(15 * i),
              intervalEnd: at(15 * i + 15),
              // The first register has no predecessor: no value, not published.
              ...(i === 0 ? {} : { value: `${100 + i}.25` }),
              quality: 'measured',
              source: 'gateway:gw-1',
              register: `${1000 + i}`,
            },
          ],
        }),
      ],
      'stream_exists',
    );
    await db.store.append(
      'meter-m-2',
      [
        stored({
          type: 'ReadingsRecorded',
          meter: descriptor(m2),
          readings: [
            {
              intervalStart: at(60 * i),
              intervalEnd: at(60 * i + 60),
              value: `0.${i}00`,
              quality: 'measured',
              source: 'csv:upload-9',
              register: `${i}`,
            },
          ],
        }),
      ],
      'stream_exists',
    );
  }
  await db.store.append(
    'meter-m-1',
    [
      stored({
        type: 'ReadingsHeld',
        meter: descriptor(m1),
        readings: [
          {
            intervalStart: at(45),
            intervalEnd: at(60),
            value: '99999',
            source: 'gateway:gw-1',
            reason: 'spike',
          },
        ],
      }),
      stored({
        type: 'GapDetected',
        meter: descriptor(m1),
        start: at(60),
        end: at(180),
        missingIntervals: 8,
      }),
    ],
    'stream_exists',
  );
  // 2 enterprise + 2 meter registrations + 5 valued ReadingsRecorded + 1 GapDetected.
  const expected = 10;

  const producer = new MessageProducer(kafka());
  const relay = new OutboxRelay(db.store, producer, {
    name: 'metering-relay',
    source: '//park/metering',
    connectionString: db.url,
    map,
    batchSize: 4,
  });
  try {
    // catchUp sees only what no older open transaction on the shared server still hides.
    await eventually(
      async () => {
        await relay.catchUp();
        expect(relay.published).toBe(expected);
      },
      30_000,
      200,
    );
  } finally {
    await relay.stop();
    await producer.disconnect();
  }

  const registry = await readTopic(kafka(), names.get(METERING_REGISTRY_TOPIC)!);
  const readings = await readTopic(kafka(), names.get(METERING_READINGS_TOPIC)!);
  const byKey = (records: TopicRecord[], key: string) => records.filter((r) => r.key === key);
  const types = (records: TopicRecord[]) => records.map((r) => r.headers[CE.type]);
  const partitionsOf = (records: TopicRecord[]) => new Set(records.map((r) => r.partition));

  expect(registry).toHaveLength(4);
  expect(types(byKey(registry, 'ent-1'))).toEqual([
    'park.metering.v1.EnterpriseRegistered',
    'park.metering.v1.EnterpriseUpdated',
  ]);
  expect(types(byKey(registry, 'm-1'))).toEqual(['park.metering.v1.MeterRegistered']);
  expect(types(byKey(registry, 'm-2'))).toEqual(['park.metering.v1.MeterRegistered']);
  expect(partitionsOf(byKey(registry, 'ent-1')).size).toBe(1);

  expect(readings).toHaveLength(6);
  expect(types(byKey(readings, 'm-1'))).toEqual([
    'park.metering.v1.ReadingsRecorded',
    'park.metering.v1.ReadingsRecorded',
    'park.metering.v1.GapDetected',
  ]);
  expect(types(byKey(readings, 'm-2'))).toEqual([
    'park.metering.v1.ReadingsRecorded',
    'park.metering.v1.ReadingsRecorded',
    'park.metering.v1.ReadingsRecorded',
  ]);
  expect(partitionsOf(byKey(readings, 'm-1')).size).toBe(1);
  expect(partitionsOf(byKey(readings, 'm-2')).size).toBe(1);

  for (const record of [...registry, ...readings]) {
    expect(record.headers).toMatchObject({
      [CE.source]: '//park/metering',
      [CE.specversion]: '1.0',
      [CE.contentType]: PROTOBUF_CONTENT_TYPE,
    });
    expect(record.headers[CE.id]).toMatch(/^[0-9a-f-]{36}$/);
  }

  const updated = byKey(registry, 'ent-1')[1]!;
  expect(decodeMeteringEvent('park.metering.v1.EnterpriseUpdated', updated.value!)).toEqual({
    enterprise: { ...enterprise, exporter: true },
  });
  const m1Readings = byKey(readings, 'm-1');
  const m1Descriptor: park.metering.v1.MeterDescriptor = {
    meterId: 'm-1',
    enterpriseId: 'ent-1',
    commodity: v1.Commodity.COMMODITY_ELECTRICITY,
    role: v1.MeterRole.METER_ROLE_GRID_IMPORT,
    unit: park.common.v1.Unit.UNIT_KWH,
    intervalMinutes: 15,
    sourceGeneratorId: '',
    sourceEntityId: '',
  };
  expect(
    m1Readings
      .slice(0, 2)
      .map((r) => decodeMeteringEvent('park.metering.v1.ReadingsRecorded', r.value!)),
  ).toEqual(
    [1, 2].map((i) => ({
      meter: m1Descriptor,
      readings: [
        {
          intervalStart: new Date(at(15 * i)),
          value: { value: `${100 + i}.25` },
          quality: v1.Quality.QUALITY_MEASURED,
          source: 'gateway:gw-1',
        },
      ],
    })),
  );
  expect(decodeMeteringEvent('park.metering.v1.GapDetected', m1Readings[2]!.value!)).toEqual({
    meter: m1Descriptor,
    gapStart: new Date(at(60)),
    gapEnd: new Date(at(180)),
    missingIntervals: 8,
  });
  expect(
    byKey(readings, 'm-2').map(
      (r) => decodeMeteringEvent('park.metering.v1.ReadingsRecorded', r.value!).readings[0]?.value,
    ),
  ).toEqual([{ value: '0.000' }, { value: '0.100' }, { value: '0.200' }]);
});
