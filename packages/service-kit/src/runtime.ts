import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPool, EventStore, migrate, type Upcaster } from '@park/eventstore';
import {
  ConsumerRunner,
  createKafka,
  kafkaSettingsFromEnv,
  MessageProducer,
  messagingMigrationsDir,
  PermanentMessageError,
  type ConsumerRunnerOptions,
  type OutboxRelay,
} from '@park/messaging';
import type express from 'express';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { TokenVerifier } from './auth';
import { ValidationError } from './errors';
import type { ServiceConfig } from './config';
import { createGrpcServer, type GrpcServer, type GrpcService } from './grpc';
import { createHttpApp } from './http/app';
import { createLogger, type Logger } from './logger';
import { dependencyChecks, Readiness } from './readiness';
import { GracefulShutdown } from './shutdown';
import { createMetrics, type ServiceMetrics, type Telemetry } from './telemetry';

export interface ServiceRuntimeOptions {
  /** The service's migration folders, applied after the event store's and the inbox's. */
  migrations?: string[];
  upcasters?: Upcaster[];
  /** Started by the service's main before anything else is required (see startTelemetry). */
  telemetry?: Telemetry;
  logger?: Logger;
}

export interface ServeOptions {
  grpcServices?: GrpcService[];
  httpRoutes?: (router: express.Router) => void;
  /** Routes served without a token (see HttpAppOptions.publicRoutes). */
  publicRoutes?: (router: express.Router) => void;
  /** Largest JSON body of the service's own HTTP routes. */
  jsonLimit?: string;
}

/**
 * Everything a park service stands on, built once from its configuration: PostgreSQL (event
 * store, migrated at start), Kafka (producer, relays, consumers), Redis, readiness, metrics,
 * auth, the gRPC and HTTP servers, and the order in which they stop.
 */
export class ServiceRuntime {
  readonly logger: Logger;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly kafka: Kafka;
  readonly producer: MessageProducer;
  readonly redis: Redis;
  readonly readiness: Readiness;
  readonly metrics: ServiceMetrics;
  readonly verifier: TokenVerifier;
  private readonly relays: OutboxRelay[] = [];
  private readonly consumers: ConsumerRunner[] = [];
  private readonly stoppers: (() => Promise<unknown>)[] = [];
  private readonly streamClosers: (() => void)[] = [];
  private readonly stopReporting: (() => void)[] = [];
  private grpc: GrpcServer | undefined;
  private http: HttpServer | undefined;
  private steps: GracefulShutdown | undefined;

  constructor(
    readonly config: ServiceConfig,
    private readonly options: ServiceRuntimeOptions = {},
  ) {
    this.logger =
      options.logger ?? createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
    this.pool = createPool({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_SIZE,
      applicationName: config.SERVICE_NAME,
    });
    this.store = new EventStore(this.pool, { upcasters: options.upcasters ?? [] });
    this.kafka = createKafka({
      ...kafkaSettingsFromEnv(config.SERVICE_NAME),
      brokers: config.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    });
    this.producer = new MessageProducer(this.kafka);
    this.redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.redis.on('error', (error) => this.logger.warn({ err: error }, 'Redis connection error'));
    this.readiness = new Readiness([
      dependencyChecks.postgres(this.pool),
      dependencyChecks.kafka(this.kafka),
      dependencyChecks.redis(this.redis),
    ]);
    this.metrics = createMetrics({ serviceName: config.SERVICE_NAME });
    this.verifier = new TokenVerifier({
      secret: config.JWT_SECRET,
      jwksUrl: config.JWT_JWKS_URL,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    });
  }

  /** Brings the schema up to date and connects; call before anything reads or writes. */
  async prepare(): Promise<void> {
    const applied = await migrate({
      databaseUrl: this.config.DATABASE_URL,
      dirs: [messagingMigrationsDir, ...(this.options.migrations ?? [])],
    });
    if (applied.length > 0) this.logger.info({ migrations: applied }, 'migrations applied');
    await this.redis.connect();
    await this.producer.connect();
  }

  addRelay(relay: OutboxRelay): OutboxRelay {
    this.relays.push(relay);
    this.stopReporting.push(this.metrics.observeRelay(relay));
    return relay;
  }

