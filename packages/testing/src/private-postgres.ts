import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { postgresAnswers, waitFor } from '@park/infra';

export interface PrivatePostgres {
  url: string;
  port: number;
  /** Restarts the server (fast shutdown, then start) on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server (fast shutdown) but keeps its data: clients see connections refused. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the test's own, from the machine's PostgreSQL binaries, for tests that
 * hold transactions open or restart the server: transaction ids are server-wide, so a
 * transaction held open on the shared server would stall the global-log readers of every other
 * test. Returns undefined where no binaries are installed (containers or given settings).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres | undefined> {
  const binDir = findBinDir();
  if (!binDir) return undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'park-pg-'));
  const port = await freePort();
  // initdb refuses to run as root: run the cluster as the postgres system user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : path.join(binDir, tool);
    const fullArgs = asRoot ? ['-u', 'postgres', '--', path.join(binDir, tool), ...args] : args;
    const result = spawnSync(command, fullArgs, { encoding: 'utf8' });
    if (result.status !== 0)
      throw new Error(`${tool} failed: ${result.stderr || result.error?.message}`);
  };
  // Restarts run asynchronously: the test's own clients keep working (and failing) meanwhile.
  const runAsync = (tool: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const command = asRoot ? 'runuser' : path.join(binDir, tool);
      const fullArgs = asRoot ? ['-u', 'postgres', '--', path.join(binDir, tool), ...args] : args;
      execFile(command, fullArgs, { encoding: 'utf8' }, (error, _stdout, stderr) =>
        error ? reject(new Error(`${tool} failed: ${stderr || error.message}`)) : resolve(),
      );
    });
  run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const startArgs = () => [
    '-D',
    dataDir,
    '-o',
    options,
    '-l',
    path.join(dataDir, 'server.log'),
    '-w',
    'start',
  ];
  run('pg_ctl', startArgs());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor('private PostgreSQL', () => postgresAnswers(url), 30_000);
  return {
    url,
    port,
    async restart() {
      await runAsync('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      await runAsync('pg_ctl', startArgs());
      await waitFor('private PostgreSQL', () => postgresAnswers(url), 30_000);
    },
    async pause() {
      await runAsync('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
    async resume() {
      await runAsync('pg_ctl', startArgs());
      await waitFor('private PostgreSQL', () => postgresAnswers(url), 30_000);
    },
    async stop() {
      spawnSync(asRoot ? 'runuser' : path.join(binDir, 'pg_ctl'), [
        ...(asRoot ? ['-u', 'postgres', '--', path.join(binDir, 'pg_ctl')] : []),
        '-D',
        dataDir,
        '-m',
        'immediate',
        '-w',
        'stop',
      ]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function findBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs.readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return versions
    .map((v) => path.join(base, v, 'bin'))
    .find((dir) => fs.existsSync(path.join(dir, 'initdb')));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
