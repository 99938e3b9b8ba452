// The root Dockerfile (no engine here to build it: checked by reading it) and docker-compose.yml
// (`docker compose config`, where the compose plugin is installed).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
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

/** `docker compose` (the plugin) or the standalone docker-compose, whichever answers. */
const composeCommand = [['docker', 'compose'], ['docker-compose']].find(
  ([command, ...args]) =>
    spawnSync(command!, [...args, 'version'], { stdio: 'ignore', timeout: 20_000 }).status === 0,
);

test('docker-compose.yml parses', () => {
  const [document] = parseAllDocuments(
    fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'),
  );
  expect(document?.errors).toEqual([]);
  expect(document?.toJS()).toHaveProperty('services');
});

(composeCommand ? test : test.skip)(
  'docker compose config accepts docker-compose.yml (skipped without the compose plugin)',
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
