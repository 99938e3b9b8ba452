import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAsyncApi, protobufType, expectCloudEventMessages, decoderTakes } from '@park/testing';

import { deadLetterTopic } from '@park/messaging';
import type { RecordedEvent } from '@park/eventstore';
import { CARBON_EMISSIONS_TOPIC, carbonEventMapper, carbonTopics } from './emissions';
import {
  decodeAllocationRecord,
  decodeReadingsRecord,
  decodeRegistryRecord,
  GREEN_ALLOCATIONS_TOPIC,
  METERING_READINGS_TOPIC,
  METERING_REGISTRY_TOPIC,
} from '@park/metering-events';

/**
 * docs/asyncapi/carbon.yaml against the code: a valid AsyncAPI 3 document whose payloads name
 * protobuf messages of the contracts, whose channels are the topics of src/integration, and whose
 * messages per channel are the ones this service publishes or decodes.
 */

const DOCUMENT = path.resolve(__dirname, '../../../../docs/asyncapi/carbon.yaml');

const parse = (text?: string) => parseAsyncApi(DOCUMENT, text);

const full = (pkg: string, names: string[]) => names.map((name) => `park.${pkg}.v1.${name}`);
const EMISSIONS = full('carbon', ['HourlyEmissionsAccounted', 'EmissionsRestated']);
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
const ALLOCATIONS = full('dispatch', ['GreenPowerAllocated']);

it('docs/asyncapi/carbon.yaml is a valid AsyncAPI 3 document', async () => {
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
    [CARBON_EMISSIONS_TOPIC]: EMISSIONS,
    [deadLetterTopic(CARBON_EMISSIONS_TOPIC)]: EMISSIONS,
    [METERING_REGISTRY_TOPIC]: REGISTRY,
    [deadLetterTopic(METERING_REGISTRY_TOPIC)]: REGISTRY,
    [METERING_READINGS_TOPIC]: READINGS,
    [deadLetterTopic(METERING_READINGS_TOPIC)]: READINGS,
    [GREEN_ALLOCATIONS_TOPIC]: ALLOCATIONS,
    [deadLetterTopic(GREEN_ALLOCATIONS_TOPIC)]: ALLOCATIONS,
  });

  // Every message it lists is a message of the proto contracts.
  const names = document!
    .messages()
    .all()
    .map((message) => message.name());
  expect(names.filter((name) => protobufType(name) === undefined)).toEqual([]);
  expect(new Set(names)).toEqual(new Set([...EMISSIONS, ...REGISTRY, ...READINGS, ...ALLOCATIONS]));

  // The topic this service owns, as it creates it.
  const emissions = document!
    .channels()
    .all()
    .find((channel) => channel.address() === CARBON_EMISSIONS_TOPIC)!;
  const spec = carbonTopics.find((topic) => topic.name === CARBON_EMISSIONS_TOPIC)!;
  expect(carbonTopics.map((topic) => topic.name)).toEqual([CARBON_EMISSIONS_TOPIC]);
  expect(spec.withDeadLetterTopic).toBe(true);
  expect(emissions.extensions().get('x-partitions')?.value()).toBe(spec.partitions);
  expect(emissions.bindings().get('kafka')?.value()).toMatchObject({
    topic: CARBON_EMISSIONS_TOPIC,
    partitions: spec.partitions,
  });

  expectCloudEventMessages(document!);
});

it('lists, per consumed topic, exactly the types this service decodes from it', () => {
  const all = [...EMISSIONS, ...REGISTRY, ...READINGS, ...ALLOCATIONS];
  const accepted = (decode: (type: string, value: Uint8Array) => unknown) =>
    all.filter((type) => decoderTakes(decode, type));
  expect(accepted(decodeRegistryRecord)).toEqual(REGISTRY);
  expect(accepted(decodeReadingsRecord)).toEqual(READINGS);
  expect(accepted(decodeAllocationRecord)).toEqual(ALLOCATIONS);
});

it('lists, for the emissions topic, exactly the types this service publishes on it', () => {
  const ledgerEvent = (type: string, cause?: string): RecordedEvent => ({
    eventId: '00000000-0000-4000-8000-000000000001',
    streamId: 'ledger-ent-1-2023-06',
    streamVersion: 1,
    globalPosition: 1n,
    transactionId: 1n,
    type,
    schemaVersion: 1,
    data: {
      enterpriseId: 'ent-1',
      parkId: 'park-1',
      month: '2023-06',
      timeZone: 'Asia/Shanghai',
      ...(cause ? { cause, source: 'test', lines: [] } : { figures: {}, closedBy: 'test' }),
    },
    metadata: {},
    recordedAt: new Date('2023-07-01T00:00:00Z'),
  });
  const causes = ['reading', 'estimate', 'correction', 'allocation', 'certificates', 'restatement'];
  const published = causes.map((cause) =>
    carbonEventMapper(ledgerEvent('PostingsRecorded', cause)),
  );
  expect(new Set(published.map((message) => message?.type))).toEqual(new Set(EMISSIONS));
  expect(new Set(published.map((message) => message?.topic))).toEqual(
    new Set([CARBON_EMISSIONS_TOPIC]),
  );
  // Keyed by the enterprise id, as the document says.
  expect(new Set(published.map((message) => message?.key))).toEqual(new Set(['ent-1']));
  // Period closes stay inside the service.
  expect(carbonEventMapper(ledgerEvent('PeriodClosed'))).toBeNull();
});

it('a payload naming no protobuf message is an error', async () => {
  const text = readFileSync(DOCUMENT, 'utf8').replace(
    'schema: park.carbon.v1.EmissionsRestated',
    'schema: park.carbon.v1.EmissionsRecomputed',
  );
  const { document, diagnostics } = await parse(text);
  expect(document).toBeUndefined();
  expect(JSON.stringify(diagnostics)).toContain(
    'park.carbon.v1.EmissionsRecomputed is not a message of the park contracts',
  );
});
