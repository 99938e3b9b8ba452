// Pods: security context, resources, probes, secrets by reference, and what they refer to.
import {
  asArray,
  asRecord,
  asStringRecord,
  describe,
  field,
  isObject,
  type KubeObject,
} from './manifests';

/** Set on a workload whose image cannot run read-only; its value says why. */
export const WRITABLE_ROOT_ANNOTATION = 'zero-carbon-park/writable-root-filesystem';
/** The label of the park's own service Deployments. */
export const ROLE_LABEL = 'zero-carbon-park/role';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

export function isWorkload(object: KubeObject): boolean {
  return (
    (object.apiVersion === 'apps/v1' || object.apiVersion === 'batch/v1') &&
    (WORKLOAD_KINDS.has(object.kind ?? '') || object.kind === 'CronJob')
  );
}

export function podTemplate(object: KubeObject): Record<string, unknown> {
  return asRecord(
    object.kind === 'CronJob'
      ? field(object, 'spec', 'jobTemplate', 'spec', 'template')
      : field(object, 'spec', 'template'),
  );
}

export function podSpec(object: KubeObject): Record<string, unknown> {
  return asRecord(podTemplate(object).spec);
}

export function podLabels(object: KubeObject): Record<string, string> {
  return asStringRecord(field(podTemplate(object), 'metadata', 'labels'));
}

export function containers(
  object: KubeObject,
  { init = true }: { init?: boolean } = {},
): Record<string, unknown>[] {
  const spec = podSpec(object);
  return [...(init ? asArray(spec.initContainers) : []), ...asArray(spec.containers)].filter(
    isObject,
  );
}

export function isServiceDeployment(object: KubeObject): boolean {
  return object.kind === 'Deployment' && podLabels(object)[ROLE_LABEL] === 'service';
}

/** Environment variables whose value is a credential or may embed one. */
export function isSecretName(name: string): boolean {
  return (
    /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)/.test(name) ||
    name === 'DATABASE_URL' ||
    name.endsWith('_DATABASE_URL') ||
    name === 'REDIS_URL'
  );
}

/** user:password@ in a URL. */
export function hasUrlCredentials(value: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i.test(value);
}

export interface PodSecurityOptions {
  /** Images must carry a tag or digest (not :latest): true for rendered overlays. */
  pinnedImages?: boolean;
}

/**
 * The restricted Pod Security Standard and then some: non-root, no privilege escalation, every
 * capability dropped, RuntimeDefault seccomp, a read-only root filesystem (unless the workload says
 * why not), requests and limits for CPU and memory, no host namespaces, secrets by reference.
 */
export function checkPodSecurity(object: KubeObject, options: PodSecurityOptions = {}): string[] {
  const problems: string[] = [];
  const what = describe(object);
  const spec = podSpec(object);
  const pod = asRecord(spec.securityContext);
  const writableReason = object.metadata?.annotations?.[WRITABLE_ROOT_ANNOTATION];
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[key] === true) problems.push(`${what}: ${key} is on`);
  }
  if (pod.runAsUser === 0) problems.push(`${what}: pod runs as user 0`);
  for (const container of containers(object)) {
    const name = `${what} container ${String(container.name)}`;
    const security = asRecord(container.securityContext);
    const capabilities = asRecord(security.capabilities);
    if ((security.runAsNonRoot ?? pod.runAsNonRoot) !== true)
      problems.push(`${name}: runAsNonRoot is not true`);
    if (security.runAsUser === 0) problems.push(`${name}: runs as user 0`);
    if (security.allowPrivilegeEscalation !== false)
      problems.push(`${name}: allowPrivilegeEscalation is not false`);
    if (security.privileged === true) problems.push(`${name}: privileged`);
    if (!asArray(capabilities.drop).includes('ALL'))
      problems.push(`${name}: capabilities do not drop ALL`);
    if (asArray(capabilities.add).length > 0)
      problems.push(`${name}: adds capabilities ${JSON.stringify(capabilities.add)}`);
    const seccomp =
      field(security, 'seccompProfile', 'type') ?? field(pod, 'seccompProfile', 'type');
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push(`${name}: seccompProfile is not RuntimeDefault`);
    if (security.readOnlyRootFilesystem !== true && !writableReason)
      problems.push(
        `${name}: readOnlyRootFilesystem is not true (or say why in the ${WRITABLE_ROOT_ANNOTATION} annotation)`,
      );
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory'] as const) {
        if (field(container, 'resources', kind, resource) === undefined)
          problems.push(`${name}: no ${resource} ${kind}`);
      }
    }
    const image = typeof container.image === 'string' ? container.image : '';
    if (!image) problems.push(`${name}: no image`);
    else if (options.pinnedImages) {
      const tag = image.includes('@') ? 'digest' : /:([^/:]+)$/.exec(image)?.[1];
      if (!tag || tag === 'latest') problems.push(`${name}: image ${image} is not pinned`);
    }
    for (const variable of asArray(container.env).filter(isObject)) {
      const variableName = String(variable.name);
      if (typeof variable.value === 'string' && hasUrlCredentials(variable.value))
        problems.push(`${name}: ${variableName} has credentials inline`);
      if (isSecretName(variableName) && variable.value !== undefined)
        problems.push(`${name}: ${variableName} is inline: reference a secret (secretKeyRef)`);
      if (isSecretName(variableName) && field(variable, 'valueFrom', 'configMapKeyRef'))
        problems.push(`${name}: ${variableName} comes from a ConfigMap: use a secret`);
    }
  }
  return problems;
}

