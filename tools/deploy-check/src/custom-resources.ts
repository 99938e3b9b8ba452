// The operators' custom resources: the fields the park relies on.
import { deadLetterTopic, type TopicSpec } from '@park/messaging';
import {
  asArray,
  asRecord,
  asStringRecord,
  describe,
  field,
  isObject,
  type KubeObject,
} from './manifests';

export const STRIMZI = 'kafka.strimzi.io/v1beta2';
export const CNPG = 'postgresql.cnpg.io/v1';
export const PROMETHEUS_OPERATOR = 'monitoring.coreos.com/v1';
export const EXTERNAL_SECRETS = 'external-secrets.io/v1';

export function ofKind(objects: KubeObject[], apiVersion: string, kind: string): KubeObject[] {
  return objects.filter((o) => o.apiVersion === apiVersion && o.kind === kind);
}

/** A topic as ensureTopics creates it: name, partitions, cleanup.policy, retention.ms. */
export interface ExpectedTopic {
  name: string;
  partitions: number;
  cleanupPolicy: string;
  retentionMs: number;
}

/** The services' TopicSpecs expanded as ensureTopics does: each with `<name>.dlq` if asked. */
export function expectedTopics(specs: readonly TopicSpec[]): ExpectedTopic[] {
  return specs.flatMap((spec) => {
    const topic: ExpectedTopic = {
      name: spec.name,
      partitions: spec.partitions,
      cleanupPolicy: spec.compacted ? 'compact,delete' : 'delete',
      retentionMs: spec.retentionMs ?? -1,
    };
    return spec.withDeadLetterTopic
      ? [
          topic,
          {
            name: deadLetterTopic(spec.name),
            partitions: spec.partitions,
            cleanupPolicy: 'delete',
            retentionMs: spec.retentionMs ?? -1,
          },
        ]
      : [topic];
  });
}

/**
 * Secrets the operators in the overlay generate (so pods may reference them though no Secret is
 * in the manifests): CloudNativePG's `<cluster>-app`, Strimzi's `<user>` and
 * `<cluster>-cluster-ca-cert`, and every ExternalSecret's target.
 */
export function operatorSecrets(objects: KubeObject[]): Set<string> {
  const names = new Set<string>();
  for (const cluster of ofKind(objects, CNPG, 'Cluster')) {
    names.add(`${cluster.metadata?.name}-app`);
    names.add(`${cluster.metadata?.name}-ca`);
  }
  for (const user of ofKind(objects, STRIMZI, 'KafkaUser')) {
    names.add(
      String(field(user, 'spec', 'template', 'secret', 'metadata', 'name') ?? user.metadata?.name),
    );
  }
  for (const kafka of ofKind(objects, STRIMZI, 'Kafka')) {
    names.add(`${kafka.metadata?.name}-cluster-ca-cert`);
    names.add(`${kafka.metadata?.name}-clients-ca-cert`);
  }
  for (const secret of ofKind(objects, EXTERNAL_SECRETS, 'ExternalSecret')) {
    names.add(String(field(secret, 'spec', 'target', 'name') ?? secret.metadata?.name));
  }
  return names;
}

function clusterLabel(object: KubeObject): string | undefined {
  return object.metadata?.labels?.['strimzi.io/cluster'];
}

/**
 * The Strimzi Kafka cluster in KRaft mode with node pools: controllers and brokers (three of each
 * at least), listeners, the entity operator (topics and users), no ZooKeeper.
 */
