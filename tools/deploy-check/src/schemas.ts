// Core Kubernetes objects validated against the API's OpenAPI schemas (kubernetes-models).
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { describe, type KubeObject } from './manifests';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: KubeObject) => Validatable;

const CORE_GROUPS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'batch/v1': batchV1,
  'networking.k8s.io/v1': networkingV1,
  'policy/v1': policyV1,
  'rbac.authorization.k8s.io/v1': rbacV1,
};

/**
 * The custom resources the overlays use, by apiVersion: their operators' CRDs are not in
 * kubernetes-models, so custom-resources.ts checks the fields the park relies on.
 */
export const CUSTOM_RESOURCES: Record<string, readonly string[]> = {
  'kafka.strimzi.io/v1beta2': ['Kafka', 'KafkaNodePool', 'KafkaTopic', 'KafkaUser'],
  'postgresql.cnpg.io/v1': ['Cluster'],
  'monitoring.coreos.com/v1': ['PrometheusRule', 'ServiceMonitor', 'PodMonitor'],
  'external-secrets.io/v1': ['ExternalSecret'],
};

export function isCore(object: KubeObject): boolean {
  return object.apiVersion !== undefined && object.apiVersion in CORE_GROUPS;
}

export function isKnownCustomResource(object: KubeObject): boolean {
  const kinds = object.apiVersion ? CUSTOM_RESOURCES[object.apiVersion] : undefined;
  return kinds !== undefined && object.kind !== undefined && kinds.includes(object.kind);
}

/**
 * Problems of one object: a core object is validated against its schema; a custom resource must
 * be one of the known apiVersion/kind pairs; anything else is unknown.
 */
export function validateObject(object: KubeObject): string[] {
  const what = `${object.apiVersion} ${describe(object)}`;
  if (!object.metadata?.name) return [`${what}: metadata.name is missing`];
  if (!isCore(object)) {
    return isKnownCustomResource(object)
      ? []
      : [`${what}: neither a core kind nor a custom resource this project knows`];
  }
  const model = CORE_GROUPS[object.apiVersion!]![object.kind!] as ModelClass | undefined;
  if (typeof model !== 'function')
    return [`${what}: ${object.apiVersion} has no kind ${object.kind}`];
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    return [`${what}: ${error instanceof Error ? error.message : String(error)}`];
  }
}
