import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAsyncApi, expectCloudEventMessages } from '@park/testing';

import { deadLetterTopic } from '@park/messaging';
import { METERING_EVENT_TYPES } from './decode';
import { METERING_READINGS_TOPIC, METERING_REGISTRY_TOPIC, meteringTopics } from './topics';

const DOCUMENT = path.resolve(__dirname, '../../../../docs/asyncapi/metering.yaml');

const parse = (text?: string) => parseAsyncApi(DOCUMENT, text);

const REGISTRY_TYPES = [
  'ParkConfigured',
  'EnterpriseRegistered',
  'EnterpriseUpdated',
  'InstallationRegistered',
  'MeterRegistered',
  'MeterReplaced',
  'MeterDecommissioned',
].map((name) => `park.metering.v1.${name}`);
const READINGS_TYPES = [
  'ReadingsRecorded',
  'ReadingCorrected',
  'ReadingsEstimated',
  'GapDetected',
].map((name) => `park.metering.v1.${name}`);

it('docs/asyncapi/metering.yaml is a valid AsyncAPI 3 document', async () => {
  const { document, diagnostics } = await parse();
  // Severity 0 is an error, 1 a warning; the "newer AsyncAPI version exists" hint is allowed.
  expect(diagnostics.filter((d) => d.severity <= 1).map((d) => d.message)).toEqual([]);
  expect(document?.version()).toBe('3.0.0');
});

it('describes the topics of the contract: addresses, partitions, messages and keys', async () => {
  const { document } = await parse();
  const channels = document!.channels().all();
  const described = Object.fromEntries(
    channels.map((channel) => [
      channel.address(),
      {
        partitions: channel.extensions().get('x-partitions')?.value(),
        messages: channel
          .messages()
          .all()
          .map((message) => message.name()),
      },
    ]),
  );
  const specs = Object.fromEntries(meteringTopics.map((spec) => [spec.name, spec]));
  const expected = {
    [METERING_REGISTRY_TOPIC]: REGISTRY_TYPES,
    [METERING_READINGS_TOPIC]: READINGS_TYPES,
  };
  expect(described).toEqual(
    Object.fromEntries(
      Object.entries(expected).flatMap(([topic, messages]) => [
        [topic, { partitions: specs[topic]!.partitions, messages }],
        [deadLetterTopic(topic), { partitions: specs[topic]!.partitions, messages }],
      ]),
    ),
  );
  expect([...REGISTRY_TYPES, ...READINGS_TYPES].sort()).toEqual([...METERING_EVENT_TYPES].sort());

  expectCloudEventMessages(document!);
});

it('a payload naming no protobuf message is an error', async () => {
  const text = readFileSync(DOCUMENT, 'utf8').replace(
    'schema: park.metering.v1.GapDetected',
    'schema: park.metering.v1.GapFound',
  );
  const { document, diagnostics } = await parse(text);
  expect(document).toBeUndefined();
  expect(JSON.stringify(diagnostics)).toContain(
    'park.metering.v1.GapFound is not a message of the park contracts',
  );
});