export function checkKafka(objects: KubeObject[]): string[] {
  const problems: string[] = [];
  const clusters = ofKind(objects, STRIMZI, 'Kafka');
  if (clusters.length !== 1) return [`expected one Kafka, found ${clusters.length}`];
  const kafka = clusters[0]!;
  const name = kafka.metadata?.name;
  const what = describe(kafka);
  const annotations = kafka.metadata?.annotations ?? {};
  if (annotations['strimzi.io/kraft'] !== 'enabled')
    problems.push(`${what}: not annotated strimzi.io/kraft: enabled`);
  if (annotations['strimzi.io/node-pools'] !== 'enabled')
    problems.push(`${what}: not annotated strimzi.io/node-pools: enabled`);
  if (field(kafka, 'spec', 'zookeeper') !== undefined)
    problems.push(`${what}: has a ZooKeeper section (KRaft has none)`);
  if (typeof field(kafka, 'spec', 'kafka', 'version') !== 'string')
    problems.push(`${what}: spec.kafka.version is not set`);
  const listeners = asArray(field(kafka, 'spec', 'kafka', 'listeners')).filter(isObject);
  if (listeners.length === 0) problems.push(`${what}: no listeners`);
  for (const listener of listeners) {
    if (
      typeof listener.name !== 'string' ||
      typeof listener.port !== 'number' ||
      typeof listener.type !== 'string' ||
      typeof listener.tls !== 'boolean'
    )
      problems.push(`${what}: listener ${JSON.stringify(listener)} needs name, port, type and tls`);
  }
  const config = asRecord(field(kafka, 'spec', 'kafka', 'config'));
  if (config['auto.create.topics.enable'] !== false)
    problems.push(`${what}: auto.create.topics.enable is not false (topics are KafkaTopics)`);
  for (const operator of ['topicOperator', 'userOperator'] as const) {
    if (!isObject(field(kafka, 'spec', 'entityOperator', operator)))
      problems.push(`${what}: no entityOperator.${operator}`);
  }

  const pools = ofKind(objects, STRIMZI, 'KafkaNodePool');
  const replicas = { controller: 0, broker: 0 };
  for (const pool of pools) {
    if (clusterLabel(pool) !== name)
      problems.push(`${describe(pool)}: strimzi.io/cluster is not ${name}`);
    const roles = asArray(field(pool, 'spec', 'roles'));
    const count = Number(field(pool, 'spec', 'replicas'));
    if (roles.length === 0 || roles.some((role) => role !== 'controller' && role !== 'broker'))
      problems.push(`${describe(pool)}: roles must be controller and/or broker`);
    if (!Number.isInteger(count) || count < 1)
      problems.push(`${describe(pool)}: replicas ${count}`);
    if (!isObject(field(pool, 'spec', 'storage'))) problems.push(`${describe(pool)}: no storage`);
    if (roles.includes('controller')) replicas.controller += count;
    if (roles.includes('broker')) replicas.broker += count;
  }
  if (replicas.controller < 3 || replicas.controller % 2 === 0)
    problems.push(
      `${replicas.controller} controllers: a KRaft quorum needs an odd number, at least 3`,
    );
  if (replicas.broker < 3)
    problems.push(`${replicas.broker} brokers: at least 3 for replication factor 3`);
  const minIsr = Number(config['min.insync.replicas'] ?? 1);
  const factor = Number(config['default.replication.factor'] ?? 1);
  if (!(minIsr < factor && factor <= replicas.broker))
    problems.push(
      `${what}: min.insync.replicas ${minIsr} and replication factor ${factor} with ${replicas.broker} brokers`,
    );
  return problems;
}

/**
 * KafkaTopics: exactly the topics the services' TopicSpecs define (with their dead-letter
 * topics), each with the contract's partition count and the cleanup policy and retention
 * ensureTopics would set, replicated so that a broker may fail.
 */
