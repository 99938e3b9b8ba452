// The root Dockerfile (no engine here to build it: checked by reading it) and docker-compose.yml
// (against the Compose Specification's JSON schema always, and by `docker compose config` where
// Compose v2 is installed).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, SERVICES } from './index';

const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages: { from: string; name?: string; lines: string[] }[] = [];
for (const line of instructions) {
  const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
  if (from) stages.push({ from: from[1]!, name: from[2], lines: [] });
  else stages.at(-1)?.lines.push(line);
}
const runtime = stages.at(-1)!;
const args = Object.fromEntries(
  instructions
    .map((line) => /^ARG\s+([A-Z_]+)=(\S+)/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, match[2]!]),
);
const image = (reference: string) =>
  reference.replace(/^\$\{?([A-Z_]+)\}?$/, (_, n: string) => args[n] ?? reference);

test('every stage is on Node 24 (the current LTS), slim', () => {
  expect(stages.length).toBeGreaterThanOrEqual(2);
  for (const stage of stages) expect(image(stage.from)).toMatch(/^node:24(\.\d+)*-slim/);
});

test('it builds with npm ci and npm run build, and runs production dependencies only', () => {
  const all = instructions.join('\n');
  expect(all).toMatch(/RUN .*npm ci\b/);
  expect(all).toMatch(/npm run build/);
  expect(all).toMatch(/npm ci --omit=dev/);
  expect(runtime.lines.some((line) => /npm (ci|install)/.test(line))).toBe(false);
});

test('the runtime stage runs as a non-root user', () => {
  const user = runtime.lines.filter((line) => /^USER\s/i.test(line)).at(-1);
  expect(user).toBeDefined();
  expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
});

test("it carries what the services read at run time: migrations, the contracts' descriptor set, the PDF font", () => {
  expect(dockerfile).toContain('migrations');
  expect(dockerfile).toContain('packages/contracts/src/gen/park.binpb');
  const pdf = fs.readFileSync(
    path.join(repoRoot, 'services/reporting/src/statements/pdf.ts'),
    'utf8',
  );
  if (pdf.includes('/usr/share/fonts/opentype/noto/NotoSansCJK'))
    expect(dockerfile).toContain('fonts-noto-cjk');
});

test('it starts any of the four services by SERVICE or by command, on the ports the manifests use', () => {
  const cmd = runtime.lines.find((line) => /^CMD\s/i.test(line));
  expect(cmd).toBeDefined();
  expect(cmd).toContain('services/$SERVICE/dist/main.js');
  for (const service of SERVICES) {
    expect(cmd).toContain(service);
    expect(fs.existsSync(path.join(repoRoot, 'services', service, 'src', 'main.ts'))).toBe(true);
    const tsconfig = fs.readFileSync(
      path.join(repoRoot, 'services', service, 'tsconfig.json'),
      'utf8',
    );
    expect(tsconfig).toMatch(/"outDir":\s*"dist"/);
  }
  const expose = runtime.lines.find((line) => /^EXPOSE\s/i.test(line));
  expect(expose?.split(/\s+/).slice(1).sort()).toEqual(['50051', '8080']);
  expect(runtime.lines.some((line) => line.includes('/readyz'))).toBe(true);
});

test('.dockerignore keeps dependencies, build output and the git history out of the context', () => {
  const ignored = fs
    .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim());
  for (const entry of ['**/node_modules', '**/dist', '.git']) expect(ignored).toContain(entry);
});

/**
 * `docker compose` (the plugin) or a standalone docker-compose of Compose v2. Compose v1 (Debian
 * bookworm's docker-compose 1.29) predates the Compose Specification this file follows (it
 * rejects the top-level `name`), so it does not count.
 */
const composeCommand = [['docker', 'compose'], ['docker-compose']].find(([command, ...args]) => {
  const result = spawnSync(command!, [...args, 'version', '--short'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return result.status === 0 && /^v?[2-9]\./.test(result.stdout.trim());
});

/**
 * The linter's rules that find mistakes (duplicate host ports, unpinned images, a build beside an
 * image, ...) stay on; its ordering and quoting preferences are style this file does not follow.
 */
const STYLE_RULES_OFF = Object.fromEntries(
  [
    'service-dependencies-alphabetical-order',
    'service-keys-order',
    'service-ports-alphabetical-order',
    'services-alphabetical-order',
    'top-level-properties-order',
    'require-quotes-in-ports',
    'no-quotes-in-volumes',
  ].map((rule) => [rule, 0]),
);

/** The part of dclint's API used here (its bundled declarations do not resolve from CommonJS). */
interface ComposeLinter {
  lintFiles(
    paths: string[],
    recursive: boolean,
  ): { messages: { rule: string; line: number; message: string }[] }[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DCLinter } = require('dclint') as {
  DCLinter: new (config: {
    rules: Record<string, number>;
    exclude: string[];
    debug: boolean;
    quiet: boolean;
  }) => ComposeLinter;
};

function composeFindings(file: string): string[] {
  const linter = new DCLinter({ rules: STYLE_RULES_OFF, exclude: [], debug: false, quiet: true });
  return linter
    .lintFiles([file], false)
    .flatMap((result) => result.messages)
    .map((message) => `${message.rule} (line ${message.line}): ${message.message}`);
}

test('docker-compose.yml follows the Compose Specification (JSON schema) and has no lint errors', () => {
  expect(composeFindings(path.join(repoRoot, 'docker-compose.yml'))).toEqual([]);
});

test('the compose check fails on a service key the specification does not have', () => {
  const broken = fs
    .readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')
    .replace(/^( {2}reporting:\n)/m, '$1    restart_policy: always\n');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-')), 'docker-compose.yml');
  fs.writeFileSync(file, broken);
  try {
    expect(composeFindings(file)).toEqual([expect.stringMatching(/^invalid-schema/)]);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

(composeCommand ? test : test.skip)(
  'docker compose config accepts docker-compose.yml (skipped without Compose v2)',
  () => {
    const [command, ...args] = composeCommand!;
    const result = spawnSync(command!, [...args, '-f', 'docker-compose.yml', 'config', '--quiet'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  },
);