function portNumber(container: Record<string, unknown>, name: string): number | undefined {
  const port = asArray(container.ports)
    .filter(isObject)
    .find((candidate) => candidate.name === name);
  return typeof port?.containerPort === 'number' ? port.containerPort : undefined;
}

/**
 * The park services' Deployments: ports grpc and http; startup and readiness on the native gRPC
 * probe (grpc.health.v1, which follows the dependencies); liveness on /healthz over HTTP (or
 * gRPC); /tmp on an emptyDir; a service account without an API token.
 */
export function checkServiceDeployment(object: KubeObject): string[] {
  const problems: string[] = [];
  const what = describe(object);
  const spec = podSpec(object);
  const main = containers(object, { init: false })[0];
  if (!main) return [`${what}: no container`];
  const grpcPort = portNumber(main, 'grpc');
  const httpPort = portNumber(main, 'http');
  if (grpcPort === undefined) problems.push(`${what}: no container port named grpc`);
  if (httpPort === undefined) problems.push(`${what}: no container port named http`);
  for (const probe of ['startupProbe', 'readinessProbe'] as const) {
    const port = field(main, probe, 'grpc', 'port');
    if (port === undefined) problems.push(`${what}: ${probe} is not a gRPC probe`);
    else if (port !== grpcPort)
      problems.push(`${what}: ${probe} probes port ${String(port)}, gRPC is on ${grpcPort}`);
  }
  const liveness = asRecord(main.livenessProbe);
  const livenessHttp = asRecord(liveness.httpGet);
  const livenessOk =
    (livenessHttp.path === '/healthz' &&
      (livenessHttp.port === 'http' || livenessHttp.port === httpPort)) ||
    field(liveness, 'grpc', 'port') === grpcPort;
  if (!livenessOk) problems.push(`${what}: livenessProbe is neither GET /healthz nor gRPC health`);
  const tmp = asArray(main.volumeMounts)
    .filter(isObject)
    .find((mount) => mount.mountPath === '/tmp');
  const volume = asArray(spec.volumes)
    .filter(isObject)
    .find((candidate) => candidate.name === tmp?.name);
  if (!volume || !isObject(volume.emptyDir)) problems.push(`${what}: /tmp is not an emptyDir`);
  if (spec.automountServiceAccountToken !== false)
    problems.push(`${what}: mounts a service account token it never uses`);
  if (!spec.serviceAccountName) problems.push(`${what}: runs as the default service account`);
  return problems;
}

/** Every ConfigMap: no credential under a secret's name, none inside a URL. */
export function checkConfigMap(object: KubeObject): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(asRecord(object.data))) {
    if (isSecretName(key)) problems.push(`${describe(object)}: ${key} belongs in a secret`);
    if (typeof value === 'string' && hasUrlCredentials(value))
      problems.push(`${describe(object)}: ${key} has credentials inline`);
  }
  return problems;
}

export interface SecretReference {
  name: string;
  key?: string;
  optional: boolean;
  from: string;
}

/** Secrets and ConfigMaps a pod template refers to (env, envFrom, volumes, pull secrets). */
export function podReferences(object: KubeObject): {
  secrets: SecretReference[];
  configMaps: SecretReference[];
} {
  const secrets: SecretReference[] = [];
  const configMaps: SecretReference[] = [];
  const what = describe(object);
  const spec = podSpec(object);
  for (const container of containers(object)) {
    for (const variable of asArray(container.env).filter(isObject)) {
      const secret = asRecord(field(variable, 'valueFrom', 'secretKeyRef'));
      const configMap = asRecord(field(variable, 'valueFrom', 'configMapKeyRef'));
      const from = `${what} env ${String(variable.name)}`;
      if (secret.name)
        secrets.push({
          name: String(secret.name),
          key: String(secret.key),
          optional: secret.optional === true,
          from,
        });
      if (configMap.name)
        configMaps.push({
          name: String(configMap.name),
          key: String(configMap.key),
          optional: configMap.optional === true,
          from,
        });
    }
    for (const source of asArray(container.envFrom).filter(isObject)) {
      const secret = asRecord(source.secretRef);
      const configMap = asRecord(source.configMapRef);
      if (secret.name)
        secrets.push({
          name: String(secret.name),
          optional: secret.optional === true,
          from: `${what} envFrom`,
        });
      if (configMap.name)
        configMaps.push({
          name: String(configMap.name),
          optional: configMap.optional === true,
          from: `${what} envFrom`,
        });
    }
  }
  for (const volume of asArray(spec.volumes).filter(isObject)) {
    const secret = asRecord(volume.secret);
    const configMap = asRecord(volume.configMap);
    const from = `${what} volume ${String(volume.name)}`;
    if (secret.secretName)
      secrets.push({ name: String(secret.secretName), optional: secret.optional === true, from });
    if (configMap.name)
      configMaps.push({
        name: String(configMap.name),
        optional: configMap.optional === true,
        from,
      });
  }
  for (const pull of asArray(spec.imagePullSecrets).filter(isObject)) {
    if (pull.name) secrets.push({ name: String(pull.name), optional: false, from: `${what} pull` });
  }
  return { secrets, configMaps };
}