export function checkTopics(objects: KubeObject[], expected: ExpectedTopic[]): string[] {
  const problems: string[] = [];
  const kafka = ofKind(objects, STRIMZI, 'Kafka')[0];
  const brokers = ofKind(objects, STRIMZI, 'KafkaNodePool')
    .filter((pool) => asArray(field(pool, 'spec', 'roles')).includes('broker'))
    .reduce((sum, pool) => sum + Number(field(pool, 'spec', 'replicas')), 0);
  const minIsr = Number(field(kafka, 'spec', 'kafka', 'config', 'min.insync.replicas') ?? 1);
  const topics = new Map<string, KubeObject>();
  for (const topic of ofKind(objects, STRIMZI, 'KafkaTopic')) {
    const name = String(field(topic, 'spec', 'topicName') ?? topic.metadata?.name);
    if (topics.has(name)) problems.push(`topic ${name} is defined twice`);
    topics.set(name, topic);
    if (clusterLabel(topic) !== kafka?.metadata?.name)
      problems.push(`${describe(topic)}: strimzi.io/cluster is not ${kafka?.metadata?.name}`);
  }
  for (const want of expected) {
    const topic = topics.get(want.name);
    if (!topic) {
      problems.push(`topic ${want.name} (${want.partitions} partitions) has no KafkaTopic`);
      continue;
    }
    const partitions = field(topic, 'spec', 'partitions');
    if (partitions !== want.partitions)
      problems.push(
        `topic ${want.name}: ${String(partitions)} partitions, the contract says ${want.partitions}`,
      );
    const config = asRecord(field(topic, 'spec', 'config'));
    if (config['cleanup.policy'] !== want.cleanupPolicy)
      problems.push(
        `topic ${want.name}: cleanup.policy ${String(config['cleanup.policy'])}, ensureTopics sets ${want.cleanupPolicy}`,
      );
    if (Number(config['retention.ms']) !== want.retentionMs)
      problems.push(
        `topic ${want.name}: retention.ms ${String(config['retention.ms'])}, ensureTopics sets ${want.retentionMs}`,
      );
    const replicas = Number(field(topic, 'spec', 'replicas'));
    if (!(replicas > minIsr && replicas <= brokers))
      problems.push(
        `topic ${want.name}: ${replicas} replicas with min.insync.replicas ${minIsr} and ${brokers} brokers`,
      );
  }
  for (const name of topics.keys()) {
    if (!expected.some((want) => want.name === name))
      problems.push(`KafkaTopic ${name} is not a topic of any service's TopicSpecs`);
  }
  return problems;
}

export type AclResource = 'topic' | 'group' | 'cluster' | 'transactionalId';

/** Operations an ACL's operation implies (Kafka's rules). */
function implied(operation: string): string[] {
  switch (operation) {
    case 'All':
      return [
        'Read',
        'Write',
        'Create',
        'Delete',
        'Alter',
        'Describe',
        'DescribeConfigs',
        'AlterConfigs',
        'IdempotentWrite',
        'ClusterAction',
      ];
    case 'Read':
    case 'Write':
    case 'Delete':
    case 'Alter':
      return [operation, 'Describe'];
    case 'AlterConfigs':
      return [operation, 'DescribeConfigs'];
    default:
      return [operation];
  }
}

/** Whether a KafkaUser's simple-authorization ACLs allow the operation on the resource. */
export function aclAllows(
  user: KubeObject,
  type: AclResource,
  name: string,
  operation: string,
): boolean {
  const acls = asArray(field(user, 'spec', 'authorization', 'acls')).filter(isObject);
  const matching = (rule: Record<string, unknown>) => {
    const resource = asRecord(rule.resource);
    if (resource.type !== type) return false;
    if (type === 'cluster') return true;
    const pattern = String(resource.name);
    return (resource.patternType ?? 'literal') === 'prefix'
      ? name.startsWith(pattern)
      : pattern === '*' || pattern === name;
  };
  const operations = (rule: Record<string, unknown>) =>
    [...asArray(rule.operations), ...(rule.operation ? [rule.operation] : [])].map(String);
  const decide = (kind: 'allow' | 'deny') =>
    acls.some(
      (rule) =>
        (rule.type ?? 'allow') === kind &&
        matching(rule) &&
        operations(rule).some((op) => implied(op).includes(operation)),
    );
  return !decide('deny') && decide('allow');
}

/** A service's use of Kafka, from the code. */
export interface KafkaUsage {
  service: string;
  /** Topics it publishes (its TopicSpecs, with dead-letter topics). */
  produces: string[];
  /** Topics its ConsumerRunners read: they write poison messages to `<topic>.dlq`. */
  consumesWithDeadLetters: string[];
  /** Topics it reads otherwise (projections). */
  reads: string[];
  groups: string[];
}

/**
 * Each service's KafkaUser (named by KAFKA_SASL_USERNAME, its password from the user's secret)
 * allows what the service does and no writes to another service's topics.
 */
