#!/usr/bin/env node
// `npx parkctl ...`: runs the TypeScript sources through tsx with the workspaces' "development"
// export condition, as the root npm scripts do, so parkctl needs no prior build.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const cli = path.join(__dirname, '..', 'src', 'cli.ts');
const tsx = pathToFileURL(require.resolve('tsx')).href;
const result = spawnSync(
  process.execPath,
  ['--conditions=development', '--import', tsx, cli, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
if (result.error) {
  process.stderr.write(`parkctl: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? (result.signal === 'SIGINT' ? 130 : 1));
