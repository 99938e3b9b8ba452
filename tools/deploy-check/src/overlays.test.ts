// The overlays as `kubectl kustomize` renders them (skipped where kubectl is missing): valid,
// consistent with the services' configuration schemas, their topics and metrics, and closed by
// network policies except for what each service needs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '@park/service-kit';
import {
  addresses,
  allowed,
  asArray,
  asRecord,
  asStringRecord,
  checkConfigMap,
  checkKafka,
  checkKafkaUsers,
  checkPodSecurity,
  checkPostgresClusters,
  checkPrometheusRules,
  checkReferences,
  checkServiceDeployment,
  checkTopics,
  CNPG,
  containerEnvironment,
  containers,
  describe as describeObject,
  EXTERNAL_SECRETS,
  field,
  hasKubectl,
  hasOwnPolicy,
  isDefaultDeny,
  isObject,
  isServiceDeployment,
  isWorkload,
  k8sRoot,
  ofKind,
  operatorSecrets,
  podLabels,
  podReferences,
  PROMETHEUS_OPERATOR,
  render,
  selectorMatches,
  serviceOf,
  servicePort,
  SERVICES,
  STRIMZI,
  validateObject,
  type Endpoint,
  type KubeObject,
} from './index';
import {
  EXTRA_VARIABLES,
  exportedMetrics,
  expectedTopicsOfAll,
  kafkaUsages,
  KUBE_STATE_METRICS,
  schemas,
} from './test-support/code';

/** Secrets create-secrets.sh makes for the dev overlay, and the hosts in the URLs it writes. */
function devScript(): { secrets: Set<string>; text: string } {
  const text = fs.readFileSync(path.join(k8sRoot, 'overlays', 'dev', 'create-secrets.sh'), 'utf8');
  const services = (/services=\(([^)]*)\)/.exec(text)?.[1] ?? '').trim().split(/\s+/);
  const secrets = new Set<string>();
  for (const [, name] of text.matchAll(/(?:^|\|\|)\s*create "?([a-z$][a-z0-9$-]*)"?\s/gm)) {
    if (name!.includes('$service'))
      services.forEach((s) => secrets.add(name!.replace('$service', s)));
    else secrets.add(name!);
  }
  return { secrets, text };
}

const OVERLAYS = {
  dev: { namespace: 'park-dev', extraSecrets: () => devScript().secrets },
  prod: { namespace: 'park', extraSecrets: () => new Set<string>() },
} as const;

/** kubectl carries kustomize; without it (no cluster is needed) these are skipped. */
const maybe = hasKubectl() ? describe : describe.skip;

maybe('base renders (with kubectl kustomize)', () => {
  test('every object of the base is valid', () => {
    const objects = render(path.join(k8sRoot, 'base'));
    expect(objects.filter(isServiceDeployment)).toHaveLength(SERVICES.length);
    expect(objects.flatMap(validateObject)).toEqual([]);
  });
});