export function checkKafkaUsers(
  objects: KubeObject[],
  usages: KafkaUsage[],
  usernames: Record<string, string | undefined>,
): string[] {
  const problems: string[] = [];
  const users = new Map(
    ofKind(objects, STRIMZI, 'KafkaUser').map((u) => [u.metadata?.name ?? '', u]),
  );
  const kafka = ofKind(objects, STRIMZI, 'Kafka')[0];
  const authenticated = asArray(field(kafka, 'spec', 'kafka', 'listeners')).some((listener) =>
    isObject(field(listener, 'authentication')),
  );
  if (!authenticated) return problems;
  if (field(kafka, 'spec', 'kafka', 'authorization', 'type') !== 'simple')
    problems.push(
      `${describe(kafka!)}: authorization is not simple, so the KafkaUsers' ACLs do nothing`,
    );
  const allTopics = usages.flatMap((usage) => usage.produces);
  for (const usage of usages) {
    const username = usernames[usage.service];
    const user = username ? users.get(username) : undefined;
    if (!user) {
      problems.push(`${usage.service}: KAFKA_SASL_USERNAME ${String(username)} is no KafkaUser`);
      continue;
    }
    const what = `${usage.service} (KafkaUser ${username})`;
    const must = (type: AclResource, name: string, operation: string) => {
      if (!aclAllows(user, type, name, operation))
        problems.push(`${what}: may not ${operation} ${type} ${name}`);
    };
    for (const topic of usage.produces) {
      must('topic', topic, 'Write');
      must('topic', topic, 'Describe');
    }
    for (const topic of usage.consumesWithDeadLetters) {
      must('topic', topic, 'Read');
      must('topic', deadLetterTopic(topic), 'Write');
    }
    for (const topic of usage.reads) must('topic', topic, 'Read');
    for (const group of usage.groups) must('group', group, 'Read');
    const mayWrite = new Set([
      ...usage.produces,
      ...usage.consumesWithDeadLetters.map(deadLetterTopic),
    ]);
    for (const topic of allTopics) {
      if (!mayWrite.has(topic) && aclAllows(user, 'topic', topic, 'Write'))
        problems.push(`${what}: may write ${topic}, which is not its own`);
    }
  }
  return problems;
}

/**
 * One CloudNativePG Cluster per service (`<service>-db`), replicated, with its database and owner
 * bootstrapped, and room for every replica's pool.
 */
export function checkPostgresClusters(
  objects: KubeObject[],
  services: readonly string[],
  connectionsNeeded: Record<string, number>,
): string[] {
  const problems: string[] = [];
  const clusters = new Map(
    ofKind(objects, CNPG, 'Cluster').map((c) => [c.metadata?.name ?? '', c]),
  );
  for (const service of services) {
    const cluster = clusters.get(`${service}-db`);
    if (!cluster) {
      problems.push(`${service}: no CloudNativePG Cluster ${service}-db`);
      continue;
    }
    const what = describe(cluster);
    const instances = Number(field(cluster, 'spec', 'instances'));
    if (!(instances >= 2)) problems.push(`${what}: ${instances} instances, no failover`);
    const initdb = asRecord(field(cluster, 'spec', 'bootstrap', 'initdb'));
    if (typeof initdb.database !== 'string' || typeof initdb.owner !== 'string')
      problems.push(`${what}: bootstrap.initdb needs database and owner`);
    if (typeof field(cluster, 'spec', 'storage', 'size') !== 'string')
      problems.push(`${what}: storage.size is not set`);
    const maxConnections = Number(
      field(cluster, 'spec', 'postgresql', 'parameters', 'max_connections') ?? 100,
    );
    const needed = connectionsNeeded[service] ?? 0;
    if (maxConnections < needed)
      problems.push(
        `${what}: max_connections ${maxConnections} < ${needed} (pool size x max replicas + reserve)`,
      );
    const labels = asStringRecord(field(cluster, 'spec', 'inheritedMetadata', 'labels'));
    if (Object.keys(labels).length === 0)
      problems.push(
        `${what}: no inheritedMetadata.labels: the network policies cannot find its pods`,
      );
  }
  for (const name of clusters.keys()) {
    if (!services.some((service) => `${service}-db` === name))
      problems.push(`Cluster ${name} belongs to no service`);
  }
  return problems;
}

