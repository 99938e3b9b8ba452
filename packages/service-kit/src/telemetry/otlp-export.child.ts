// A service that exports over OTLP/HTTP, in a process of its own: the exporter loads node:http
// with a dynamic import(), which jest's module registry refuses.
import { trace } from '@opentelemetry/api';
import { startTelemetry } from '@park/service-kit/telemetry';

async function main(): Promise<void> {
  const telemetry = startTelemetry({
    serviceName: 'exporting-service',
    serviceVersion: '1.2.3',
    instrumentations: [],
    // The base URL, as in OTEL_EXPORTER_OTLP_ENDPOINT; the exporter posts to /v1/traces.
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.CHILD_OTLP_ENDPOINT },
  });
  trace.getTracer('child').startActiveSpan('exported work', (span) => span.end());
  // The batch processor holds the span for its 5 s schedule and the process exits right after
  // shutdown: the span reaches the collector only if shutdown flushes it.
  await telemetry.shutdown();
  process.send!({ exporting: telemetry.exporting }, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
