// A consumer in a process of its own, for the shutdown test: it records every message it
// applies and stops cleanly on SIGTERM, exiting 0.
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '@park/eventstore';
import { createKafka } from './client';
import { ConsumerRunner } from './consumer';
import { MessageProducer } from './producer';

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const pool = createPool({ connectionString: env.CONSUMER_DATABASE_URL! });
  const kafka = createKafka({
    clientId: 'shutdown-child',
    brokers: env.CONSUMER_BROKERS!.split(','),
    logLevel: 'error',
  });
  const producer = new MessageProducer(kafka);
  const runner = new ConsumerRunner(kafka, producer, {
    groupId: env.CONSUMER_GROUP!,
    topics: [env.CONSUMER_TOPIC!],
    pool,
    // Commit only at batch ends and on shutdown, so the test sees the shutdown commit.
    commitIntervalMs: 60_000,
    handler: async (message, tx) => {
      await tx.query('INSERT INTO processed (kafka_partition, kafka_offset) VALUES ($1, $2)', [
        message.partition,
        message.offset,
      ]);
      await sleep(5);
    },
  });
  runner.stopOnSignals(async (error) => {
    await producer.disconnect();
    await pool.end();
    process.exit(error ? 1 : 0);
  });
  await runner.start();
  process.send!('started');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
