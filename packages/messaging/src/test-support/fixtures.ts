import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { park } from '@park/contracts';
import type { RecordedEvent } from '@park/eventstore';
import type { IntegrationEventMapper } from '../relay';

/**
 * The test's integration event: a park.common.v1.Quantity whose value is the stream version, so
 * a consumer can check per-key order from the payload alone.
 */
export function quantityMapper(topic: string): IntegrationEventMapper {
  return (event: RecordedEvent) => ({
    topic,
    key: event.streamId,
    type: 'park.common.v1.Quantity',
    payload: park.common.v1.Quantity.encode({
      value: { value: String(event.streamVersion) },
      unit: park.common.v1.Unit.UNIT_KWH,
    }).finish(),
  });
}

export function decodeVersion(value: Buffer | null): number {
  return Number(park.common.v1.Quantity.decode(value ?? Buffer.alloc(0)).value?.value);
}

/** Runs a TypeScript file of this folder's tests as a child process with an IPC channel. */
export function spawnChild(file: string, env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', path.join(__dirname, '..', file)],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
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
