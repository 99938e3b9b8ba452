// The four services as `npm start` runs them, each a process of its own from source, but isolated
// for a test or a benchmark: fresh databases, a topic prefix of their own, ephemeral loopback
// ports (read from each service's IPC 'serving' message). The approach of the simulator's
// e2e.test.ts, shared by its docs test and the load benchmarks (tools/bench), which sample each
// process's memory.
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { repoRoot } from '@park/infra';
import { Kafka, logLevel } from 'kafkajs';
import { exitOf, nextMessage, spawnTsChild } from './child-process';
import { createTestDatabase, type TestDatabase } from './database';
import { testInfrastructure, type TestInfrastructure } from './environment';

export const SERVICES = ['metering', 'carbon', 'dispatch', 'reporting'] as const;
export type Service = (typeof SERVICES)[number];

export interface ParkServicesOptions {
  /** Where PostgreSQL, Kafka and Redis are; jest's test infrastructure when omitted. */
  infrastructure?: Pick<TestInfrastructure, 'postgresUrl' | 'kafkaBrokers' | 'redisUrl'>;
  /** Prepended to every topic name (and consumer group) the services use. */
  prefix: string;
  /** Label of the test databases. */
  label: string;
  jwtSecret: string;
  /**
   * A Redis database number for these services alone (other tests use 0 and 11): emptied before
   * they start and at cleanup, so no cache or lock of an earlier run (same meter, battery and
   * park ids) is seen.
   */
  redisDb?: number;
  /**
   * The services to start (all four when omitted); reporting needs carbon. Unstarted services
   * have no database and no port.
   */
  services?: readonly Service[];
  /** Extra environment per service (its own configuration variables). */
  env?: Partial<Record<Service, Record<string, string>>>;
  logLevel?: string;
}

export interface RunningService {
  child: ChildProcess;
  grpcPort: number;
  httpPort: number;
}

