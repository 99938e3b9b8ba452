import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '@park/infra';
import type { Service } from '@park/testing';

/**
 * The Node options a service runs with in the cluster (its heap limit above all), from its
 * ConfigMap in deploy/k8s/base: a load benchmark's memory figures then describe the deployed
 * process, not one whose heap V8 may grow as far as the machine allows.
 */
export function deployedNodeOptions(service: Service, root = repoRoot): string {
  const file = path.join(root, 'deploy', 'k8s', 'base', service, 'configmap.yaml');
  const configMap = parse(readFileSync(file, 'utf8')) as { data?: Record<string, unknown> };
  const options = configMap?.data?.NODE_OPTIONS;
  if (typeof options !== 'string' || !/--max-old-space-size=\d+/.test(options)) {
    throw new Error(`${file}: data.NODE_OPTIONS with --max-old-space-size is missing`);
  }
  return options;
}
