/** JSON that survives a round trip through jsonb: no bigint, no Date, no undefined. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Context carried with every event: who caused it and the trace it belongs to. */
export interface EventMetadata {
  /** W3C traceparent of the span that appended the event; the relay puts it on the Kafka record. */
  traceparent?: string;
  /** W3C tracestate travelling with the traceparent, when the trace carries vendor state. */
  tracestate?: string;
  correlationId?: string;
  causationId?: string;
  /** The principal (user, integrator or service) whose command produced the event. */
  actor?: string;
  [key: string]: JsonValue | undefined;
}

export interface NewEvent {
  /** Unique id of the event; also the CloudEvents id and the consumers' dedupe key. */
  eventId?: string;
  type: string;
  /** Shape version of data; old shapes are upcast on read, never rewritten. */
  schemaVersion?: number;
  data: JsonObject;
  metadata?: EventMetadata;
}

/** Where a processor is in the global log: the pair the log is ordered by. */
export interface LogPosition {
  transactionId: bigint;
  globalPosition: bigint;
}

export const LOG_START: LogPosition = { transactionId: 0n, globalPosition: 0n };

export interface RecordedEvent {
  eventId: string;
  streamId: string;
  streamVersion: number;
  globalPosition: bigint;
  transactionId: bigint;
  type: string;
  schemaVersion: number;
  data: JsonObject;
  metadata: EventMetadata;
  recordedAt: Date;
}

/**
 * What the appender believes about the stream: `any` skips the check, `no_stream` requires a
 * new stream, `stream_exists` an existing one, a number the exact current version.
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  /** The stream's version after the append. */
  nextVersion: number;
  events: Pick<RecordedEvent, 'eventId' | 'streamVersion' | 'globalPosition' | 'transactionId'>[];
}
