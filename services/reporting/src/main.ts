// Entry point: tracing starts before grpc-js, http, express, pg and ioredis are loaded (the
// instrumentations patch them on load), then the service itself is imported and started.
import { startTelemetry } from '@park/service-kit/telemetry';

const telemetry = startTelemetry({
  serviceName: 'reporting',
  serviceVersion: process.env.SERVICE_VERSION ?? '0.1.0',
});

void import('./server.js')
  .then(({ main }) => main(telemetry))
  .catch(async (error: unknown) => {
    process.stderr.write(
      `reporting failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    await telemetry.shutdown().catch(() => undefined);
    process.exit(1);
  });
