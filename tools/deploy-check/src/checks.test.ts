// The checkers themselves, on small made-up inputs: they must find what they claim to find.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  aclAllows,
  allowed,
  checkKustomization,
  checkPodSecurity,
  expectedTopics,
  metricNames,
  parseYamlFile,
  type Endpoint,
  type KubeObject,
} from './index';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-check-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
};

describe('kustomizations', () => {
  test('missing files, a Component as resource, literals, unknown and deprecated fields', () => {
    write(
      'component/kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n',
    );
    write('present.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n');
    write(
      'app/kustomization.yaml',
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        '  - missing.yaml',
        '  - ../component',
        '  - ../present.yaml',
        '  - https://github.com/example/repo//deploy',
        'components:',
        '  - ../present.yaml',
        'patches:',
        '  - path: nowhere.yaml',
        'patchesStrategicMerge: []',
        'resource: []',
        'secretGenerator:',
        '  - name: s',
        '    literals: [password=hunter2]',
      ].join('\n'),
    );
    const { problems } = checkKustomization(path.join(dir, 'app'));
    const text = problems.join('\n');
    expect(text).toContain('resource missing.yaml does not exist');
    expect(text).toContain('resource ../component is a Component');
    expect(text).toContain('resource ../present.yaml is outside the kustomization');
    expect(text).toContain('is remote');
    expect(text).toContain('component ../present.yaml is not a folder');
    expect(text).toContain('patch nowhere.yaml does not exist');
    expect(text).toContain('patchesStrategicMerge is deprecated');
    expect(text).toContain('unknown field resource');
    expect(text).toContain('secrets are never inlined');
  });
});

describe('YAML', () => {
  test('a scalar YAML 1.1 reads differently (no -> false) and duplicate keys are reported', () => {
    write('a.yaml', 'args: [--appendonly, no]\n');
    write('b.yaml', "args: [--appendonly, 'no']\n");
    write('c.yaml', 'a: 1\na: 2\n');
    expect(parseYamlFile(path.join(dir, 'a.yaml')).problems.join()).toContain('YAML 1.1');
    expect(parseYamlFile(path.join(dir, 'b.yaml')).problems).toEqual([]);
    expect(parseYamlFile(path.join(dir, 'c.yaml')).problems.join()).toContain('unique');
  });
});

describe('pod security', () => {
  const deployment = (
    container: Record<string, unknown>,
    pod: Record<string, unknown> = {},
  ): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      template: { spec: { ...pod, containers: [{ name: 'c', image: 'img', ...container }] } },
    },
  });

  test('an unconstrained container has every problem', () => {
    const problems = checkPodSecurity(
      deployment({
        env: [
          { name: 'DB_PASSWORD', value: 'x' },
          { name: 'URL', value: 'postgres://u:p@h/d' },
        ],
      }),
      { pinnedImages: true },
    ).join('\n');
    for (const expected of [
      'runAsNonRoot',
      'allowPrivilegeEscalation',
      'drop ALL',
      'seccompProfile',
      'readOnlyRootFilesystem',
      'no cpu requests',
      'no memory limits',
      'img is not pinned',
      'DB_PASSWORD is inline',
      'URL has credentials inline',
    ])
      expect(problems).toContain(expected);
  });

  test('a locked-down container has none', () => {
    const container = {
      image: 'img:1.0',
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
      resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
      env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    };
    const pod = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    };
    expect(checkPodSecurity(deployment(container, pod), { pinnedImages: true })).toEqual([]);
  });
});

