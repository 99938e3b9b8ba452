/*
 * Tracing for a park service. Call startTelemetry first thing in main, before anything requires
 * @grpc/grpc-js, http, express, pg or ioredis: the instrumentations patch those modules when
 * they are loaded, and a module loaded earlier is silently left untraced. So main imports
 * `@park/service-kit/telemetry` (this folder loads only OpenTelemetry and prom-client), starts
 * telemetry, and only then imports the rest of the service:
 *
 *   import { startTelemetry } from '@park/service-kit/telemetry';
 *   const telemetry = startTelemetry({ serviceName: 'metering', serviceVersion: '1.2.0' });
 *   void import('./server').then(({ main }) => main(telemetry));
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  /**
   * OTLP/HTTP base URL, e.g. http://otel-collector:4318 (spans go to `<url>/v1/traces`).
   * Defaults to OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, a full URL).
   */
  otlpEndpoint?: string;
  /**
   * Test hook: spans go to this exporter as each one ends (SimpleSpanProcessor), for example an
   * InMemorySpanExporter, so a test reads them without waiting for a batch.
   */
  spanExporter?: SpanExporter;
  /** Instrumentations to register instead of the defaults (grpc, http, express, pg, ioredis). */
  instrumentations?: Instrumentation[];
  /** Incoming HTTP paths never traced: probes and scrapes would drown the real requests. */
  untracedHttpPaths?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  readonly provider: NodeTracerProvider;
  /** Whether spans leave the process; without it they still propagate ids to logs and Kafka. */
  readonly exporting: boolean;
  forceFlush(): Promise<void>;
  /** Flushes the spans not yet exported, then unregisters everything; safe to call twice. */
  shutdown(): Promise<void>;
}

export const DEFAULT_UNTRACED_HTTP_PATHS = ['/metrics', '/healthz', '/livez', '/readyz'] as const;

let started: Telemetry | undefined;

/**
 * Registers the tracer provider, the W3C trace-context propagator, the AsyncLocalStorage
 * context manager and the instrumentations. Spans are exported over OTLP/HTTP in batches when
 * an endpoint is configured; with neither an endpoint nor an exporter, spans are still created
 * and sampled, so trace ids reach log lines and Kafka headers (and a downstream service that
 * does export continues the trace), but nothing leaves the process.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (started) {
    throw new Error('telemetry is already started in this process; shut it down first');
  }
  const env = options.env ?? process.env;
  const spanProcessors: SpanProcessor[] = [];
  if (options.spanExporter) spanProcessors.push(new SimpleSpanProcessor(options.spanExporter));
  const url = options.otlpEndpoint
    ? tracesUrl(options.otlpEndpoint)
    : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
      (env.OTEL_EXPORTER_OTLP_ENDPOINT ? tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT) : undefined);
  // Other OTEL_EXPORTER_OTLP_* settings (headers, timeout, compression) the exporter reads itself.
  if (url) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));

  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector, hostDetector, processDetector] }))
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        [ATTR_SERVICE_VERSION]: options.serviceVersion,
      }),
    );
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  // No contextManager given: sdk-trace-node registers its AsyncLocalStorage context manager.
  provider.register({ propagator: new W3CTraceContextPropagator() });

  const untraced = new Set(options.untracedHttpPaths ?? DEFAULT_UNTRACED_HTTP_PATHS);
  const disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: options.instrumentations ?? [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => untraced.has(pathOf(request.url)),
      }),
      new ExpressInstrumentation(),
      new GrpcInstrumentation(),
      // Pollers (relay, processors, readiness) would otherwise make a root trace of every query.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });

  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    provider,
    exporting: spanProcessors.length > 0,
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopping ??= (async () => {
        try {
          await provider.shutdown();
        } finally {
          disableInstrumentations();
          trace.disable();
          context.disable();
          propagation.disable();
          started = undefined;
        }
      })();
      return stopping;
    },
  };
  started = telemetry;
  return telemetry;
}

function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!;
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
