// Kustomizations: their references resolve to files, and (with kubectl) what they render.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { asArray, isKubeObject, isObject, relative, yamlFiles, type KubeObject } from './manifests';

export const KUSTOMIZATION_FILE = 'kustomization.yaml';

/** The fields kustomize knows (a misspelt one is silently ignored by it, so it is an error here). */
const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'resources',
  'components',
  'patches',
  'images',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'labels',
  'commonAnnotations',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'replicas',
  'replacements',
  'crds',
  'openapi',
  'buildMetadata',
  'sortOptions',
  'transformers',
  'generators',
  'validators',
]);

/** Deprecated fields kustomize still reads but warns about, with what replaces them. */
const DEPRECATED_FIELDS: Record<string, string> = {
  bases: 'resources',
  commonLabels: 'labels',
  patchesStrategicMerge: 'patches',
  patchesJson6902: 'patches',
  vars: 'replacements',
};

export interface Kustomization {
  /** Folder, absolute. */
  dir: string;
  kind: 'Kustomization' | 'Component';
  content: Record<string, unknown>;
}

export function readKustomization(dir: string): Kustomization | undefined {
  const file = path.join(dir, KUSTOMIZATION_FILE);
  if (!fs.existsSync(file)) return undefined;
  const [document] = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const content: unknown = document?.toJS();
  if (!isObject(content)) return undefined;
  return { dir, kind: content.kind === 'Component' ? 'Component' : 'Kustomization', content };
}

/** Folders under the root that hold a kustomization.yaml. */
export function kustomizationDirs(root: string): string[] {
  return yamlFiles(root)
    .filter((file) => path.basename(file) === KUSTOMIZATION_FILE)
    .map((file) => path.dirname(file));
}

function isRemote(reference: string): boolean {
  return /^[a-z]+:\/\//i.test(reference) || /^(github\.com|gitlab\.com|git@)/.test(reference);
}

