// Loads only OpenTelemetry and prom-client, so a service's main can start tracing through this
// entry point before the modules the instrumentations patch are required.
export {
  startTelemetry,
  DEFAULT_UNTRACED_HTTP_PATHS,
  type Telemetry,
  type TelemetryOptions,
} from './tracing';
export {
  createMetrics,
  brokerLag,
  inProcessLag,
  type MetricsOptions,
  type ObserveConsumerOptions,
  type PartitionLag,
  type RenderedMetrics,
  type ServiceMetrics,
} from './metrics';
export { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