maybe.each(Object.keys(OVERLAYS) as (keyof typeof OVERLAYS)[])(
  'overlay %s (rendered with kubectl kustomize)',
  (overlay) => {
    const { namespace } = OVERLAYS[overlay];
    let objects: KubeObject[] = [];
    const deployments = () => objects.filter(isServiceDeployment);
    const deploymentOf = (service: string) =>
      deployments().find((d) => d.metadata?.name === service)!;
    const environment = (service: string) => containerEnvironment(deploymentOf(service), objects);

    beforeAll(() => {
      objects = render(path.join(k8sRoot, 'overlays', overlay));
    });

    test('renders the four services, each valid against the schemas', () => {
      expect(
        deployments()
          .map((d) => d.metadata?.name)
          .sort(),
      ).toEqual([...SERVICES].sort());
      expect(objects.flatMap(validateObject)).toEqual([]);
    });

    test(`puts everything namespaced into ${namespace}`, () => {
      const stray = objects.filter(
        (o) => o.kind !== 'Namespace' && o.metadata?.namespace !== namespace,
      );
      expect(stray.map(describeObject)).toEqual([]);
      expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata?.name)).toEqual([
        namespace,
      ]);
    });

    test('every workload is locked down, with pinned images', () => {
      const problems = objects
        .filter(isWorkload)
        .flatMap((workload) => checkPodSecurity(workload, { pinnedImages: true }));
      expect(problems).toEqual([]);
    });

    test("every service's Deployment keeps the gRPC probes, /healthz liveness and /tmp", () => {
      expect(deployments().flatMap(checkServiceDeployment)).toEqual([]);
    });

    test('ConfigMaps, secrets, service accounts and selectors refer to what exists', () => {
      const provided = new Set([...operatorSecrets(objects), ...OVERLAYS[overlay].extraSecrets()]);
      expect(checkReferences(objects, provided)).toEqual([]);
    });

    test('no secret is inlined: no Secret object, no credential in a ConfigMap', () => {
      expect(objects.filter((o) => o.kind === 'Secret').map(describeObject)).toEqual([]);
      expect(objects.filter((o) => o.kind === 'ConfigMap').flatMap(checkConfigMap)).toEqual([]);
    });

    test.each(SERVICES)("%s's environment passes its configuration schema", (service) => {
      const { env, problems } = environment(service);
      expect(problems).toEqual([]);
      const schema = schemas[service];
      const unknown = Object.keys(env).filter(
        (key) => !(key in schema.shape) && !EXTRA_VARIABLES.has(key) && !key.startsWith('OTEL_'),
      );
      expect(unknown).toEqual([]);
      expect(() => loadConfig(schema, env)).not.toThrow();
      const config = loadConfig(schema, env);
      expect(config.SERVICE_NAME).toBe(service);
      if (env.KAFKA_SASL_MECHANISM) {
        expect(['plain', 'scram-sha-256', 'scram-sha-512']).toContain(env.KAFKA_SASL_MECHANISM);
        expect(env.KAFKA_SASL_USERNAME).toBeTruthy();
        expect(environment(service).fromSecrets).toContain('KAFKA_SASL_PASSWORD');
      }
      if (env.KAFKA_SSL !== undefined) expect(['true', 'false']).toContain(env.KAFKA_SSL);
    });

    test.each(SERVICES)(
      "%s's ports, probes and shutdown agree with its configuration",
      (service) => {
        const deployment = deploymentOf(service);
        const { env } = environment(service);
        const container = containers(deployment, { init: false })[0]!;
        const port = (name: string) =>
          asArray(container.ports)
            .filter(isObject)
            .find((p) => p.name === name)?.containerPort;
        expect(Number(env.GRPC_PORT)).toBe(port('grpc'));
        expect(Number(env.HTTP_PORT)).toBe(port('http'));
        const grace = Number(
          field(deployment, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds') ?? 30,
        );
        const preStop = Number(field(container, 'lifecycle', 'preStop', 'sleep', 'seconds') ?? 0);
        const shutdown = Number(env.SHUTDOWN_TIMEOUT_MS ?? 20_000) / 1000;
        expect(grace).toBeGreaterThanOrEqual(preStop + shutdown + 5);
      },
    );

    test('the addresses in the configuration point at Services with those ports', () => {
      const problems: string[] = [];
      for (const service of SERVICES) {
        const { env } = environment(service);
        const kafka = ofKind(objects, STRIMZI, 'Kafka')[0];
        for (const { host, port } of addresses(env.KAFKA_BROKERS ?? '')) {
          if (kafka) {
            const listener = asArray(field(kafka, 'spec', 'kafka', 'listeners'))
              .filter(isObject)
              .find((l) => l.port === port);
            if (host.split('.')[0] !== `${kafka.metadata?.name}-kafka-bootstrap`)
              problems.push(
                `${service}: KAFKA_BROKERS ${host} is not ${kafka.metadata?.name}'s bootstrap`,
              );
            if (!listener) problems.push(`${service}: Kafka has no listener on ${port}`);
            else {
              if (listener.tls !== (env.KAFKA_SSL === 'true'))
                problems.push(
                  `${service}: KAFKA_SSL ${env.KAFKA_SSL} but listener tls ${String(listener.tls)}`,
                );
              const mechanism = field(listener, 'authentication', 'type');
              if ((mechanism ?? undefined) !== (env.KAFKA_SASL_MECHANISM ?? undefined))
                problems.push(
                  `${service}: KAFKA_SASL_MECHANISM ${env.KAFKA_SASL_MECHANISM} but listener ${String(mechanism)}`,
                );
            }
          } else if (!servicePort(serviceOf(objects, host, namespace), port)) {
            problems.push(`${service}: KAFKA_BROKERS ${host}:${port} is no Service port`);
          }
        }
        if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
          const url = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT);
          if (!servicePort(serviceOf(objects, url.hostname, namespace), Number(url.port)))
            problems.push(`${service}: OTEL_EXPORTER_OTLP_ENDPOINT ${url.host} is no Service port`);
        }
        if (env.NODE_EXTRA_CA_CERTS) {
          const mounted = asArray(
            containers(deploymentOf(service), { init: false })[0]?.volumeMounts,
          )
            .filter(isObject)
            .some((mount) => env.NODE_EXTRA_CA_CERTS!.startsWith(`${String(mount.mountPath)}/`));
          if (!mounted)
            problems.push(
              `${service}: NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS} is not mounted`,
            );
        }
      }
      const carbon = environment('reporting').env.REPORTING_CARBON_GRPC_ADDRESS;
      if (carbon) {
        const [{ host, port }] = addresses(carbon) as [{ host: string; port: number }];
        if (!servicePort(serviceOf(objects, host, namespace), port))
          problems.push(`reporting: REPORTING_CARBON_GRPC_ADDRESS ${carbon} is no Service port`);
      }
      expect(problems).toEqual([]);
    });

    describe('network policies', () => {
      const policies = () => objects.filter((o) => o.kind === 'NetworkPolicy');
      const namespaceLabels = () => ({
        'kubernetes.io/metadata.name': namespace,
        ...(objects.find((o) => o.kind === 'Namespace')?.metadata?.labels ?? {}),
      });
      const endpointOf = (workload: KubeObject): Endpoint => ({
        name: describeObject(workload),
        namespace,
        namespaceLabels: namespaceLabels(),
        labels: podLabels(workload),
        namedPorts: Object.fromEntries(
          containers(workload, { init: false }).flatMap((c) =>
            asArray(c.ports)
              .filter(isObject)
              .map((p) => [String(p.name), Number(p.containerPort)]),
          ),
        ),
      });
      /** The pods behind a Service and the container port a Service port reaches. */
      const behind = (host: string, port: number): { pods: Endpoint[]; port: number } => {
        const service = serviceOf(objects, host, namespace);
        const selector = asStringRecord(field(service, 'spec', 'selector'));
        const pods = objects
          .filter(isWorkload)
          .filter(
            (w) =>
              Object.keys(selector).length > 0 &&
              selectorMatches({ matchLabels: selector }, podLabels(w)),
          )
          .map(endpointOf);
        const entry = asArray(field(service, 'spec', 'ports'))
          .filter(isObject)
          .find((p) => p.port === port);
        const target = entry?.targetPort ?? port;
        return {
          pods,
          port: typeof target === 'number' ? target : (pods[0]?.namedPorts?.[String(target)] ?? -1),
        };
      };
      const kafkaBrokers = (env: Record<string, string>): { pods: Endpoint[]; port: number } => {
        const [{ host, port }] = addresses(env.KAFKA_BROKERS!) as [{ host: string; port: number }];
        const kafka = ofKind(objects, STRIMZI, 'Kafka')[0];
        if (!kafka) return behind(host, port);
        const pods = ofKind(objects, STRIMZI, 'KafkaNodePool')
          .filter((pool) => asArray(field(pool, 'spec', 'roles')).includes('broker'))
          .map((pool) => ({
            name: describeObject(pool),
            namespace,
            namespaceLabels: namespaceLabels(),
            labels: {
              ...asStringRecord(field(pool, 'spec', 'template', 'pod', 'metadata', 'labels')),
              'strimzi.io/cluster': String(kafka.metadata?.name),
              'strimzi.io/pool-name': String(pool.metadata?.name),
            },
          }));
        return { pods, port };
      };
      /** The PostgreSQL pods of a service: its CloudNativePG cluster, or the dev server. */
      const databaseOf = (service: string): { pods: Endpoint[]; port: number } => {
        const secret = asArray(containers(deploymentOf(service), { init: false })[0]?.env)
          .filter(isObject)
          .find((v) => v.name === 'DATABASE_URL');
        const secretName = String(field(secret, 'valueFrom', 'secretKeyRef', 'name'));
        const cluster = ofKind(objects, CNPG, 'Cluster').find(
          (c) => `${c.metadata?.name}-app` === secretName,
        );
        if (cluster) {
          return {
            pods: [
              {
                name: describeObject(cluster),
                namespace,
                namespaceLabels: namespaceLabels(),
                labels: {
                  ...asStringRecord(field(cluster, 'spec', 'inheritedMetadata', 'labels')),
                  'cnpg.io/cluster': String(cluster.metadata?.name),
                  'cnpg.io/podRole': 'instance',
                },
              },
            ],
            port: 5432,
          };
        }
        const uri = /uri=postgresql:\/\/[^@]*@([a-z0-9.-]+):(\d+)\//.exec(devScript().text);
        return behind(uri?.[1] ?? '?', Number(uri?.[2]));
      };
      const redis = () => behind('redis', 6379);
      const dns: Endpoint = {
        name: 'kube-dns',
        namespace: 'kube-system',
        namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
        labels: { 'k8s-app': 'kube-dns' },
      };
      const outsider = (labels: Record<string, string>, ns: string = namespace): Endpoint => ({
        name: `pod ${JSON.stringify(labels)} in ${ns}`,
        namespace: ns,
        namespaceLabels:
          ns === namespace
            ? namespaceLabels()
            : {
                'kubernetes.io/metadata.name': ns,
                ...(ns === 'ingress-nginx' ? { 'zero-carbon-park/ingress': 'true' } : {}),
              },
        labels,
      });

      test('a default deny, and a policy of its own for every pod', () => {
        expect(policies().filter(isDefaultDeny)).toHaveLength(1);
        const bare = objects
          .filter(isWorkload)
          .map(endpointOf)
          .filter((endpoint) => !hasOwnPolicy(policies(), endpoint));
        expect(bare.map((e) => e.name)).toEqual([]);
        for (const cluster of ofKind(objects, CNPG, 'Cluster')) {
          const labels = { 'cnpg.io/cluster': String(cluster.metadata?.name) };
          expect(
            hasOwnPolicy(policies(), { ...outsider(labels), name: describeObject(cluster) }),
          ).toBe(true);
        }
        for (const kafka of ofKind(objects, STRIMZI, 'Kafka')) {
          const labels = { 'strimzi.io/cluster': String(kafka.metadata?.name) };
          expect(hasOwnPolicy(policies(), outsider(labels))).toBe(true);
        }
      });

      test.each(SERVICES)(
        '%s reaches DNS, Kafka, its database, Redis and the collector',
        (service) => {
          const from = endpointOf(deploymentOf(service));
          const { env } = environment(service);
          const targets: [string, { pods: Endpoint[]; port: number }][] = [
            ['Kafka', kafkaBrokers(env)],
            ['its database', databaseOf(service)],
            ['Redis', redis()],
          ];
          if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
            const url = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT);
            targets.push(['the collector', behind(url.hostname, Number(url.port))]);
          }
          const problems: string[] = [];
          if (!allowed(policies(), from, dns, 53, 'UDP')) problems.push('DNS');
          for (const [what, { pods, port }] of targets) {
            if (pods.length === 0) problems.push(`${what}: no pods found`);
            for (const pod of pods) {
              if (!allowed(policies(), from, pod, port))
                problems.push(`${what}: ${pod.name}:${port}`);
            }
          }
          expect(problems).toEqual([]);
        },
      );

      test.each(SERVICES)("%s cannot reach another service's database", (service) => {
        const from = endpointOf(deploymentOf(service));
        const own = new Set(databaseOf(service).pods.map((pod) => pod.name));
        const reachable = SERVICES.filter((other) => other !== service).flatMap((other) =>
          databaseOf(other)
            .pods.filter((pod) => !own.has(pod.name))
            .filter((pod) => allowed(policies(), from, pod, 5432))
            .map((pod) => pod.name),
        );
        expect(reachable).toEqual([]);
      });

      test('the services are reached from the ingress namespace and scraped from monitoring, nothing else', () => {
        const ingress = outsider({ 'app.kubernetes.io/name': 'ingress-nginx' }, 'ingress-nginx');
        const monitoring = outsider({ 'app.kubernetes.io/name': 'prometheus' }, 'monitoring');
        const stranger = outsider({ app: 'stranger' });
        const elsewhere = outsider({ app: 'stranger' }, 'default');
        for (const service of SERVICES) {
          const to = endpointOf(deploymentOf(service));
          const grpc = to.namedPorts!.grpc!;
          const http = to.namedPorts!.http!;
          expect([
            service,
            allowed(policies(), ingress, to, grpc),
            allowed(policies(), ingress, to, http),
          ]).toEqual([service, true, true]);
          expect([service, allowed(policies(), monitoring, to, http)]).toEqual([service, true]);
          expect([service, allowed(policies(), monitoring, to, grpc)]).toEqual([service, false]);
          expect([service, allowed(policies(), stranger, to, grpc)]).toEqual([service, false]);
          expect([service, allowed(policies(), elsewhere, to, grpc)]).toEqual([service, false]);
        }
        const stranger2 = outsider({ app: 'stranger' });
        for (const pod of [...redis().pods, ...databaseOf('metering').pods])
          expect([
            pod.name,
            allowed(policies(), stranger2, pod, pod.name.includes('redis') ? 6379 : 5432),
          ]).toEqual([pod.name, false]);
      });

      test("only reporting calls carbon's gRPC API", () => {
        const carbon = endpointOf(deploymentOf('carbon'));
        const grpc = carbon.namedPorts!.grpc!;
        const callers = SERVICES.filter((service) => service !== 'carbon').filter((service) =>
          allowed(policies(), endpointOf(deploymentOf(service)), carbon, grpc),
        );
        expect(callers).toEqual(['reporting']);
      });
    });

    if (overlay === 'prod') {
      describe('operators', () => {
        test('Kafka: one Strimzi cluster in KRaft mode with node pools', () => {
          expect(checkKafka(objects)).toEqual([]);
        });

        test("a KafkaTopic for every topic and its .dlq, with the code's partition counts", () => {
          const expected = expectedTopicsOfAll();
          expect(expected.length).toBeGreaterThanOrEqual(14);
          expect(checkTopics(objects, expected)).toEqual([]);
        });

        test("each service's KafkaUser allows what the service does and nothing of the others'", () => {
          const usages = kafkaUsages();
          expect(usages.find((u) => u.service === 'carbon')?.groups.length).toBeGreaterThan(0);
          expect(usages.find((u) => u.service === 'dispatch')?.groups.length).toBeGreaterThan(0);
          const usernames = Object.fromEntries(
            SERVICES.map((service) => [service, environment(service).env.KAFKA_SASL_USERNAME]),
          );
          expect(checkKafkaUsers(objects, usages, usernames)).toEqual([]);
          for (const service of SERVICES) {
            const password = asArray(containers(deploymentOf(service), { init: false })[0]?.env)
              .filter(isObject)
              .find((v) => v.name === 'KAFKA_SASL_PASSWORD');
            expect(field(password, 'valueFrom', 'secretKeyRef')).toEqual({
              name: usernames[service],
              key: 'password',
            });
          }
        });

        test('PostgreSQL: a CloudNativePG Cluster per service, its app secret as DATABASE_URL', () => {
          const needed: Record<string, number> = {};
          for (const service of SERVICES) {
            const autoscaler = objects.find(
              (o) =>
                o.kind === 'HorizontalPodAutoscaler' &&
                field(o, 'spec', 'scaleTargetRef', 'name') === service,
            );
            const replicas = Number(field(autoscaler, 'spec', 'maxReplicas') ?? 1);
            const pool = Number(environment(service).env.DATABASE_POOL_SIZE ?? 10);
            // Each replica's pool, its migration client at start, and the superuser's reserve.
            needed[service] = replicas * (pool + 1) + 10;
            const url = asArray(containers(deploymentOf(service), { init: false })[0]?.env)
              .filter(isObject)
              .find((v) => v.name === 'DATABASE_URL');
            expect(field(url, 'valueFrom', 'secretKeyRef')).toEqual({
              name: `${service}-db-app`,
              key: 'uri',
            });
          }
          expect(checkPostgresClusters(objects, SERVICES, needed)).toEqual([]);
        });

        test('Prometheus: alerts on consumer lag, dead letters and not-ready services, on exported metrics', async () => {
          const exported = await exportedMetrics();
          expect(exported.has('park_consumer_lag')).toBe(true);
          expect(checkPrometheusRules(objects, exported, KUBE_STATE_METRICS, namespace)).toEqual(
            [],
          );
        });

        test('Prometheus scrapes every service on /metrics', () => {
          const monitors = ofKind(objects, PROMETHEUS_OPERATOR, 'ServiceMonitor');
          for (const service of SERVICES) {
            const kubeService = serviceOf(objects, service, namespace)!;
            const monitor = monitors.find((m) =>
              selectorMatches(field(m, 'spec', 'selector'), kubeService.metadata?.labels ?? {}),
            );
            expect([service, monitor !== undefined]).toEqual([service, true]);
            const endpoint = asRecord(asArray(field(monitor, 'spec', 'endpoints'))[0]);
            expect(endpoint.path).toBe('/metrics');
            expect(
              asArray(field(kubeService, 'spec', 'ports')).some(
                (p) => field(p, 'name') === endpoint.port,
              ),
            ).toBe(true);
          }
        });

        test('secrets no operator generates come from the secret store (ExternalSecret)', () => {
          const external = ofKind(objects, EXTERNAL_SECRETS, 'ExternalSecret');
          expect(external.length).toBeGreaterThan(0);
          for (const secret of external) {
            expect(field(secret, 'spec', 'secretStoreRef', 'name')).toEqual(expect.any(String));
            expect(asArray(field(secret, 'spec', 'data')).length).toBeGreaterThan(0);
          }
          const used = new Set(
            objects.filter(isWorkload).flatMap((w) => podReferences(w).secrets.map((s) => s.name)),
          );
          for (const secret of external) {
            const target = String(field(secret, 'spec', 'target', 'name') ?? secret.metadata?.name);
            expect([target, used.has(target)]).toEqual([target, true]);
          }
        });
      });
    }
  },
);
