import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAsyncApi, protobufType, expectCloudEventMessages, decoderTakes } from '@park/testing';

import type { RecordedEvent } from '@park/eventstore';
import { deadLetterTopic } from '@park/messaging';
import {
  decodeReadingsRecord,
  decodeRegistryRecord,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/metering-events';
import type { StoredPlan } from '../plans/plan-service';
import type { SetpointRecord } from '../setpoints/setpoint-service';
import {
  DISPATCH_PLANS_TOPIC,
  DISPATCH_SETPOINT_ACKS_TOPIC,
  DISPATCH_SETPOINTS_TOPIC,
  dispatchEventMapper,
  dispatchTopics,
  GREEN_ALLOCATIONS_TOPIC,
} from './outbound';

/**
 * docs/asyncapi/dispatch.yaml against the code: a valid AsyncAPI 3 document whose payloads name
 * protobuf messages of the contracts, whose channels are the topics of src/integration (and the
 * metering topics the service consumes), and whose messages per channel are the ones this
 * service publishes or decodes.
 */

const DOCUMENT = path.resolve(__dirname, '../../../../docs/asyncapi/dispatch.yaml');

const parse = (text?: string) => parseAsyncApi(DOCUMENT, text);

const full = (pkg: string, names: string[]) => names.map((name) => `park.${pkg}.v1.${name}`);
const PLANS = full('dispatch', ['PlanIssued']);
const SETPOINTS = full('dispatch', ['SetpointIssued', 'SetpointExpired']);
const ACKS = full('dispatch', ['SetpointAcknowledged']);
const ALLOCATIONS = full('dispatch', ['GreenPowerAllocated']);
const REGISTRY = full('metering', [
  'ParkConfigured',
  'EnterpriseRegistered',
  'EnterpriseUpdated',
  'InstallationRegistered',
  'MeterRegistered',
  'MeterReplaced',
  'MeterDecommissioned',
]);
const READINGS = full('metering', [
  'ReadingsRecorded',
  'ReadingCorrected',
  'ReadingsEstimated',
  'GapDetected',
]);
const OWN: Record<string, string[]> = {
  [DISPATCH_PLANS_TOPIC]: PLANS,
  [DISPATCH_SETPOINTS_TOPIC]: SETPOINTS,
  [DISPATCH_SETPOINT_ACKS_TOPIC]: ACKS,
  [GREEN_ALLOCATIONS_TOPIC]: ALLOCATIONS,
};

it('docs/asyncapi/dispatch.yaml is a valid AsyncAPI 3 document', async () => {
  const { document, diagnostics } = await parse();
  // Severity 0 is an error, 1 a warning; the "newer AsyncAPI version exists" hint is allowed.
  expect(diagnostics.filter((d) => d.severity <= 1).map((d) => d.message)).toEqual([]);
  expect(document?.version()).toBe('3.0.0');
});

it('describes the topics of src/integration with their messages, each a contract message', async () => {
  const { document } = await parse();
  const described = Object.fromEntries(
    document!
      .channels()
      .all()
      .map((channel) => [
        channel.address(),
        channel
          .messages()
          .all()
          .map((message) => message.name()),
      ]),
  );
  expect(described).toEqual({
    ...Object.fromEntries(
      Object.entries(OWN).flatMap(([topic, messages]) => [
        [topic, messages],
        [deadLetterTopic(topic), messages],
      ]),
    ),
    [METERING_REGISTRY_TOPIC]: REGISTRY,
    [deadLetterTopic(METERING_REGISTRY_TOPIC)]: REGISTRY,
    [METERING_READINGS_TOPIC]: READINGS,
    [deadLetterTopic(METERING_READINGS_TOPIC)]: READINGS,
  });

  // Every message it lists is a message of the proto contracts.
  const names = document!
    .messages()
    .all()
    .map((message) => message.name());
  expect(names.filter((name) => protobufType(name) === undefined)).toEqual([]);
  expect(new Set(names)).toEqual(
    new Set([...PLANS, ...SETPOINTS, ...ACKS, ...ALLOCATIONS, ...REGISTRY, ...READINGS]),
  );

  // The topics this service owns, as it creates them (each with its dead-letter topic).
  expect(dispatchTopics.map((topic) => topic.name).sort()).toEqual(Object.keys(OWN).sort());
  for (const spec of dispatchTopics) {
    expect(spec.withDeadLetterTopic).toBe(true);
    for (const address of [spec.name, deadLetterTopic(spec.name)]) {
      const channel = document!
        .channels()
        .all()
        .find((c) => c.address() === address)!;
      expect(channel.extensions().get('x-partitions')?.value()).toBe(spec.partitions);
    }
    const channel = document!
      .channels()
      .all()
      .find((c) => c.address() === spec.name)!;
    expect(channel.bindings().get('kafka')?.value()).toMatchObject({
      topic: spec.name,
      partitions: spec.partitions,
      topicConfiguration: { 'retention.ms': spec.retentionMs },
    });
  }

  expectCloudEventMessages(document!);
});

it('lists, per consumed metering topic, exactly the types this service decodes from it', () => {
  const all = [...PLANS, ...SETPOINTS, ...ACKS, ...ALLOCATIONS, ...REGISTRY, ...READINGS];
  const accepted = (decode: (type: string, value: Uint8Array) => unknown) =>
    all.filter((type) => decoderTakes(decode, type));
  expect(accepted(decodeRegistryRecord)).toEqual(REGISTRY);
  expect(accepted(decodeReadingsRecord)).toEqual(READINGS);
});

it('lists, per published topic, exactly the types this service publishes on it', () => {
  const recorded = (type: string, data: object): RecordedEvent => ({
    eventId: '00000000-0000-4000-8000-000000000001',
    streamId: 'test',
    streamVersion: 1,
    globalPosition: 1n,
    transactionId: 1n,
    type,
    schemaVersion: 1,
    data: data as RecordedEvent['data'],
    metadata: {},
    recordedAt: new Date('2025-06-01T00:00:00Z'),
  });
  const plan: StoredPlan = {
    planId: 'plan-1',
    parkId: 'park-1',
    day: '2025-06-01',
    kind: 'day_ahead',
    issuedAt: '2025-05-31T06:00:00.000Z',
    fromInterval: 0,
    notes: [],
    importPriceCnyPerKwh: [],
    exportPriceCnyPerKwh: [],
    loadKw: [],
    result: {
      status: 'optimal',
      binaries: 0,
      modeBinaries: [],
      rounds: 1,
      objective: {
        totalCny: 0,
        energyCny: 0,
        carbonCny: 0,
        batteryWearCny: 0,
        curtailmentCny: 0,
        penaltyCny: 0,
      },
      intervals: [],
      violations: [],
      solveMs: 1,
    },
  };
  const setpoint: SetpointRecord = {
    setpointId: 'sp-1',
    parkId: 'park-1',
    assetId: 'bess-1',
    planId: 'plan-1',
    powerKw: -250,
    validFrom: '2025-06-01T00:00:00.000Z',
    validUntil: '2025-06-01T00:15:00.000Z',
    ackDeadline: '2025-06-01T00:02:00.000Z',
    status: 'issued',
    issuedAt: '2025-06-01T00:00:00.000Z',
  };
  const published = [
    recorded('PlanIssued', { plan }),
    recorded('SetpointIssued', { setpoint }),
    recorded('SetpointExpired', { setpoint: { ...setpoint, status: 'expired' }, safeMode: 'idle' }),
    recorded('GreenPowerAllocated', {
      parkId: 'park-1',
      lineId: 'line-1',
      plantId: 'pv-1',
      enterpriseId: 'ent-1',
      intervalStart: '2025-06-01T00:00:00.000Z',
      allocatedKwh: '12.5',
      lineMeteredKwh: '20',
      lineExportedKwh: '0',
      revision: 1,
    }),
  ].map((event) => dispatchEventMapper(event));
  const byTopic: Record<string, string[]> = {};
  for (const message of published) {
    expect(message).not.toBeNull();
    (byTopic[message!.topic] ??= []).push(message!.type);
  }
  // The acknowledgements topic is written by integrators, never by this service.
  expect(byTopic).toEqual({
    [DISPATCH_PLANS_TOPIC]: PLANS,
    [DISPATCH_SETPOINTS_TOPIC]: SETPOINTS,
    [GREEN_ALLOCATIONS_TOPIC]: ALLOCATIONS,
  });
  // Keyed as the document says: park id, asset id, enterprise id.
  expect(published.map((message) => message!.key)).toEqual(['park-1', 'bess-1', 'bess-1', 'ent-1']);
  // Internal events stay inside the service.
  expect(
    dispatchEventMapper(
      recorded('SetpointAcknowledged', {
        setpointId: 'sp-1',
        assetId: 'bess-1',
        acknowledgedAt: '2025-06-01T00:01:00.000Z',
      }),
    ),
  ).toBeNull();
});

it('a payload naming no protobuf message is an error', async () => {
  const text = readFileSync(DOCUMENT, 'utf8').replace(
    'schema: park.dispatch.v1.SetpointExpired',
    'schema: park.dispatch.v1.SetpointTimedOut',
  );
  const { document, diagnostics } = await parse(text);
  expect(document).toBeUndefined();
  expect(JSON.stringify(diagnostics)).toContain(
    'park.dispatch.v1.SetpointTimedOut is not a message of the park contracts',
  );
});
