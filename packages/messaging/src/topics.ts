import type { Admin } from 'kafkajs';

export interface TopicSpec {
  name: string;
  /** Fixed for the topic's life: per-key order depends on it, so it is never changed. */
  partitions: number;
  /** Registry topics keep the latest record per key on top of full history. */
  compacted?: boolean;
  /** -1 keeps records forever (integration topics are the replayable history). */
  retentionMs?: number;
  /** Also create `<name>.dlq` with the same partition count. */
  withDeadLetterTopic?: boolean;
}

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export class TopicPartitionMismatchError extends Error {
  override readonly name = 'TopicPartitionMismatchError';
}

/**
 * Creates missing topics with their partition count, retention and cleanup policy. An existing
 * topic whose partition count differs is an error, never altered: that would move keys between
 * partitions and break their order.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  const all = specs.flatMap((spec) =>
    spec.withDeadLetterTopic
      ? [
          spec,
          {
            name: deadLetterTopic(spec.name),
            partitions: spec.partitions,
            retentionMs: spec.retentionMs,
          },
        ]
      : [spec],
  );
  const existing = new Set(await admin.listTopics());
  const missing = all.filter((spec) => !existing.has(spec.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: -1,
        configEntries: [
          { name: 'cleanup.policy', value: spec.compacted ? 'compact,delete' : 'delete' },
          { name: 'retention.ms', value: String(spec.retentionMs ?? -1) },
        ],
      })),
    });
  }
  const present = all.filter((spec) => existing.has(spec.name));
  if (present.length === 0) return;
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.name) });
  for (const topic of metadata.topics) {
    const spec = present.find((s) => s.name === topic.name)!;
    if (topic.partitions.length !== spec.partitions) {
      throw new TopicPartitionMismatchError(
        `topic ${topic.name} has ${topic.partitions.length} partitions, the contract says ${spec.partitions}; ` +
          'partition counts of keyed topics are never changed',
      );
    }
  }
}
