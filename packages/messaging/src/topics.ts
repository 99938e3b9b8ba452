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
    try {
      await admin.createTopics({
        // Leaders are awaited below: kafkajs' own wait gives up when the new topic's metadata
        // has not reached the broker yet ("does not host this topic-partition").
        waitForLeaders: false,
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
    } catch (error) {
      // Another replica created them first: the partition check below still applies.
      if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
    }
    await waitForLeaders(
      admin,
      missing.map((spec) => spec.name),
    );
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

const TRANSIENT_METADATA_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Waits until every partition of the topics has a leader, so producing to them works at once. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const ready =
        metadata.topics.length === topics.length &&
        metadata.topics.every(
          (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
        );
      if (ready) return;
    } catch (error) {
      if (!TRANSIENT_METADATA_ERRORS.has((error as { type?: string }).type ?? '')) throw error;
    }
    if (Date.now() + delay > deadline) {
      throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * A service's topics: its own, created or checked as ensureTopics does, and the ones it reads,
 * created only when absent (a service may start before their producer on a fresh broker, and a
 * consumer cannot subscribe to a missing topic) as their producers define them; an existing
 * input topic is its producer's business. Every name gets the prefix (tests on a shared broker).
 */
export async function prepareTopics(
  admin: Admin,
  topics: { own: readonly TopicSpec[]; inputs: readonly TopicSpec[]; prefix?: string },
): Promise<void> {
  const prefixed = (specs: readonly TopicSpec[]) =>
    specs.map((spec) => ({ ...spec, name: `${topics.prefix ?? ''}${spec.name}` }));
  await ensureTopics(admin, prefixed(topics.own));
  const existing = new Set(await admin.listTopics());
  await ensureTopics(
    admin,
    prefixed(topics.inputs).filter((spec) => !existing.has(spec.name)),
  );
}