/** A label selector (matchLabels and matchExpressions) against a set of labels. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (!isObject(selector)) return false;
  for (const [key, value] of Object.entries(asStringRecord(selector.matchLabels))) {
    if (labels[key] !== value) return false;
  }
  for (const expression of asArray(selector.matchExpressions).filter(isObject)) {
    const key = String(expression.key);
    const values = asArray(expression.values).map(String);
    const has = key in labels;
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service's plain selector (a map) against a set of labels; an empty one selects nothing. */
function serviceSelects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/**
 * Within one rendered overlay: ConfigMaps, secrets and service accounts that pods use exist (or
 * are provided by an operator or a script); Services, PodDisruptionBudgets and autoscalers find
 * their pods; an autoscaled Deployment leaves replicas to the autoscaler.
 */
export function checkReferences(
  objects: KubeObject[],
  providedSecrets: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const named = (kind: string) =>
    new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata?.name ?? ''));
  const configMaps = named('ConfigMap');
  const serviceAccounts = named('ServiceAccount');
  const secrets = new Set([...named('Secret'), ...providedSecrets]);
  const workloads = objects.filter(isWorkload);

  for (const workload of workloads) {
    const references = podReferences(workload);
    for (const reference of references.configMaps) {
      if (!reference.optional && !configMaps.has(reference.name))
        problems.push(`${reference.from}: ConfigMap ${reference.name} does not exist`);
    }
    for (const reference of references.secrets) {
      if (!reference.optional && !secrets.has(reference.name))
        problems.push(
          `${reference.from}: secret ${reference.name} is neither in the overlay nor provided`,
        );
    }
    const account = podSpec(workload).serviceAccountName;
    if (typeof account === 'string' && !serviceAccounts.has(account))
      problems.push(`${describe(workload)}: ServiceAccount ${account} does not exist`);
  }

  for (const service of objects.filter((o) => o.kind === 'Service')) {
    const selector = asStringRecord(field(service, 'spec', 'selector'));
    const targets = workloads.filter((workload) => serviceSelects(selector, podLabels(workload)));
    if (targets.length === 0) {
      problems.push(`${describe(service)}: its selector matches no pod template`);
      continue;
    }
    for (const port of asArray(field(service, 'spec', 'ports')).filter(isObject)) {
      const target = port.targetPort ?? port.port;
      const found = targets.every((workload) =>
        containers(workload, { init: false }).some((container) =>
          asArray(container.ports)
            .filter(isObject)
            .some((p) =>
              typeof target === 'string' ? p.name === target : p.containerPort === target,
            ),
        ),
      );
      if (!found)
        problems.push(
          `${describe(service)}: port ${String(port.name)} targets ${String(target)}, which its pods do not expose`,
        );
    }
  }

  for (const budget of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const selector = field(budget, 'spec', 'selector');
    if (!workloads.some((workload) => selectorMatches(selector, podLabels(workload))))
      problems.push(`${describe(budget)}: its selector matches no pod template`);
  }

  for (const autoscaler of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = asRecord(field(autoscaler, 'spec', 'scaleTargetRef'));
    const workload = workloads.find(
      (candidate) => candidate.kind === target.kind && candidate.metadata?.name === target.name,
    );
    if (!workload) {
      problems.push(
        `${describe(autoscaler)}: ${String(target.kind)} ${String(target.name)} does not exist`,
      );
      continue;
    }
    if (field(workload, 'spec', 'replicas') !== undefined)
      problems.push(
        `${describe(workload)}: sets replicas although ${describe(autoscaler)} owns them`,
      );
    const min = Number(field(autoscaler, 'spec', 'minReplicas') ?? 1);
    const max = Number(field(autoscaler, 'spec', 'maxReplicas'));
    if (!(min >= 1 && min <= max))
      problems.push(`${describe(autoscaler)}: minReplicas ${min} > maxReplicas ${max}`);
    const budget = objects.find(
      (o) =>
        o.kind === 'PodDisruptionBudget' &&
        selectorMatches(field(o, 'spec', 'selector'), podLabels(workload)),
    );
    const minAvailable = field(budget, 'spec', 'minAvailable');
    if (typeof minAvailable === 'number' && minAvailable >= min)
      problems.push(
        `${describe(budget!)}: minAvailable ${minAvailable} with ${min} replicas blocks every drain`,
      );
  }
  return problems;
}
