#!/usr/bin/env node
// parkctl's process: `npx parkctl <command>`, or from the sources
// `node --conditions=development --import tsx tools/parkctl/src/cli.ts <command>`.
import { run } from './program';

// Under `npm run`, the working directory is the repository's root; INIT_CWD is where the
// command was typed, so relative file names mean what the user meant.
const cwd = process.env.INIT_CWD ?? process.cwd();

// `parkctl ... | head` closes stdout early: that is no error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** Exits once stdout is written out; clients that still retry (Kafka) do not hold the process. */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd,
}).then(exit, (error: unknown) => {
  process.stderr.write(`parkctl: ${error instanceof Error ? error.message : String(error)}\n`);
  exit(70);
});
