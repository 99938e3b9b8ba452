import { spawnSync } from 'node:child_process';
import Redis from 'ioredis';
import { waitFor, withTimeout } from './wait';

export async function redisAnswers(url: string, timeoutMs = 2_000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      timeoutMs,
      'Redis',
    );
  } finally {
    client.disconnect();
  }
}

/** Starts the machine's redis-server when nothing answers on the local default address. */
export async function ensureRedis(url: string, log: (line: string) => void): Promise<void> {
  try {
    await redisAnswers(url);
    return;
  } catch {
    // Try to start it below.
  }
  const { hostname, port } = new URL(url);
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') {
    throw new Error(`Redis does not answer at ${url}`);
  }
  log('starting Redis ...');
  const result = spawnSync(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      port || '6379',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `Redis does not answer at ${url} and redis-server could not start it (${result.error?.message ?? result.stderr}): ` +
        'install it (apt-get install redis-server) or set REDIS_URL.',
    );
  }
  await waitFor('Redis', () => redisAnswers(url), 15_000);
}
