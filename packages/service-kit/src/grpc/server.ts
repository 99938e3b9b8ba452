import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { descriptorSetPath } from '@park/contracts';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth';
import type { ServiceConfig } from '../config';
import type { Readiness } from '../readiness';
import { CallRuntime } from './calls';
import { DIAGNOSTICS_SERVICE, diagnosticsService } from './diagnostics';
import { builtinFiles } from './grpc-protos';
import { HEALTH_SERVICE, HealthService } from './health';
import { DescriptorIndex, ReflectionService } from './reflection';
import type { GrpcService } from './service';

export const REFLECTION_SERVICES = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
] as const;

export type GrpcServerConfig = Pick<
  ServiceConfig,
  'SERVICE_NAME' | 'SERVICE_VERSION' | 'GRPC_HOST' | 'GRPC_PORT' | 'SHUTDOWN_TIMEOUT_MS'
>;

export interface GrpcServerOptions {
  config: GrpcServerConfig;
  verifier: TokenVerifier;
  /** Drives grpc.health.v1: SERVING while ready. */
  readiness: Readiness;
  logger: Logger;
  /**
   * The application services. park.diagnostics.v1.DiagnosticsService is added unless one of
   * these is that service (an implementation of its own replaces the default).
   */
  services?: GrpcService[];
  /** FileDescriptorSets served by reflection; the contracts' set (every proto/) by default. */
  descriptorSets?: Uint8Array[];
  /** grpc-js server options (message size limits, keepalive...). */
  serverOptions?: grpc.ServerOptions;
}

export interface ShutdownReport {
  /** Application calls in flight when the shutdown began. */
  inFlight: number;
  /** Of those, the calls that had not finished at the deadline and were cut off. */
  abandoned: number;
  /** Whether the deadline passed and the server was forced down. */
  forced: boolean;
  durationMs: number;
}

/**
 * A gRPC server for one park service: the application services behind token authentication and
 * error mapping, plus grpc.health.v1 following readiness and server reflection from the real
 * descriptors, and a graceful shutdown that reports what it waited for.
 */
export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly runtime: CallRuntime;
  private readonly health: HealthService;
  private readonly reflection: ReflectionService;
  private readonly logger: Logger;
  private readonly services: GrpcService[];
  private boundPort: number | undefined;
  private shutdownPromise: Promise<ShutdownReport> | undefined;

  constructor(private readonly options: GrpcServerOptions) {
    this.logger = options.logger.child({ component: 'grpc' });
    const { config } = options;
    const services = [...(options.services ?? [])];
    if (!services.some((service) => service.name === DIAGNOSTICS_SERVICE)) {
      services.push(
        diagnosticsService({ name: config.SERVICE_NAME, version: config.SERVICE_VERSION }),
      );
    }
    const names = services.map((service) => service.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) throw new Error(`gRPC service ${duplicate} is registered twice`);
    this.services = services;

    this.server = new grpc.Server(options.serverOptions);
    this.runtime = new CallRuntime(options.verifier, this.logger);
    for (const service of services) {
      this.server.addService(service.definition, this.runtime.implement(service));
    }

    this.health = new HealthService(options.readiness, names);
    this.health.addTo(this.server);

    const index = new DescriptorIndex(
      options.descriptorSets ?? [fs.readFileSync(descriptorSetPath)],
      builtinFiles,
    );
    const undescribed = names.filter((name) => !index.hasService(name));
    if (undescribed.length > 0) {
      // Listing a service whose schema reflection cannot serve breaks every reflection client
      // that resolves all listed services (buf curl --list-methods, grpcui).
      this.logger.warn(
        { services: undescribed },
        'no descriptors for these gRPC services: reflection does not list them',
      );
    }
    const listed = [
      ...names.filter((name) => index.hasService(name)),
      HEALTH_SERVICE,
      ...REFLECTION_SERVICES,
    ].sort();
    this.reflection = new ReflectionService(index, () => listed);
    this.reflection.addTo(this.server);
  }

  /** The application services served (diagnostics included), by fully-qualified name. */
  get serviceNames(): string[] {
    return this.services.map((service) => service.name);
  }

  /** The bound port (the real one when the configuration asked for port 0). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('the gRPC server is not started');
    return this.boundPort;
  }

  get inFlight(): number {
    return this.runtime.inFlightCount;
  }

  /** Binds GRPC_HOST:GRPC_PORT (plaintext: TLS ends at the mesh or ingress) and serves. */
  async start(): Promise<number> {
    const { GRPC_HOST: host, GRPC_PORT: port } = this.options.config;
    const address =
      host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    this.logger.info(
      { address: `${host}:${this.boundPort}`, services: this.serviceNames },
      'gRPC server listening',
    );
    return this.boundPort;
  }

  /**
   * Stops taking calls (new ones get UNAVAILABLE, health turns NOT_SERVING), lets the calls in
   * flight finish until the deadline, then forces the rest down. Safe to call more than once.
   */
  shutdown(options: { timeoutMs?: number } = {}): Promise<ShutdownReport> {
    this.shutdownPromise ??= this.drain(
      options.timeoutMs ?? this.options.config.SHUTDOWN_TIMEOUT_MS,
    );
    return this.shutdownPromise;
  }

  /** Shuts down gracefully on SIGTERM/SIGINT, then calls done (for example process.exit). */
  shutdownOnSignals(
    done: (report: ShutdownReport | undefined, error?: unknown) => void,
    signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
  ): void {
    const handler = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, handler);
      this.logger.info({ signal }, 'shutting down the gRPC server');
      this.shutdown().then(
        (report) => done(report),
        (error: unknown) => done(undefined, error),
      );
    };
    for (const signal of signals) process.on(signal, handler);
  }

  private async drain(timeoutMs: number): Promise<ShutdownReport> {
    const started = performance.now();
    // Synchronously, before any await: a call arriving from here on must be refused.
    this.runtime.startDraining();
    this.health.stop();
    this.reflection.endAll();
    const inFlight = this.runtime.inFlightCount;
    this.logger.info({ in_flight: inFlight, timeout_ms: timeoutMs }, 'gRPC server draining');

    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<'closed'>((resolve) =>
      // tryShutdown closes the listeners and sends GOAWAY: clients open no new streams here.
      this.server.tryShutdown(() => resolve('closed')),
    );
    const outcome = await Promise.race([
      closed,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));

    let abandoned = 0;
    if (outcome === 'timeout') {
      abandoned = this.runtime.inFlightCount;
      this.server.forceShutdown();
      this.runtime.abortAll();
    }
    const report: ShutdownReport = {
      inFlight,
      abandoned,
      forced: outcome === 'timeout',
      durationMs: Math.round(performance.now() - started),
    };
    if (report.forced) {
      this.logger.warn({ ...report }, `gRPC server forced down after ${timeoutMs} ms`);
    } else {
      this.logger.info({ ...report }, 'gRPC server stopped after its calls finished');
    }
    return report;
  }
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  return new GrpcServer(options);
}