const PROMQL_WORDS = new Set([
  // Aggregation operators (they may be followed by `by (...)` before their parenthesis).
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
  // Keywords.
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** Metric names in a PromQL expression (functions, keywords, labels and durations left out). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const names = new Set<string>();
  for (const match of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = match;
    if (call || PROMQL_WORDS.has(name!.toLowerCase())) continue;
    // A label list: by (a, b), on (a), ...
    const before = bare.slice(0, match.index).trimEnd();
    if (/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*$/.test(before)) continue;
    names.add(name!);
  }
  return [...names];
}

/**
 * PrometheusRules: alerts with a severity and a summary, on metrics the services export (or
 * kube-state-metrics and Prometheus itself), in the overlay's namespace; the lag, dead-letter
 * and readiness alerts are there.
 */
export function checkPrometheusRules(
  objects: KubeObject[],
  exportedMetrics: ReadonlySet<string>,
  externalMetrics: ReadonlySet<string>,
  namespace: string,
): string[] {
  const problems: string[] = [];
  const rules = ofKind(objects, PROMETHEUS_OPERATOR, 'PrometheusRule').flatMap((rule) =>
    asArray(field(rule, 'spec', 'groups'))
      .filter(isObject)
      .flatMap((group) =>
        asArray(group.rules)
          .filter(isObject)
          .map((r) => ({ group: String(group.name), rule: r })),
      ),
  );
  if (rules.length === 0) return ['no PrometheusRule with rules'];
  const recorded = new Set(
    rules.map(({ rule }) => rule.record).filter((r): r is string => typeof r === 'string'),
  );
  const used = new Set<string>();
  const alertMetrics: string[] = [];
  const resolve = (name: string): string[] => {
    if (!recorded.has(name)) return [name];
    const record = rules.find(({ rule }) => rule.record === name);
    return metricNames(String(record?.rule.expr)).flatMap(resolve);
  };
  for (const { group, rule } of rules) {
    const name = String(rule.alert ?? rule.record ?? '?');
    const what = `rule ${group}/${name}`;
    if (typeof rule.expr !== 'string' || rule.expr.trim() === '') {
      problems.push(`${what}: no expr`);
      continue;
    }
    if ((rule.alert === undefined) === (rule.record === undefined))
      problems.push(`${what}: needs exactly one of alert and record`);
    let depth = 0;
    for (const char of rule.expr) {
      depth += char === '(' ? 1 : char === ')' ? -1 : 0;
      if (depth < 0) break;
    }
    if (depth !== 0) problems.push(`${what}: unbalanced parentheses`);
    for (const metric of metricNames(rule.expr)) {
      used.add(metric);
      if (rule.alert !== undefined) alertMetrics.push(...resolve(metric));
      if (!recorded.has(metric) && !exportedMetrics.has(metric) && !externalMetrics.has(metric))
        problems.push(`${what}: ${metric} is exported by no service (nor kube-state-metrics)`);
    }
    for (const match of rule.expr.matchAll(/namespace\s*=~?\s*"([^"]*)"/g)) {
      if (match[1] !== namespace)
        problems.push(
          `${what}: filters namespace "${match[1]}", the overlay deploys to ${namespace}`,
        );
    }
    if (rule.alert !== undefined) {
      if (typeof field(rule, 'labels', 'severity') !== 'string')
        problems.push(`${what}: no severity label`);
      if (typeof field(rule, 'annotations', 'summary') !== 'string')
        problems.push(`${what}: no summary annotation`);
    }
  }
  const alerting = new Set(alertMetrics);
  if (!alerting.has('park_consumer_lag'))
    problems.push('no alert on consumer lag (park_consumer_lag)');
  if (!alerting.has('park_consumer_dead_letters_total'))
    problems.push('no alert on dead letters (park_consumer_dead_letters_total)');
  if (
    ![...alerting].some((metric) =>
      /^kube_deployment_status_replicas_(available|unavailable|ready)$/.test(metric),
    )
  )
    problems.push('no alert on services that are not ready (kube_deployment_status_replicas_*)');
  return problems;
}