  /** A consumer runner on this service's database, reported in the metrics. */
  addConsumer(options: Omit<ConsumerRunnerOptions, 'pool'>): ConsumerRunner {
    const runner = new ConsumerRunner(this.kafka, this.producer, {
      ...options,
      pool: this.pool,
      onError: (error, message, attempt) =>
        this.logger.warn(
          { err: error, topic: message.topic, offset: message.offset, attempt },
          'message failed',
        ),
      onDeadLetter: (message, error) =>
        this.logger.error(
          { err: error, topic: message.topic, offset: message.offset },
          'message dead-lettered',
        ),
    });
    this.consumers.push(runner);
    this.stopReporting.push(this.metrics.observeConsumer(runner, { kafka: this.kafka }));
    return runner;
  }

  /**
   * Work of the service's own that consumes Kafka beside the runners of addConsumer (reporting's
   * projections): stopped with the consumers, so it leaves its groups before connections close.
   */
  addStopper(stop: () => Promise<unknown>): void {
    this.stoppers.push(stop);
  }

  /**
   * Long-lived HTTP responses (server-sent events) end as shutdown begins: the HTTP server's close
   * waits for every open response, and a stream never ends by itself.
   */
  closeOnShutdown(close: () => void): void {
    this.streamClosers.push(close);
  }

  /** Starts probing, serving gRPC and HTTP, relaying and consuming; returns the bound ports. */
  async serve(options: ServeOptions = {}): Promise<{ grpcPort: number; httpPort: number }> {
    await this.readiness.start();
    this.grpc = createGrpcServer({
      config: this.config,
      verifier: this.verifier,
      readiness: this.readiness,
      logger: this.logger,
      services: options.grpcServices ?? [],
    });
    const grpcPort = await this.grpc.start();
    const app = createHttpApp({
      readiness: this.readiness,
      verifier: this.verifier,
      logger: this.logger,
      metrics: this.metrics,
      routes: options.httpRoutes,
      publicRoutes: options.publicRoutes,
      jsonLimit: options.jsonLimit,
    });
    const http = await new Promise<HttpServer>((resolve, reject) => {
      const server = app.listen(this.config.HTTP_PORT, this.config.HTTP_HOST, () =>
        resolve(server),
      );
      server.once('error', reject);
    });
    this.http = http;
    const httpPort = (http.address() as AddressInfo).port;
    for (const relay of this.relays) relay.start();
    for (const consumer of this.consumers) await consumer.start();
    this.logger.info({ grpcPort, httpPort }, `${this.config.SERVICE_NAME} serving`);
    return { grpcPort, httpPort };
  }

  /**
   * Stops in order: readiness off; servers stop taking calls and finish those in flight;
   * consumers finish their message and commit; relays finish their batch; connections close;
   * spans flush. Resolves true when all of it finished cleanly within SHUTDOWN_TIMEOUT_MS.
   */
  shutdown(reason = 'requested'): Promise<boolean> {
    return this.shutdownSteps().run(reason);
  }

  /** On SIGTERM or SIGINT: shut down, then exit 0 when clean, 1 otherwise. */
  exitOnSignals(): void {
    this.shutdownSteps().exitOnSignals();
  }

  private shutdownSteps(): GracefulShutdown {
    this.steps ??= new GracefulShutdown(this.logger, this.config.SHUTDOWN_TIMEOUT_MS)
      .add('readiness', async () => {
        this.readiness.markShuttingDown();
        for (const close of this.streamClosers) close();
      })
      .add('servers', () =>
        Promise.all([
          this.grpc?.shutdown(),
          this.http && new Promise<void>((resolve) => this.http!.close(() => resolve())),
        ]),
      )
      .add('consumers', () =>
        Promise.all([
          ...this.consumers.map((consumer) => consumer.stop()),
          ...this.stoppers.map((stop) => stop()),
        ]),
      )
      .add('relays', () => Promise.all(this.relays.map((relay) => relay.stop())))
      .add('connections', async () => {
        for (const stop of this.stopReporting) stop();
        await this.readiness.close();
        await this.metrics.close();
        await this.producer.disconnect();
        await this.pool.end();
        this.redis.disconnect();
      })
      .add('telemetry', async () => this.options.telemetry?.shutdown());
    return this.steps;
  }
}

/**
 * Bad input in a record never gets better by retrying: a handler wrapped in this turns a
 * ValidationError into a PermanentMessageError, which the consumer dead-letters at once.
 */
export function deadLetterBadInput<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if (error instanceof ValidationError) throw new PermanentMessageError(error.message);
    throw error;
  });
}
