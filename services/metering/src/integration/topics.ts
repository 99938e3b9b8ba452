import type { TopicSpec } from '@park/messaging';

/** Registry entities (park, enterprises, installations, meters); key = the entity's id. */
export const METERING_REGISTRY_TOPIC = 'park.metering.registry.v1';
/** Interval values, corrections, estimates and gaps; key = the meter id. */
export const METERING_READINGS_TOPIC = 'park.metering.readings.v1';

/**
 * The metering service's integration topics. Partition counts are part of the contract: per-key
 * order depends on them, so they never change. Both topics keep records forever (consumers
 * rebuild from offset 0); the registry is also compacted, each record carrying the entity's
 * whole state, so the latest record per key is enough.
 */
export const meteringTopics: readonly TopicSpec[] = [
  {
    name: METERING_REGISTRY_TOPIC,
    partitions: 6,
    compacted: true,
    retentionMs: -1,
    withDeadLetterTopic: true,
  },
  {
    name: METERING_READINGS_TOPIC,
    partitions: 24,
    retentionMs: -1,
    withDeadLetterTopic: true,
  },
];
