// The environment a container would start with, from the rendered ConfigMaps and its env.
import { asArray, asStringRecord, describe, field, isObject, type KubeObject } from './manifests';
import { containers } from './workloads';

/** Stand-ins for values that come from secrets (their shape as the config schema expects it). */
export const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgresql://user:password@database:5432/database',
  REDIS_URL: 'redis://:password@redis:6379',
  JWT_SECRET: 'x'.repeat(32),
};

export interface ContainerEnvironment {
  env: Record<string, string>;
  /** Variables set from a secret (their values are stand-ins). */
  fromSecrets: string[];
  problems: string[];
}

/**
 * envFrom ConfigMaps in order (later ones win), then env entries; secretKeyRef values are
 * stand-ins, fieldRef values the pod's name. $(VAR) references are left as they are.
 */
export function containerEnvironment(
  workload: KubeObject,
  objects: KubeObject[],
): ContainerEnvironment {
  const problems: string[] = [];
  const env: Record<string, string> = {};
  const fromSecrets: string[] = [];
  const container = containers(workload, { init: false })[0];
  const configMap = (name: string) =>
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === name);
  for (const source of asArray(container?.envFrom).filter(isObject)) {
    const name = field(source, 'configMapRef', 'name');
    if (typeof name === 'string') {
      const found = configMap(name);
      if (!found) problems.push(`${describe(workload)}: ConfigMap ${name} does not exist`);
      Object.assign(env, asStringRecord(found?.data));
    }
    if (field(source, 'secretRef', 'name') !== undefined)
      problems.push(`${describe(workload)}: envFrom a secret cannot be checked against the schema`);
  }
  for (const variable of asArray(container?.env).filter(isObject)) {
    const name = String(variable.name);
    if (typeof variable.value === 'string') env[name] = variable.value;
    else if (field(variable, 'valueFrom', 'secretKeyRef') !== undefined) {
      env[name] = SECRET_STAND_INS[name] ?? 'stand-in-secret';
      fromSecrets.push(name);
    } else if (field(variable, 'valueFrom', 'configMapKeyRef') !== undefined) {
      const ref = field(variable, 'valueFrom', 'configMapKeyRef');
      const value = asStringRecord(configMap(String(field(ref, 'name')))?.data)[
        String(field(ref, 'key'))
      ];
      if (value === undefined)
        problems.push(`${describe(workload)}: ${name} refers to a missing key`);
      else env[name] = value;
    } else if (field(variable, 'valueFrom', 'fieldRef') !== undefined) env[name] = 'pod';
    else if (field(variable, 'valueFrom', 'resourceFieldRef') !== undefined) env[name] = '1';
  }
  return { env, fromSecrets, problems };
}

/** host:port pairs of a comma-separated address list (KAFKA_BROKERS). */
export function addresses(list: string): { host: string; port: number }[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
    });
}

/** The Service behind an in-namespace address (name or name.namespace[.svc[.cluster.local]]). */
export function serviceOf(
  objects: KubeObject[],
  host: string,
  namespace: string,
): KubeObject | undefined {
  const [name, ns] = host.split('.');
  if (ns !== undefined && ns !== namespace) return undefined;
  return objects.find((o) => o.kind === 'Service' && o.metadata?.name === name);
}

/** Whether a Service has the port. */
export function servicePort(service: KubeObject | undefined, port: number): boolean {
  return asArray(field(service, 'spec', 'ports'))
    .filter(isObject)
    .some((entry) => entry.port === port);
}
