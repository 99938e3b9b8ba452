// `npm start`: the whole park on this machine: infrastructure, the four services, the simulator.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, workDir } from './paths';
import { infraUp, SERVICES, type ServiceName } from './stack';

const PORTS: Record<ServiceName, { grpc: number; http: number }> = {
  metering: { grpc: 50051, http: 8081 },
  carbon: { grpc: 50052, http: 8082 },
  dispatch: { grpc: 50053, http: 8083 },
  reporting: { grpc: 50054, http: 8084 },
};

/** A development JWT secret kept in the work folder, so tokens survive a restart. */
function developmentSecret(): string {
  const file = path.join(workDir, 'dev-jwt-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(workDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

async function ready(
  url: string,
  timeoutMs: number,
  child: ChildProcess,
  name: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with code ${child.exitCode}; see its log`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${name} was not ready after ${timeoutMs / 1000} s (${url})`);
}

/** Whether a Docker engine answers (a docker CLI may be installed without one). */
function dockerEngineAnswers(): boolean {
  const sockets = [
    '/var/run/docker.sock',
    path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
  ];
  if (!process.env.DOCKER_HOST && !sockets.some((socket) => fs.existsSync(socket))) return false;
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    timeout: 3_000,
    encoding: 'utf8',
  });
  return info.status === 0 && info.stdout.trim() !== '';
}

const answers = (command: string, args: string[]) =>
  spawnSync(command, args, { timeout: 10_000, stdio: 'ignore' }).status === 0;

/**
 * Where the infrastructure comes from: connection settings in the environment; else
 * docker-compose.yml when a Docker engine answers; else the machine (Java and Maven for Kafka,
 * PostgreSQL and Redis binaries). When none can work, one message says what is missing.
 */
function chooseInfrastructure(): NodeJS.ProcessEnv {
  const env = process.env;
  if (env.KAFKA_BROKERS && env.DATABASE_URL && env.REDIS_URL) return env;
  if (dockerEngineAnswers()) {
    console.log('[infra] a Docker engine answers: docker compose up -d kafka postgres redis');
    const up = spawnSync(
      'docker',
      ['compose', 'up', '-d', '--wait', 'kafka', 'postgres', 'redis'],
      {
        cwd: repoRoot,
        stdio: 'inherit',
      },
    );
    if (up.status !== 0)
      throw new Error('docker compose could not start kafka, postgres and redis');
    return {
      ...env,
      KAFKA_BROKERS: '127.0.0.1:9092',
      DATABASE_URL: 'postgres://postgres:park@127.0.0.1:5432/postgres',
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
  }
  const missing = [
    !answers('java', ['-version']) && 'Java 17 (apt-get install openjdk-17-jre-headless)',
    !fs.existsSync(path.join(workDir, 'kafka', 'libs')) &&
      !answers('mvn', ['-v']) &&
      'Maven, to assemble Kafka on first use (apt-get install maven)',
    !answers('pg_ctlcluster', ['--help']) &&
      !answers('pg_isready', ['-h', '127.0.0.1']) &&
      'PostgreSQL 15 (apt-get install postgresql)',
    !answers('redis-server', ['--version']) &&
      !answers('redis-cli', ['ping']) &&
      'Redis 7 (apt-get install redis-server)',
  ].filter((item): item is string => Boolean(item));
  if (missing.length > 0) {
    throw new Error(
      `the park cannot start here: it needs ${missing.join(', ')}; or a Docker engine ` +
        '(docker-compose.yml); or KAFKA_BROKERS, DATABASE_URL and REDIS_URL of running services',
    );
  }
  return env;
}

async function main(): Promise<void> {
  const infra = await infraUp((line) => console.log(`[infra] ${line}`), chooseInfrastructure());
  const secret = process.env.JWT_SECRET ?? developmentSecret();
  const logs = path.join(workDir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the park (each process finishes what it has in hand) ...');
    for (const child of children.values()) child.kill('SIGTERM');
    const deadline = Date.now() + 40_000;
    while (
      [...children.values()].some((child) => child.exitCode === null && child.signalCode === null)
    ) {
      if (Date.now() > deadline) {
        for (const child of children.values()) child.kill('SIGKILL');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    console.log('stopped; the data stays in PostgreSQL and Kafka for the next `npm start`');
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  const common = {
    ...process.env,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    JWT_SECRET: secret,
    GRPC_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  for (const service of SERVICES) {
    const log = fs.openSync(path.join(logs, `${service}.log`), 'a');
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'services', service, 'dist', 'main.js')],
      {
        cwd: repoRoot,
        env: {
          ...common,
          SERVICE_NAME: service,
          DATABASE_URL: infra.serviceDatabaseUrls[service],
          GRPC_PORT: String(PORTS[service].grpc),
          HTTP_PORT: String(PORTS[service].http),
          REPORTING_CARBON_GRPC_ADDRESS: `127.0.0.1:${PORTS.carbon.grpc}`,
          REPORTING_DISPATCH_GRPC_ADDRESS: `127.0.0.1:${PORTS.dispatch.grpc}`,
          // The dashboard's buttons that mint development tokens (reporting refuses them in
          // production).
          REPORTING_DASHBOARD_DEV_SIGN_IN: process.env.NODE_ENV === 'production' ? 'false' : 'true',
        },
        stdio: ['ignore', log, log],
      },
    );
    children.set(service, child);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(
          `${service} stopped unexpectedly (${signal ?? `code ${code}`}); see ${path.relative(repoRoot, path.join(logs, `${service}.log`))}`,
        );
        void stopAll(1);
      }
    });
  }
  try {
    await Promise.all(
      SERVICES.map((service) =>
        ready(
          `http://127.0.0.1:${PORTS[service].http}/readyz`,
          120_000,
          children.get(service)!,
          service,
        ),
      ),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    await stopAll(1);
    return;
  }

  const simulator = spawn(
    process.execPath,
    [path.join(repoRoot, 'tools', 'simulator', 'dist', 'cli.js')],
    {
      cwd: repoRoot,
      env: {
        ...common,
        SIMULATOR_METERING: `127.0.0.1:${PORTS.metering.grpc}`,
        SIMULATOR_CARBON: `127.0.0.1:${PORTS.carbon.grpc}`,
        SIMULATOR_DISPATCH: `127.0.0.1:${PORTS.dispatch.grpc}`,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  children.set('simulator', simulator);

  const { signDevelopmentToken } = await import('@park/service-kit');
  const token = await signDevelopmentToken(
    {
      secret,
      issuer: process.env.JWT_ISSUER ?? 'park-dev',
      audience: process.env.JWT_AUDIENCE ?? 'park',
    },
    { role: 'operator', subject: 'developer', ttlSeconds: 7 * 86_400 },
  );
  console.log('\nThe park is running:');
  for (const service of SERVICES) {
    console.log(
      `  ${service.padEnd(10)} gRPC 127.0.0.1:${PORTS[service].grpc}   HTTP http://127.0.0.1:${PORTS[service].http}   log .work/logs/${service}.log`,
    );
  }
  console.log(
    `  dashboard   http://127.0.0.1:${PORTS.reporting.http}/dashboard/   (development sign-in buttons, or paste the token below)`,
  );
  console.log(`  reports     http://127.0.0.1:${PORTS.reporting.http}/v1/reports/...`);
  console.log(`  Kafka       ${infra.kafkaBrokers.join(',')}`);
  console.log(`  operator token (development, 7 days):\n    ${token}`);
  console.log('Ctrl-C stops everything; `npm start` again continues with the data kept.\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
