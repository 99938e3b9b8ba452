import { ConfigResourceTypes } from 'kafkajs';
import { testInfrastructure, uniqueTopic } from '@park/testing';
import { createKafka } from './client';
import { deadLetterTopic, ensureTopics, TopicPartitionMismatchError } from './topics';

const kafka = () =>
  createKafka({
    clientId: 'topics-test',
    brokers: testInfrastructure().kafkaBrokers,
    logLevel: 'error',
  });

it('creates topics with their partitions, retention and compaction, and refuses to change a partition count', async () => {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const readings = uniqueTopic('readings');
    const registry = uniqueTopic('registry');
    const specs = [
      { name: readings, partitions: 6, withDeadLetterTopic: true },
      { name: registry, partitions: 3, compacted: true },
    ];
    await ensureTopics(admin, specs);
    // Idempotent: a second call with the same contract changes nothing.
    await ensureTopics(admin, specs);

    const metadata = await admin.fetchTopicMetadata({
      topics: [readings, deadLetterTopic(readings), registry],
    });
    expect(Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]))).toEqual({
      [readings]: 6,
      [deadLetterTopic(readings)]: 6,
      [registry]: 3,
    });
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [readings, registry].map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['cleanup.policy', 'retention.ms'],
      })),
    });
    const byTopic = Object.fromEntries(
      configs.resources.map((r) => [
        r.resourceName,
        Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
      ]),
    );
    expect(byTopic[readings]).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
    expect(byTopic[registry]).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': '-1' });

    await expect(ensureTopics(admin, [{ name: readings, partitions: 12 }])).rejects.toThrow(
      TopicPartitionMismatchError,
    );
    await expect(ensureTopics(admin, [{ name: readings, partitions: 12 }])).rejects.toThrow(
      /has 6 partitions, the contract says 12/,
    );
  } finally {
    await admin.disconnect();
  }
});
