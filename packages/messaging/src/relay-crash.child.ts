// The relay in a process of its own, for the crash test: after Kafka acknowledged its first
// batch and before the checkpoint is stored, it tells the parent and waits to be killed.
import { createPool, EventStore } from '@park/eventstore';
import { createKafka } from './client';
import { MessageProducer } from './producer';
import { OutboxRelay } from './relay';
import { quantityMapper } from './test-support/fixtures';

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  const pool = createPool({ connectionString: env.RELAY_DATABASE_URL! });
  const producer = new MessageProducer(
    createKafka({
      clientId: 'relay-child',
      brokers: env.RELAY_BROKERS!.split(','),
      logLevel: 'error',
    }),
  );
  const relay = new OutboxRelay(new EventStore(pool), producer, {
    name: 'relay',
    source: '//park/test',
    connectionString: env.RELAY_DATABASE_URL!,
    map: quantityMapper(env.RELAY_TOPIC!),
    batchSize: Number(env.RELAY_BATCH_SIZE),
    afterPublished: async (events) => {
      process.send!({ acked: events.length });
      await new Promise(() => undefined);
    },
  });
  relay.start();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
