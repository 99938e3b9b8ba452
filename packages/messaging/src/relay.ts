import { randomUUID } from 'node:crypto';
import { SpanKind, type Link } from '@opentelemetry/api';
import { LogProcessor, type EventStore, type RecordedEvent } from '@park/eventstore';
import { CE, PROTOBUF_CONTENT_TYPE } from './headers';
import type { MessageProducer, OutgoingRecord } from './producer';
import { linkTo, MESSAGING, recordFailure, tracer } from './tracing';

/** What one stored event becomes on Kafka; domain events with no integration event map to null. */
export interface IntegrationMessage {
  topic: string;
  /** The aggregate id: per-key order on the topic follows the stream. */
  key: string;
  /** CloudEvents type, the protobuf message's full name, e.g. park.metering.v1.ReadingsRecorded. */
  type: string;
  payload: Uint8Array;
  subject?: string;
}

export type IntegrationEventMapper = (event: RecordedEvent) => IntegrationMessage | null;

export interface RelayOptions {
  /** Processor name (checkpoint and lock); one relay per service event store. */
  name: string;
  /** CloudEvents source, e.g. //park/metering. */
  source: string;
  connectionString: string;
  map: IntegrationEventMapper;
  batchSize?: number;
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
  /** Runs after Kafka acknowledged a batch and before the checkpoint is stored. */
  afterPublished?: (events: RecordedEvent[]) => Promise<void>;
}

/**
 * Publishes committed events from the event store to Kafka, in log order, at least once: the
 * checkpoint moves only after Kafka acknowledged the batch, so a crash in between republishes
 * the batch (consumers drop the duplicates by ce_id) and never loses it.
 */
export class OutboxRelay {
  private readonly processor: LogProcessor;
  private publishedCount = 0;

  constructor(
    store: EventStore,
    private readonly producer: MessageProducer,
    private readonly options: RelayOptions,
  ) {
    this.processor = new LogProcessor(
      store,
      {
        name: options.name,
        connectionString: options.connectionString,
        batchSize: options.batchSize ?? 500,
        pollIntervalMs: options.pollIntervalMs ?? 500,
        onError: options.onError,
      },
      {
        kind: 'at-least-once',
        handle: (events) => this.publish(events),
        afterHandled: options.afterPublished,
      },
    );
  }

  get name(): string {
    return this.options.name;
  }

  /** Records Kafka acknowledged since this relay started (a republished batch counts again). */
  get published(): number {
    return this.publishedCount;
  }

  get state() {
    return this.processor.state;
  }

  start(): void {
    this.processor.start();
  }

  async stop(): Promise<void> {
    await this.processor.stop();
  }

  /** Publishes everything committed so far; for tools and tests. */
  async catchUp(): Promise<number> {
    return this.processor.catchUp();
  }

  private async publish(events: RecordedEvent[]): Promise<void> {
    const records: OutgoingRecord[] = [];
    for (const event of events) {
      const message = this.options.map(event);
      if (message) records.push(integrationRecord(event, message, this.options.source));
    }
    if (records.length === 0) return;
    const topics = [...new Set(records.map((record) => record.topic))];
    const links = records
      .map((record) => linkTo(record.headers ?? {}))
      .filter((link): link is Link => link !== undefined);
    // A batch mixes events of many traces, so its span is a root linked to each of them; the
    // records keep their own event's traceparent, which consumers continue.
    await tracer().startActiveSpan(
      `${topics.length === 1 ? topics[0] : this.options.name} publish`,
      {
        kind: SpanKind.PRODUCER,
        root: true,
        links,
        attributes: {
          [MESSAGING.system]: 'kafka',
          [MESSAGING.operationType]: 'send',
          [MESSAGING.operationName]: 'publish',
          [MESSAGING.batchCount]: records.length,
          ...(topics.length === 1 ? { [MESSAGING.destinationName]: topics[0] } : {}),
        },
      },
      async (span) => {
        try {
          await this.producer.send(records);
        } catch (error) {
          recordFailure(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
    this.publishedCount += records.length;
  }
}

export interface CloudEventRecord {
  topic: string;
  key: string;
  /** ce_type: the payload's protobuf message name. */
  type: string;
  payload: Uint8Array;
  /** ce_id; a random one when absent. */
  id?: string;
  /** ce_source, e.g. //park/metering. */
  source: string;
  time?: Date;
  subject?: string;
  traceparent?: string;
  tracestate?: string;
}

/** A protobuf payload as a record with CloudEvents binary-mode headers. */
export function cloudEventRecord(event: CloudEventRecord): OutgoingRecord {
  const headers: Record<string, string> = {
    [CE.id]: event.id ?? randomUUID(),
    [CE.type]: event.type,
    [CE.source]: event.source,
    [CE.specversion]: '1.0',
    [CE.contentType]: PROTOBUF_CONTENT_TYPE,
  };
  if (event.time) headers[CE.time] = event.time.toISOString();
  if (event.subject) headers[CE.subject] = event.subject;
  if (event.traceparent) {
    headers[CE.traceparent] = event.traceparent;
    if (event.tracestate) headers[CE.tracestate] = event.tracestate;
  }
  return { topic: event.topic, key: event.key, value: event.payload, headers };
}

/** The record the relay publishes for a stored event and its integration message. */
export function integrationRecord(
  event: RecordedEvent,
  message: IntegrationMessage,
  source: string,
): OutgoingRecord {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return cloudEventRecord({
    topic: message.topic,
    key: message.key,
    type: message.type,
    payload: message.payload,
    id: event.eventId,
    source,
    time: event.recordedAt,
    subject: message.subject,
    traceparent: text(event.metadata.traceparent),
    tracestate: text(event.metadata.tracestate),
  });
}
