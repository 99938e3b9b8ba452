import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withTimeout } from '@park/infra';

/**
 * Whether a container engine answers. A docker CLI may be installed without an engine, so the
 * CLI is not asked; with no socket and no DOCKER_HOST the answer is no at once, otherwise
 * testcontainers' runtime client gets two seconds.
 */
export async function containerEngineAnswers(timeoutMs = 2_000): Promise<boolean> {
  const sockets = [
    '/var/run/docker.sock',
    path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
  ];
  if (!process.env.DOCKER_HOST && !sockets.some((socket) => fs.existsSync(socket))) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), timeoutMs, 'container runtime');
    return true;
  } catch {
    return false;
  }
}
