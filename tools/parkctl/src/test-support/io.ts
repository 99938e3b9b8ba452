import type { Io } from '../context';
import { run } from '../program';

export interface Captured {
  io: Io;
  stdout(): string;
  stderr(): string;
}

/** An Io whose output the test reads; stderr is not a terminal unless `tty` is set. */
export function captureIo(
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string; tty?: boolean } = {},
): Captured {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (text: string) => void (out += text) },
      stderr: { write: (text: string) => void (err += text), isTTY: options.tty ?? false },
      env,
      cwd: options.cwd ?? process.cwd(),
    },
    stdout: () => out,
    stderr: () => err,
  };
}

/** Runs parkctl with the arguments; its exit code and what it printed. */
export async function parkctl(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string; tty?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = captureIo(env, options);
  const code = await run(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}
