// deploy/k8s file by file: YAML, kustomizations, schemas, security of every workload.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  asArray,
  asStringRecord,
  checkConfigMap,
  checkKafka,
  checkKafkaUsers,
  checkPostgresClusters,
  checkPrometheusRules,
  checkTopics,
  checkKustomizationTree,
  checkPodSecurity,
  checkServiceDeployment,
  field,
  isDefaultDeny,
  isKubeObject,
  isServiceDeployment,
  isWorkload,
  k8sRoot,
  parseYamlFile,
  readKustomization,
  SERVICES,
  validateObject,
  yamlFiles,
  type KubeObject,
} from './index';
import {
  exportedMetrics,
  expectedTopicsOfAll,
  kafkaUsages,
  KUBE_STATE_METRICS,
} from './test-support/code';

const files = yamlFiles(k8sRoot).map(parseYamlFile);
const { problems: kustomizationProblems, patchFiles } = checkKustomizationTree(k8sRoot);
/** Whole objects: everything but patches (which are partial by nature, checked once rendered). */
const objects: { file: string; object: KubeObject }[] = files
  .filter((parsed) => !patchFiles.has(parsed.file) && !parsed.file.endsWith('kustomization.yaml'))
  .flatMap((parsed) =>
    parsed.documents.map((document) => ({ file: parsed.file, object: document as KubeObject })),
  );

function inFolder(folder: string): KubeObject[] {
  const prefix = `deploy/k8s/${folder}/`;
  return objects.filter(({ file }) => file.startsWith(prefix)).map(({ object }) => object);
}

test('there are manifests', () => {
  expect(files.length).toBeGreaterThan(20);
});

test('every YAML file parses, without duplicate keys, the same as YAML 1.1 (kubectl) reads it', () => {
  expect(files.flatMap((parsed) => parsed.problems.map((p) => `${parsed.file}: ${p}`))).toEqual([]);
});

test("every kustomization's resources, components and patches resolve, and every file is used", () => {
  expect(kustomizationProblems).toEqual([]);
});

test('every document is a Kubernetes object; core ones are valid against the API schemas', () => {
  const problems = objects.flatMap(({ file, object }) =>
    isKubeObject(object)
      ? validateObject(object).map((p) => `${file}: ${p}`)
      : [`${file}: a document without apiVersion and kind`],
  );
  expect(problems).toEqual([]);
});

test('no secret is inlined: no Secret object, no credential in a ConfigMap or an env value', () => {
  const problems = objects.flatMap(({ file, object }) => [
    ...(object.kind === 'Secret' ? [`${file}: a Secret in the repository`] : []),
    ...(object.kind === 'ConfigMap' ? checkConfigMap(object).map((p) => `${file}: ${p}`) : []),
  ]);
  expect(problems).toEqual([]);
});

test('every workload runs non-root, read-only, without capabilities, with requests and limits', () => {
  const problems = objects
    .filter(({ object }) => isWorkload(object))
    .flatMap(({ file, object }) => checkPodSecurity(object).map((p) => `${file}: ${p}`));
  expect(problems).toEqual([]);
});

describe.each(SERVICES)('base/%s', (service) => {
  const manifests = inFolder(`base/${service}`);
  const kinds = manifests.map((object) => `${object.apiVersion} ${object.kind}`).sort();

  test('has its Deployment, Service, ServiceAccount, ConfigMap, PodDisruptionBudget and autoscaler', () => {
    expect(kinds).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 Service',
      'v1 ServiceAccount',
    ]);
  });

  test('its Deployment: gRPC probes, /healthz liveness, /tmp, its own service account', () => {
    const deployment = manifests.find((object) => object.kind === 'Deployment')!;
    expect(isServiceDeployment(deployment)).toBe(true);
    expect(checkServiceDeployment(deployment)).toEqual([]);
    expect(field(deployment, 'spec', 'template', 'spec', 'serviceAccountName')).toBe(service);
    expect(field(deployment, 'spec', 'template', 'spec', 'containers', 0, 'command')).toEqual([
      'node',
      `services/${service}/dist/main.js`,
    ]);
  });

  test('its entry point exists', () => {
    expect(
      fs.existsSync(path.join(k8sRoot, '..', '..', 'services', service, 'src', 'main.ts')),
    ).toBe(true);
  });

  test('its Service exposes grpc and http', () => {
    const service_ = manifests.find((object) => object.kind === 'Service')!;
    const ports = asArray(field(service_, 'spec', 'ports')).map((port) => field(port, 'name'));
    expect(ports).toEqual(['grpc', 'http']);
  });
});

