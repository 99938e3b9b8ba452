import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Runs a TypeScript file in a process of its own, with an IPC channel: for tests of what only
 * another process shows (a crash, a signal, a trace crossing processes). Workspace packages
 * resolve to their sources, as in the tests themselves.
 */
export function spawnTsChild(file: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=development', '--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** The child's next IPC message; fails if it exits first or sends nothing in time. */
export function nextMessage<T>(child: ChildProcess, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('child process sent nothing in time')),
      timeoutMs,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as T);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child process exited (${code ?? signal}) before sending a message`));
    });
  });
}
