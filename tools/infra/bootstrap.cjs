#!/usr/bin/env node
// Entry point of the root npm scripts. Plain JavaScript with no dependencies, because it runs on
// a fresh clone before anything is installed: it installs what is missing, then hands over.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function mustRun(command, args, options) {
  const status = run(command, args, options);
  if (status !== 0) process.exit(status);
}

/**
 * npm ci when node_modules is missing or older than package-lock.json (npm writes its hidden
 * lockfile, node_modules/.package-lock.json, after every install); code generation after.
 */
function ensureInstalled() {
  const hiddenLock = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  const stale =
    !fs.existsSync(hiddenLock) || fs.statSync(lock).mtimeMs > fs.statSync(hiddenLock).mtimeMs;
  if (stale) {
    console.log('installing dependencies (npm ci) ...');
    mustRun('npm', ['ci', '--no-audit', '--no-fund']);
  }
  if (!fs.existsSync(path.join(root, 'packages', 'contracts', 'src', 'gen', 'index.ts'))) {
    mustRun('npm', ['run', '--silent', 'generate']);
  }
}

/** Runs a TypeScript entry point from source, resolving workspace packages to their sources. */
function runTs(file, args) {
  return run(process.execPath, [
    '--conditions=development',
    '--import',
    'tsx',
    path.join(root, file),
    ...args,
  ]);
}

const [command, ...args] = process.argv.slice(2);
ensureInstalled();
switch (command) {
  case 'test':
    process.exit(
      run(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), ...args]),
    );
    break;
  case 'infra:up':
    process.exit(runTs('tools/infra/src/cli.ts', ['up']));
    break;
  case 'infra:down':
    process.exit(runTs('tools/infra/src/cli.ts', ['down']));
    break;
  case 'start':
    mustRun('npm', ['run', '--silent', 'build']);
    process.exit(runTs('tools/infra/src/start.ts', args));
    break;
  case 'token':
    process.exit(runTs('packages/service-kit/src/cli/dev-token.ts', args));
    break;
  case 'bench':
    process.exit(runTs('tools/bench/src/cli.ts', args));
    break;
  case 'parkctl':
    process.exit(runTs('tools/parkctl/src/cli.ts', args));
    break;
  default:
    console.error(
      `unknown command ${command}: use test, start, infra:up, infra:down, token, bench or parkctl`,
    );
    process.exit(2);
}
