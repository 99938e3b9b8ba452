// Reading the Kubernetes manifests: every YAML file under deploy/k8s, every document in it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';

/** The repository's root (this file is tools/deploy-check/{src,dist}/manifests.*). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const k8sRoot = path.join(repoRoot, 'deploy', 'k8s');

/** The park's services, each with a folder under services/ and under deploy/k8s/base. */
export const SERVICES = ['metering', 'carbon', 'dispatch', 'reporting'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Kubernetes object as parsed; everything beyond apiVersion, kind and metadata is unchecked. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface ParsedFile {
  /** Relative to the repository root, with forward slashes. */
  file: string;
  documents: unknown[];
  /** Syntax errors and warnings, duplicate keys, and scalars YAML 1.1 reads differently. */
  problems: string[];
}

export function relative(file: string): string {
  return path.relative(repoRoot, file).split(path.sep).join('/');
}

/** Every .yaml/.yml file under the folder, sorted. */
export function yamlFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) found.push(full);
    }
  };
  walk(dir);
  return found.sort();
}

function parse(text: string, version: '1.1' | '1.2') {
  return parseAllDocuments(text, { version, uniqueKeys: true, prettyErrors: false });
}

/**
 * Parses every document of a YAML file. kubectl reads YAML 1.1 (where yes, no, on, off and
 * 0755-style numbers are not strings), this parser YAML 1.2 by default: a document that means
 * something different in the two is reported, since the cluster would see the 1.1 reading.
 */
export function parseYamlFile(file: string): ParsedFile {
  const text = fs.readFileSync(file, 'utf8');
  const problems: string[] = [];
  const stream = parse(text, '1.2');
  const legacy = parse(text, '1.1');
  const documents: unknown[] = [];
  const list = Array.isArray(stream) ? stream : [];
  const legacyList = Array.isArray(legacy) ? legacy : [];
  list.forEach((document, index) => {
    for (const error of document.errors) problems.push(`document ${index + 1}: ${error.message}`);
    for (const warning of document.warnings)
      problems.push(`document ${index + 1}: ${warning.message}`);
    if (document.errors.length > 0) return;
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const old: unknown = legacyList[index]?.toJS();
    if (!isDeepStrictEqual(value, old)) {
      problems.push(
        `document ${index + 1} reads differently as YAML 1.1 (kubectl): quote yes/no/on/off and similar scalars`,
      );
    }
    documents.push(value);
  });
  return { file: relative(file), documents, problems };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isKubeObject(value: unknown): value is KubeObject {
  return isObject(value) && typeof value.apiVersion === 'string' && typeof value.kind === 'string';
}

/** "apps/v1 Deployment park/metering" for messages. */
export function describe(object: KubeObject): string {
  const meta = object.metadata ?? {};
  const name = meta.namespace ? `${meta.namespace}/${meta.name ?? '?'}` : (meta.name ?? '?');
  return `${object.kind ?? '?'} ${name}`;
}

/** A nested field by path, or undefined when any step is missing. */
export function field(value: unknown, ...steps: (string | number)[]): unknown {
  let current = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isObject(current)) return undefined;
      current = current[step];
    }
  }
  return current;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

export function asStringRecord(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(asRecord(value))) {
    if (typeof item === 'string') result[key] = item;
  }
  return result;
}