function within(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface KustomizationReferences {
  /** Files listed under resources (absolute). */
  resourceFiles: string[];
  /** Files used as patches (absolute). */
  patchFiles: string[];
  /** Other files it reads: generators' sources (absolute). */
  otherFiles: string[];
}

/**
 * Checks one kustomization: known fields, apiVersion and kind, every resource, component, patch
 * and generator source resolving to a file or a folder of the right kind, files within the
 * kustomization's folder (kustomize's default load restrictor), no remote bases, no literal
 * secrets. Returns the problems and the files it references.
 */
export function checkKustomization(dir: string): {
  problems: string[];
  references: KustomizationReferences;
} {
  const where = relative(path.join(dir, KUSTOMIZATION_FILE));
  const references: KustomizationReferences = { resourceFiles: [], patchFiles: [], otherFiles: [] };
  const problems: string[] = [];
  const kustomization = readKustomization(dir);
  if (!kustomization) return { problems: [`${where}: missing or not a mapping`], references };
  const { content, kind } = kustomization;
  const problem = (message: string) => problems.push(`${where}: ${message}`);

  const expectedApi =
    kind === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1';
  if (content.apiVersion !== expectedApi)
    problem(`apiVersion ${String(content.apiVersion)}, expected ${expectedApi} for a ${kind}`);
  if (content.kind !== 'Kustomization' && content.kind !== 'Component')
    problem(`kind ${String(content.kind)} is neither Kustomization nor Component`);
  for (const key of Object.keys(content)) {
    if (key in DEPRECATED_FIELDS) problem(`${key} is deprecated: use ${DEPRECATED_FIELDS[key]}`);
    else if (!KNOWN_FIELDS.has(key)) problem(`unknown field ${key}`);
  }

  const fileInside = (entry: string, what: string): string | undefined => {
    const target = path.resolve(dir, entry);
    if (!fs.existsSync(target)) {
      problem(`${what} ${entry} does not exist`);
      return undefined;
    }
    if (!fs.statSync(target).isFile()) {
      problem(`${what} ${entry} is not a file`);
      return undefined;
    }
    if (!within(dir, target)) problem(`${what} ${entry} is outside the kustomization's folder`);
    return target;
  };

  for (const entry of asArray(content.resources)) {
    if (typeof entry !== 'string') {
      problem(`resource ${JSON.stringify(entry)} is not a path`);
      continue;
    }
    if (isRemote(entry)) {
      problem(`resource ${entry} is remote: vendor it so builds are reproducible`);
      continue;
    }
    const target = path.resolve(dir, entry);
    if (!fs.existsSync(target)) {
      problem(`resource ${entry} does not exist`);
    } else if (fs.statSync(target).isDirectory()) {
      const nested = readKustomization(target);
      if (!nested) problem(`resource ${entry} is a folder without ${KUSTOMIZATION_FILE}`);
      else if (nested.kind === 'Component')
        problem(`resource ${entry} is a Component: list it under components`);
    } else {
      const file = fileInside(entry, 'resource');
      if (file) references.resourceFiles.push(file);
    }
  }

  for (const entry of asArray(content.components)) {
    if (typeof entry !== 'string') {
      problem(`component ${JSON.stringify(entry)} is not a path`);
      continue;
    }
    const target = path.resolve(dir, entry);
    const nested = fs.existsSync(target) ? readKustomization(target) : undefined;
    if (!nested) problem(`component ${entry} is not a folder with ${KUSTOMIZATION_FILE}`);
    else if (nested.kind !== 'Component') problem(`component ${entry} is not a kind: Component`);
  }

  asArray(content.patches).forEach((patch, index) => {
    if (!isObject(patch)) {
      problem(`patch ${index + 1} is not a mapping`);
      return;
    }
    const hasPath = typeof patch.path === 'string';
    const hasInline = typeof patch.patch === 'string';
    if (hasPath === hasInline) problem(`patch ${index + 1} needs exactly one of path and patch`);
    if (hasPath) {
      const file = fileInside(patch.path as string, 'patch');
      if (file) references.patchFiles.push(file);
    }
    if (hasInline) {
      const [document] = parseAllDocuments(patch.patch as string);
      if (!document || document.errors.length > 0)
        problem(`inline patch ${index + 1} is not valid YAML`);
    }
  });

  for (const generator of ['configMapGenerator', 'secretGenerator'] as const) {
    for (const entry of asArray(content[generator])) {
      if (!isObject(entry)) continue;
      if (generator === 'secretGenerator' && asArray(entry.literals).length > 0)
        problem(`secretGenerator ${String(entry.name)} has literals: secrets are never inlined`);
      for (const source of [...asArray(entry.files), ...asArray(entry.envs)]) {
        if (typeof source !== 'string') continue;
        const file = fileInside(source.includes('=') ? source.split('=')[1]! : source, 'file');
        if (file) references.otherFiles.push(file);
      }
    }
  }
  return { problems, references };
}

/**
 * Every kustomization under the root checked, and every YAML file under it referenced by one of
 * them (a manifest no kustomization lists is never applied: a mistake either way).
 */
export function checkKustomizationTree(root: string): {
  problems: string[];
  patchFiles: Set<string>;
} {
  const problems: string[] = [];
  const referenced = new Set<string>();
  const patchFiles = new Set<string>();
  for (const dir of kustomizationDirs(root)) {
    const result = checkKustomization(dir);
    problems.push(...result.problems);
    for (const file of [...result.references.resourceFiles, ...result.references.otherFiles])
      referenced.add(file);
    for (const file of result.references.patchFiles) {
      referenced.add(file);
      patchFiles.add(relative(file));
    }
  }
  for (const file of yamlFiles(root)) {
    if (path.basename(file) === KUSTOMIZATION_FILE) continue;
    if (!referenced.has(file)) problems.push(`${relative(file)}: no kustomization references it`);
  }
  return { problems, patchFiles };
}

let kubectlAvailable: boolean | undefined;

/** Whether `kubectl kustomize` can run here (kubectl carries kustomize; no cluster is needed). */
export function hasKubectl(): boolean {
  kubectlAvailable ??=
    spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 }).status ===
    0;
  return kubectlAvailable;
}

/** The objects `kubectl kustomize <dir>` renders. */
export function render(dir: string): KubeObject[] {
  const output = execFileSync('kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(output)
    .map((document) => document.toJS() as unknown)
    .filter(isKubeObject);
}
