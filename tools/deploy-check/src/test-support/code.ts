// What the code says the deployment must match: configuration schemas, topics, consumers,
// metrics. Shared by the tests of the manifests as written and as rendered.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { carbonConfigSchema } from '@park/carbon/server';
import * as carbonIntegration from '@park/carbon/integration';
import { dispatchConfigSchema } from '@park/dispatch/server';
import * as meteringIntegration from '@park/metering/integration';
import { meteringConfigSchema } from '@park/metering/server';
import { reportingConfigSchema, reportingProjections } from '@park/reporting/server';
import { createMetrics } from '@park/service-kit';
// Dispatch has no ./integration export: its topics are read from the source file.
import * as dispatchIntegration from '../../../../services/dispatch/src/integration/outbound';
import { expectedTopics, repoRoot, SERVICES, type KafkaUsage, type ServiceName } from '../index';

export const schemas = {
  metering: meteringConfigSchema,
  carbon: carbonConfigSchema,
  dispatch: dispatchConfigSchema,
  reporting: reportingConfigSchema,
} as const;

/** Variables the services read besides their schema's (Kafka security, Node, OpenTelemetry). */
export const EXTRA_VARIABLES = new Set([
  'KAFKA_SSL',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_LOG_LEVEL',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'POD_NAME',
  'POD_NAMESPACE',
]);

export const topicSpecs = {
  metering: meteringIntegration.meteringTopics,
  carbon: carbonIntegration.carbonTopics,
  dispatch: dispatchIntegration.dispatchTopics,
  reporting: [],
} as const;

/** Every *_TOPIC constant the services export, by constant name. */
export const topicConstants: Record<string, string> = Object.fromEntries(
  [meteringIntegration, carbonIntegration, dispatchIntegration].flatMap((module) =>
    Object.entries(module).filter(
      (entry): entry is [string, string] =>
        entry[0].endsWith('_TOPIC') && typeof entry[1] === 'string',
    ),
  ),
);

/**
 * The ConsumerRunners a service's server.ts starts (runtime.addConsumer with a groupId and
 * topics): their groups and topics, read from the source so that a new consumer is seen here.
 */
export function consumersOf(service: ServiceName): { groups: string[]; topics: string[] } {
  const source = fs.readFileSync(
    path.join(repoRoot, 'services', service, 'src', 'server.ts'),
    'utf8',
  );
  const groups: string[] = [];
  const topics: string[] = [];
  const pattern = /addConsumer\(\{\s*groupId: `\$\{prefix\}([a-z0-9-]+)`,\s*topics: \[([^\]]*)\]/g;
  for (const [, group, list] of source.matchAll(pattern)) {
    groups.push(group!);
    for (const [, constant] of list!.matchAll(/\$\{([A-Z_]+)\}/g)) {
      const topic = topicConstants[constant!];
      if (!topic) throw new Error(`${service}: unknown topic constant ${constant}`);
      topics.push(topic);
    }
  }
  return { groups, topics };
}

export function kafkaUsages(): KafkaUsage[] {
  return SERVICES.map((service) => {
    const consumers = service === 'reporting' ? { groups: [], topics: [] } : consumersOf(service);
    const projections =
      service === 'reporting'
        ? reportingProjections.map((projection) => ({
            group: `reporting-${projection.name}-v1`,
            topics: [...projection.topics],
          }))
        : [];
    return {
      service,
      produces: expectedTopics(topicSpecs[service]).map((topic) => topic.name),
      consumesWithDeadLetters: consumers.topics,
      reads: projections.flatMap((projection) => projection.topics),
      groups: [...consumers.groups, ...projections.map((projection) => projection.group)],
    };
  });
}

/** Metric names the services export: service-kit's registry and the services' own gauges. */
export async function exportedMetrics(): Promise<Set<string>> {
  const metrics = createMetrics({ serviceName: 'deploy-check', defaultMetrics: false });
  const names = new Set(metrics.registry.getMetricsAsArray().map((metric) => metric.name));
  await metrics.close();
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(full);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
    });
  for (const service of SERVICES) {
    for (const file of walk(path.join(repoRoot, 'services', service, 'src'))) {
      for (const [, name] of fs.readFileSync(file, 'utf8').matchAll(/name: '(park_[a-z0-9_]+)'/g))
        names.add(name!);
    }
  }
  return names;
}

export const KUBE_STATE_METRICS = new Set([
  'up',
  'kube_deployment_spec_replicas',
  'kube_deployment_status_replicas_available',
  'kube_deployment_status_replicas_unavailable',
  'kube_deployment_status_replicas_ready',
  'kube_pod_status_ready',
]);

/** Every topic of every service, with its dead-letter topic, as ensureTopics creates them. */
export function expectedTopicsOfAll() {
  return SERVICES.flatMap((service) => expectedTopics(topicSpecs[service]));
}