test('base/kustomization.yaml lists the four services', () => {
  const base = readKustomization(path.join(k8sRoot, 'base'))!;
  for (const service of SERVICES) expect(asArray(base.content.resources)).toContain(service);
});

test('the components are Components: network policies (a default deny, one per service), OpenTelemetry collector', () => {
  for (const component of ['network-policies', 'otel-collector', 'redis']) {
    expect(readKustomization(path.join(k8sRoot, 'components', component))?.kind).toBe('Component');
  }
  const policies = inFolder('components/network-policies');
  expect(policies.every((policy) => policy.kind === 'NetworkPolicy')).toBe(true);
  expect(policies.filter(isDefaultDeny)).toHaveLength(1);
  for (const service of SERVICES) {
    const own = policies.filter(
      (policy) =>
        field(policy, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/name') === service,
    );
    expect(own).toHaveLength(1);
    expect(field(own[0], 'spec', 'policyTypes')).toEqual(['Ingress', 'Egress']);
  }
  const collector = inFolder('components/otel-collector').map((object) => object.kind);
  expect(collector).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap', 'Service']));
});

test('overlays dev and prod exist; prod uses Strimzi (KRaft), CloudNativePG and Prometheus rules', () => {
  for (const overlay of ['dev', 'prod'])
    expect(readKustomization(path.join(k8sRoot, 'overlays', overlay))?.kind).toBe('Kustomization');
  const prod = inFolder('overlays/prod').map((object) => `${object.apiVersion} ${object.kind}`);
  expect(prod).toEqual(
    expect.arrayContaining([
      'kafka.strimzi.io/v1beta2 Kafka',
      'kafka.strimzi.io/v1beta2 KafkaNodePool',
      'kafka.strimzi.io/v1beta2 KafkaTopic',
      'kafka.strimzi.io/v1beta2 KafkaUser',
      'postgresql.cnpg.io/v1 Cluster',
      'monitoring.coreos.com/v1 PrometheusRule',
    ]),
  );
});

// The custom resources as written (the rendered overlay is checked again in overlays.test.ts,
// where kubectl is installed): they do not depend on patches.
describe('prod custom resources', () => {
  const prod = inFolder('overlays/prod');
  const base = inFolder('base');
  const namespace = String(
    readKustomization(path.join(k8sRoot, 'overlays', 'prod'))?.content.namespace,
  );
  const config = (service: string) =>
    asStringRecord(
      base.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === `${service}-config`)?.data,
    );

  test('Kafka: one Strimzi cluster in KRaft mode with node pools', () => {
    expect(checkKafka(prod)).toEqual([]);
  });

  test("a KafkaTopic for every topic and its .dlq, with the code's partition counts", () => {
    expect(checkTopics(prod, expectedTopicsOfAll())).toEqual([]);
  });

  test("each service's KafkaUser allows what the service does and nothing of the others'", () => {
    const usernames = Object.fromEntries(SERVICES.map((s) => [s, config(s).KAFKA_SASL_USERNAME]));
    expect(checkKafkaUsers(prod, kafkaUsages(), usernames)).toEqual([]);
  });

  test('a CloudNativePG Cluster per service with room for every replica', () => {
    const needed = Object.fromEntries(
      SERVICES.map((service) => {
        const autoscaler = base.find(
          (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata?.name === service,
        );
        const replicas = Number(field(autoscaler, 'spec', 'maxReplicas'));
        return [service, replicas * (Number(config(service).DATABASE_POOL_SIZE ?? 10) + 1) + 10];
      }),
    );
    expect(checkPostgresClusters(prod, SERVICES, needed)).toEqual([]);
  });

  test('alert rules on consumer lag, dead letters and readiness, on exported metrics', async () => {
    expect(
      checkPrometheusRules(prod, await exportedMetrics(), KUBE_STATE_METRICS, namespace),
    ).toEqual([]);
  });
});
