-- Up Migration

-- Kafka messages a consumer group has applied. The handler's writes and this row commit in one
-- transaction, so a redelivered message (after a rebalance, a crash or a DLQ replay) is skipped.
CREATE TABLE inbox (
  consumer text NOT NULL,
  message_id text NOT NULL,
  topic text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);

-- Down Migration
DROP TABLE inbox;