export interface ParkServices {
  grpc(service: Service): string;
  http(service: Service): string;
  redisUrl: string;
  kafkaBrokers: string[];
  /** Connection string of a started service's database. */
  databaseUrl(service: Service): string;
  /** Process id of a running service (its memory can be read from /proc/<pid>/status). */
  pid(service: Service): number;
  /** Kills a running service (SIGKILL: a crash) and waits for its exit; not an unexpected one. */
  kill(service: Service, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed service again, on its former ports and database, until it serves. */
  restart(service: Service): Promise<void>;
  /** Unexpected exits seen so far ("carbon exited (code 1)"). */
  unexpectedExits: string[];
  /** Kills the services, drops the databases, deletes the prefix's topics and groups. */
  cleanup(): Promise<void>;
}

/** FLUSHDB on one database, in Redis' own protocol (no client library needed for one call). */
async function flushRedisDb(url: string, db: number): Promise<void> {
  const parsed = new URL(url);
  const commands: string[][] = [];
  if (parsed.password) {
    const password = decodeURIComponent(parsed.password);
    commands.push(
      parsed.username
        ? ['AUTH', decodeURIComponent(parsed.username), password]
        : ['AUTH', password],
    );
  }
  commands.push(['SELECT', String(db)], ['FLUSHDB'], ['QUIT']);
  const payload = commands
    .map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('');
  const replies = await new Promise<string>((resolve, reject) => {
    let received = '';
    const socket = net.connect(
      Number(parsed.port || 6379),
      parsed.hostname.replace(/^\[|\]$/g, ''),
      () => socket.write(payload),
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('Redis did not answer in time')));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
  const lines = replies.split('\r\n').filter(Boolean);
  if (lines.length < commands.length || lines.some((line) => line.startsWith('-'))) {
    throw new Error(`FLUSHDB on Redis database ${db} failed: ${lines.join(' | ')}`);
  }
}

function redisUrlWithDb(url: string, db: number | undefined): string {
  if (db === undefined) return url;
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

export async function startParkServices(options: ParkServicesOptions): Promise<ParkServices> {
  const infra = options.infrastructure ?? testInfrastructure();
  const wanted = SERVICES.filter((service) => (options.services ?? SERVICES).includes(service));
  if (wanted.includes('reporting') && !wanted.includes('carbon')) {
    throw new Error('reporting needs carbon: start both');
  }
  const redisUrl = redisUrlWithDb(infra.redisUrl, options.redisDb);
  const running = new Map<Service, RunningService>();
  const unexpectedExits: string[] = [];
  let databases: Partial<Record<Service, TestDatabase>> = {};
  /** The ports of killed services: a restart takes them again, so clients need no new address. */
  const formerPorts = new Map<Service, { grpcPort: number; httpPort: number }>();

  const serviceEnv = (service: Service): Record<string, string> => {
    const carbon = running.get('carbon');
    return {
      SERVICE_NAME: service,
      DATABASE_URL: databases[service]!.url,
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      REDIS_URL: redisUrl,
      JWT_SECRET: options.jwtSecret,
      JWT_ISSUER: 'park-dev',
      JWT_AUDIENCE: 'park',
      GRPC_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      GRPC_PORT: String(formerPorts.get(service)?.grpcPort ?? 0),
      HTTP_PORT: String(formerPorts.get(service)?.httpPort ?? 0),
      LOG_LEVEL: options.logLevel ?? 'error',
      SHUTDOWN_TIMEOUT_MS: '20000',
      REPORTING_CARBON_GRPC_ADDRESS: carbon ? `127.0.0.1:${carbon.grpcPort}` : '',
      METERING_TOPIC_PREFIX: options.prefix,
      CARBON_TOPIC_PREFIX: options.prefix,
      DISPATCH_TOPIC_PREFIX: options.prefix,
      REPORTING_TOPIC_PREFIX: options.prefix,
      ...options.env?.[service],
    };
  };

  /**
   * Starts a service; once more when it exits before serving (a topic created a moment earlier
   * by another service can still be unknown to the broker's metadata: "does not host this
   * topic-partition").
   */
  const startService = async (service: Service): Promise<void> => {
    try {
      await startOnce(service);
    } catch (error) {
      if (!/exited/.test(String(error))) throw error;
      await startOnce(service);
    }
  };

  const startOnce = async (service: Service): Promise<void> => {
    const child = spawnTsChild(
      path.join(repoRoot, 'services', service, 'src', 'main.ts'),
      serviceEnv(service),
    );
    const serving = await nextMessage<{ type: string; grpcPort: number; httpPort: number }>(
      child,
      90_000,
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    if (serving.type !== 'serving') {
      child.kill('SIGKILL');
      throw new Error(`${service} sent ${JSON.stringify(serving)} instead of 'serving'`);
    }
    running.set(service, { child, grpcPort: serving.grpcPort, httpPort: serving.httpPort });
    child.once('exit', (code, signal) => {
      if (running.get(service)?.child === child) {
        unexpectedExits.push(`${service} exited (${signal ?? `code ${code}`})`);
      }
    });
  };

  // A caller that exits without cleanup (a benchmark stopped at its time limit, an uncaught
  // error) must not leave the services running: the IPC channel's end does not stop them.
  const killOnExit = () => {
    for (const { child } of running.values()) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const cleanup = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    const children = [...running.values()].map(({ child }) => child);
    running.clear();
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => exitOf(child)));
    await Promise.all(Object.values(databases).map((db) => db?.drop().catch(() => undefined)));
    databases = {};
    const admin = new Kafka({
      clientId: 'park-services-cleanup',
      brokers: infra.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(options.prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      const { groups } = await admin.listGroups();
      // parkctl's dlq groups name the topic after their own prefix (park.dlq-replay.<topic>).
      const ours = groups.map((g) => g.groupId).filter((id) => id.includes(options.prefix));
      if (ours.length > 0) await admin.deleteGroups(ours).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
    if (options.redisDb !== undefined) await flushRedisDb(infra.redisUrl, options.redisDb);
  };

  try {
    if (options.redisDb !== undefined) await flushRedisDb(infra.redisUrl, options.redisDb);
    const created = await Promise.all(
      wanted.map((service) =>
        createTestDatabase(`${options.label}_${service}`, {
          poolSize: 1,
          serverUrl: infra.postgresUrl,
        }),
      ),
    );
    databases = Object.fromEntries(wanted.map((s, i) => [s, created[i]!]));
    // Reporting last: it is told carbon's (ephemeral) gRPC port.
    const others = (['metering', 'dispatch'] as const)
      .filter((service) => wanted.includes(service))
      .map(startService);
    if (wanted.includes('carbon')) await startService('carbon');
    await Promise.all([
      ...others,
      ...(wanted.includes('reporting') ? [startService('reporting')] : []),
    ]);
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }

  const port = (service: Service) => {
    const entry = running.get(service);
    if (!entry) throw new Error(`${service} is not running`);
    return entry;
  };
  return {
    grpc: (service) => `127.0.0.1:${port(service).grpcPort}`,
    http: (service) => `http://127.0.0.1:${port(service).httpPort}`,
    databaseUrl: (service) => {
      const database = databases[service];
      if (!database) throw new Error(`${service} has no database`);
      return database.url;
    },
    redisUrl,
    kafkaBrokers: infra.kafkaBrokers,
    pid: (service) => {
      const pid = port(service).child.pid;
      if (pid === undefined) throw new Error(`${service} has no process id`);
      return pid;
    },
    async kill(service, signal = 'SIGKILL') {
      const { child, grpcPort, httpPort } = port(service);
      formerPorts.set(service, { grpcPort, httpPort });
      running.delete(service);
      child.kill(signal);
      await exitOf(child);
    },
    async restart(service) {
      if (running.has(service)) throw new Error(`${service} is running`);
      await startService(service);
    },
    unexpectedExits,
    cleanup,
  };
}
