// `parkctl dlq list|replay <topic>`: the dead letters of a topic (`<topic>.dlq`) on Kafka,
// through @park/messaging's listDeadLetters and replayDeadLetters.
import {
  CE,
  deadLetterTopic,
  DLQ,
  listDeadLetters,
  MessageProducer,
  replayDeadLetters,
} from '@park/messaging';
import type { Context } from '../context';
import { CliError, UsageError } from '../errors';
import { listView, recordView, type Column, type View } from '../output';
import { formatCount } from '../progress';
import { positiveInt } from '../values';

type Kafka = ReturnType<Context['kafka']>;

const TOPIC = /^[a-zA-Z0-9._-]+$/;

function checkTopic(topic: string): string {
  if (!TOPIC.test(topic)) {
    throw new UsageError(
      `topic must be a Kafka topic name such as park.metering.readings.v1 (not "${topic}")`,
    );
  }
  if (topic.endsWith('.dlq')) {
    throw new UsageError(
      `name the original topic (${topic.slice(0, -4)}), not its dead letter topic`,
    );
  }
  return topic;
}

const COLUMNS: Column[] = [
  { key: 'partition', align: 'right' },
  { key: 'offset', align: 'right' },
  { key: 'key' },
  { key: 'type' },
  { key: 'group' },
  { key: 'attempts', align: 'right' },
  { key: 'failed_at', header: 'failed' },
  { key: 'error' },
];

/** Refuses a topic without a dead letter topic, which kafkajs would report obscurely. */
async function requireDeadLetterTopic(ctx: Context, kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  // kafkajs retries an unreachable broker for over a minute: --timeout bounds the wait.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CliError(
            `Kafka at ${ctx.settings.kafkaBrokers.join(',')} did not answer within ${ctx.settings.timeoutMs / 1000} s (--kafka, KAFKA_BROKERS)`,
          ),
        ),
      ctx.settings.timeoutMs,
    );
  });
  try {
    await Promise.race([admin.connect(), deadline]);
  } finally {
    clearTimeout(timer);
  }
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(deadLetterTopic(topic))) {
      throw new CliError(
        `there is no topic ${deadLetterTopic(topic)} on ${ctx.settings.kafkaBrokers.join(',')}` +
          (topics.includes(topic) ? ` (${topic} has no dead letter topic)` : ` (nor ${topic})`),
      );
    }
  } finally {
    await admin.disconnect();
  }
}

export async function listDlq(
  ctx: Context,
  topic: string,
  options: { limit?: string },
): Promise<View> {
  checkTopic(topic);
  const limit = positiveInt(options.limit, '--limit', Number.MAX_SAFE_INTEGER);
  const kafka = ctx.kafka();
  await requireDeadLetterTopic(ctx, kafka, topic);
  const letters = (await listDeadLetters(kafka, topic, ctx.settings.timeoutMs)).slice(0, limit);
  return listView(
    letters.map((letter) => ({
      partition: letter.partition,
      offset: letter.offset,
      key: letter.key,
      originalTopic: letter.originalTopic,
      error: letter.error,
      headers: letter.headers,
      valueBase64: letter.value.toString('base64'),
    })),
    COLUMNS,
    letters.map((letter) => ({
      partition: letter.partition,
      offset: letter.offset,
      key: letter.key ?? '',
      type: letter.headers[CE.type],
      group: letter.headers[DLQ.consumerGroup],
      attempts: letter.headers[DLQ.attempts],
      failed_at: letter.headers[DLQ.failedAt],
      error: letter.error,
    })),
    `(no dead letters on ${topic}.dlq)`,
  );
}

export async function replayDlq(
  ctx: Context,
  topic: string,
  options: { group?: string },
): Promise<View> {
  checkTopic(topic);
  const kafka = ctx.kafka();
  await requireDeadLetterTopic(ctx, kafka, topic);
  const producer = new MessageProducer(kafka);
  let bar: ReturnType<Context['progress']> | undefined;
  let replayed: number;
  try {
    replayed = await replayDeadLetters(kafka, producer, {
      topic,
      replayGroupId: options.group,
      timeoutMs: Math.max(ctx.settings.timeoutMs, 60_000),
      onProgress: (done, total) => {
        bar ??= ctx.progress({ label: `replaying ${topic}.dlq`, total, format: formatCount });
        bar.update(done);
      },
    });
    bar?.finish();
  } finally {
    bar?.abort();
    await producer.disconnect().catch(() => undefined);
  }
  const view = recordView({ topic, replayed }, [{ key: 'topic' }, { key: 'replayed' }], {
    topic,
    replayed,
  });
  if (replayed === 0)
    view.notes = [`nothing to replay: every dead letter of ${topic} was replayed before`];
  return view;
}
