import {
  ROOT_CONTEXT,
  SpanStatusCode,
  propagation,
  trace,
  type Span,
  type Context,
  type Link,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';

/*
 * Only @opentelemetry/api here: without a registered SDK every call is a no-op, so the package
 * costs nothing to services (and tests) that do not trace. The service kit registers the SDK.
 */

/**
 * Looked up at each use, not once at import: a tracer obtained before the SDK registers stays a
 * no-op for good when this package resolves a copy of the API other than the SDK's.
 */
export function tracer(): Tracer {
  return trace.getTracer('@park/messaging');
}

/** OpenTelemetry messaging semantic conventions (1.40), spelled out to keep the SDK out. */
export const MESSAGING = {
  system: 'messaging.system',
  destinationName: 'messaging.destination.name',
  partitionId: 'messaging.destination.partition.id',
  offset: 'messaging.kafka.offset',
  key: 'messaging.kafka.message.key',
  messageId: 'messaging.message.id',
  consumerGroup: 'messaging.consumer.group.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  batchCount: 'messaging.batch.message_count',
} as const;

const recordGetter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The trace context a record's headers (or an event's metadata) carry; ROOT when none. */
export function extractContext(carrier: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, recordGetter);
}

/** A link to the context carried in trace headers, if they carry a valid one. */
export function linkTo(carrier: Record<string, string>): Link | undefined {
  const spanContext = trace.getSpanContext(extractContext(carrier));
  return spanContext && trace.isSpanContextValid(spanContext)
    ? { context: spanContext }
    : undefined;
}

/** Marks the span failed with the error as an exception event. */
export function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
