import { context, propagation, trace, type Context } from '@opentelemetry/api';
import type { EventMetadata } from './types';

/**
 * The W3C trace context of the active span (or of `ctx`), as event metadata: `traceparent` and,
 * when the trace carries vendor state, `tracestate`. Empty when no span is active or no
 * OpenTelemetry SDK is registered (the API's propagator is then a no-op), so stored events never
 * carry a context that leads nowhere.
 */
export function traceMetadata(ctx: Context = context.active()): EventMetadata {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const metadata: EventMetadata = {};
  if (carrier.traceparent) metadata.traceparent = carrier.traceparent;
  if (carrier.tracestate) metadata.tracestate = carrier.tracestate;
  return metadata;
}

/**
 * The metadata to store: the caller's, completed with the active trace context unless the
 * caller set a traceparent itself (an import or a replay that carries the upstream trace).
 */
export function withTraceMetadata(metadata: EventMetadata | undefined): EventMetadata {
  if (metadata?.traceparent !== undefined) return metadata;
  const traced = traceMetadata();
  return traced.traceparent === undefined ? (metadata ?? {}) : { ...traced, ...metadata };
}