describe('network policies', () => {
  const ns = { 'kubernetes.io/metadata.name': 'park' };
  const pod = (labels: Record<string, string>, namespace = 'park'): Endpoint => ({
    name: JSON.stringify(labels),
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    labels,
    namedPorts: { grpc: 50051 },
  });
  const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'park' },
    spec,
  });
  const deny = policy('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const a = pod({ app: 'a' });
  const b = pod({ app: 'b' });

  test('no policy allows everything; a default deny nothing', () => {
    expect(allowed([], a, b, 50051)).toBe(true);
    expect(allowed([deny], a, b, 50051)).toBe(false);
  });

  test('both the egress of the sender and the ingress of the receiver must allow', () => {
    const egress = policy('a', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 50051 }] }],
    });
    const ingress = policy('b', {
      podSelector: { matchLabels: { app: 'b' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 'grpc' }] },
      ],
    });
    expect(allowed([deny, egress], a, b, 50051)).toBe(false);
    expect(allowed([deny, egress, ingress], a, b, 50051)).toBe(true);
    expect(allowed([deny, egress, ingress], a, b, 8080)).toBe(false);
    expect(allowed([deny, egress, ingress], a, b, 50051, 'UDP')).toBe(false);
  });

  test('namespaceSelector and podSelector in one peer must both match', () => {
    const ingress = policy('b', {
      podSelector: { matchLabels: { app: 'b' } },
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
              podSelector: { matchLabels: { app: 'prometheus' } },
            },
          ],
        },
      ],
    });
    expect(allowed([ingress], pod({ app: 'prometheus' }, 'monitoring'), b, 8080)).toBe(true);
    expect(allowed([ingress], pod({ app: 'other' }, 'monitoring'), b, 8080)).toBe(false);
    expect(
      allowed([ingress], { ...pod({ app: 'prometheus' }), namespaceLabels: ns }, b, 8080),
    ).toBe(false);
  });
});

describe('Kafka ACLs', () => {
  const user: KubeObject = {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name: 'u' },
    spec: {
      authorization: {
        type: 'simple',
        acls: [
          {
            resource: { type: 'topic', name: 'park.a.', patternType: 'prefix' },
            operations: ['Write'],
          },
          {
            resource: { type: 'topic', name: 'park.b.v1', patternType: 'literal' },
            operations: ['Read'],
          },
          {
            resource: { type: 'topic', name: 'park.a.secret', patternType: 'literal' },
            operations: ['Write'],
            type: 'deny',
          },
          { resource: { type: 'group', name: 'g-', patternType: 'prefix' }, operations: ['Read'] },
        ],
      },
    },
  };

  test('prefix and literal patterns, implied Describe, deny first', () => {
    expect(aclAllows(user, 'topic', 'park.a.x', 'Write')).toBe(true);
    expect(aclAllows(user, 'topic', 'park.a.x', 'Describe')).toBe(true);
    expect(aclAllows(user, 'topic', 'park.a.x', 'Read')).toBe(false);
    expect(aclAllows(user, 'topic', 'park.b.v1', 'Read')).toBe(true);
    expect(aclAllows(user, 'topic', 'park.b.v1.dlq', 'Read')).toBe(false);
    expect(aclAllows(user, 'topic', 'park.a.secret', 'Write')).toBe(false);
    expect(aclAllows(user, 'group', 'g-1', 'Read')).toBe(true);
    expect(aclAllows(user, 'group', 'h-1', 'Read')).toBe(false);
  });
});

test('metricNames finds metrics, not functions, keywords, labels or durations', () => {
  expect(
    metricNames(
      'sum by (namespace, group) (increase(park_consumer_dead_letters_total{namespace="park"}[15m])) > 0 and on (group) park:lag:sum > 1000',
    ).sort(),
  ).toEqual(['park:lag:sum', 'park_consumer_dead_letters_total']);
});

test('expectedTopics adds each dead-letter topic with the same partitions, deleted not compacted', () => {
  expect(
    expectedTopics([
      { name: 't', partitions: 6, compacted: true, retentionMs: -1, withDeadLetterTopic: true },
    ]),
  ).toEqual([
    { name: 't', partitions: 6, cleanupPolicy: 'compact,delete', retentionMs: -1 },
    { name: 't.dlq', partitions: 6, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
});
