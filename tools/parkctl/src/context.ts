// Where parkctl talks to and as whom: addresses, TLS, token, Kafka brokers and the output format,
// from the global options, else the environment, else the local defaults of the README.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import { createKafka, kafkaSettingsFromEnv, type LogLevel } from '@park/messaging';
import { signDevelopmentToken } from '@park/service-kit';
import { CliError, describeServiceError, isServiceError, UsageError } from './errors';
import { isOutputFormat, OUTPUT_FORMATS, render, type OutputFormat, type View } from './output';
import { ProgressBar, type ProgressOptions, type ProgressSink } from './progress';
import { parseTimeZone } from './time';

/** Where a command writes and what it reads from its surroundings; tests pass their own. */
export interface Io {
  stdout: { write(text: string): void };
  /** Errors, progress bars and hints. */
  stderr: ProgressSink;
  env: NodeJS.ProcessEnv;
  /** Relative file names are resolved against it. */
  cwd: string;
}

export const SERVICES = ['metering', 'carbon', 'dispatch', 'reporting'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The ports `npm start` gives the services (tools/infra/src/start.ts). */
export const DEFAULT_ADDRESSES: Record<ServiceName, string> = {
  metering: '127.0.0.1:50051',
  carbon: '127.0.0.1:50052',
  dispatch: '127.0.0.1:50053',
  reporting: '127.0.0.1:50054',
};
export const ADDRESS_ENV: Record<ServiceName, string> = {
  metering: 'PARK_METERING_ADDR',
  carbon: 'PARK_CARBON_ADDR',
  dispatch: 'PARK_DISPATCH_ADDR',
  reporting: 'PARK_REPORTING_ADDR',
};
export const DEFAULT_METERING_HTTP = 'http://127.0.0.1:8081';
export const DEFAULT_KAFKA = '127.0.0.1:9092';
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
export const DEFAULT_TIMEOUT_S = 30;
/** Development tokens parkctl signs itself live this long. */
const SIGNED_TOKEN_TTL_S = 600;

/** The global options as commander hands them over (all optional strings). */
export interface GlobalOptions {
  output?: string;
  metering?: string;
  carbon?: string;
  dispatch?: string;
  reporting?: string;
  http?: string;
  tls?: boolean;
  token?: string;
  kafka?: string;
  timeout?: string;
  tz?: string;
}

export interface Settings {
  output: OutputFormat;
  addresses: Record<ServiceName, string>;
  httpUrl: string;
  tls: boolean;
  /** Given with --token or PARK_TOKEN; otherwise one is signed with JWT_SECRET. */
  token?: string;
  kafkaBrokers: string[];
  timeoutMs: number;
  timeZone: string;
}

/** Options first, then the environment, then the defaults; wrong values are usage errors. */
export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv): Settings {
  const output = options.output ?? env.PARK_OUTPUT ?? 'table';
  if (!isOutputFormat(output)) {
    throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')} (not "${output}")`);
  }
  let tls = options.tls ?? truthy(env.PARK_TLS);
  const addresses = {} as Record<ServiceName, string>;
  for (const service of SERVICES) {
    const given = options[service] ?? env[ADDRESS_ENV[service]] ?? DEFAULT_ADDRESSES[service];
    const parsed = parseAddress(given, `--${service}`);
    addresses[service] = parsed.address;
    if (parsed.tls) tls = true;
  }
  const httpUrl = parseHttpUrl(options.http ?? env.PARK_METERING_HTTP ?? DEFAULT_METERING_HTTP);
  const timeoutText = options.timeout ?? env.PARK_TIMEOUT_S ?? String(DEFAULT_TIMEOUT_S);
  const timeout = Number(timeoutText);
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds (not "${timeoutText}")`);
  }
  const token = (options.token ?? env.PARK_TOKEN)?.trim().replace(/^Bearer\s+/i, '');
  return {
    output,
    addresses,
    httpUrl,
    tls,
    token: token || undefined,
    kafkaBrokers: (options.kafka ?? env.KAFKA_BROKERS ?? DEFAULT_KAFKA)
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
    timeoutMs: Math.round(timeout * 1000),
    timeZone: parseTimeZone(options.tz ?? env.PARK_TIME_ZONE ?? DEFAULT_TIME_ZONE),
  };
}

function truthy(text: string | undefined): boolean {
  return text !== undefined && /^(1|true|yes|on)$/i.test(text.trim());
}

/** host:port; an http:// or https:// prefix is dropped (https:// turns TLS on). */
export function parseAddress(text: string, option: string): { address: string; tls: boolean } {
  const match = /^(?:(https?):\/\/)?([^/\s]+?)\/?$/.exec(text.trim());
  const address = match?.[2];
  if (!match || !address || !/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(address)) {
    throw new UsageError(`${option} must be host:port, e.g. 127.0.0.1:50051 (not "${text}")`);
  }
  return { address, tls: match[1] === 'https' };
}

export function parseHttpUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--http must be a URL such as http://127.0.0.1:8080 (not "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--http must be an http:// or https:// URL (not "${text}")`);
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * The secret `npm start` signs development tokens with when JWT_SECRET is not set, kept in
 * `.work/dev-jwt-secret` (PARK_WORK_DIR); undefined when there is none.
 */
export function developmentSecret(env: NodeJS.ProcessEnv): string | undefined {
  const workDir = env.PARK_WORK_DIR ?? path.resolve(__dirname, '..', '..', '..', '.work');
  try {
    return fs.readFileSync(path.join(workDir, 'dev-jwt-secret'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

type Clients = {
  metering: park.metering.v1.MeteringServiceClient;
  carbon: park.carbon.v1.CarbonServiceClient;
  dispatch: park.dispatch.v1.DispatchServiceClient;
  reporting: park.reporting.v1.ReportingServiceClient;
};

const CLIENT_CLASSES = {
  metering: park.metering.v1.MeteringServiceClient,
  carbon: park.carbon.v1.CarbonServiceClient,
  dispatch: park.dispatch.v1.DispatchServiceClient,
  reporting: park.reporting.v1.ReportingServiceClient,
};

type UnaryDone<Response> = (error: grpc.ServiceError | null, response: Response) => void;

/** One command's connections: clients are made on first use and closed by close(). */
export class Context {
  private readonly clients: Partial<Clients> = {};
  private bearer: Promise<string> | undefined;

  constructor(
    readonly settings: Settings,
    readonly io: Io,
  ) {}

  client<S extends ServiceName>(service: S): Clients[S] {
    let client = this.clients[service] as Clients[S] | undefined;
    if (!client) {
      const credentials = this.settings.tls
        ? grpc.credentials.createSsl()
        : grpc.credentials.createInsecure();
      client = new CLIENT_CLASSES[service](this.settings.addresses[service], credentials, {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      }) as Clients[S];
      this.clients[service] = client;
    }
    return client;
  }

  /** The bearer token: given, or a short-lived development operator token signed here. */
  token(): Promise<string> {
    this.bearer ??= this.resolveToken();
    return this.bearer;
  }

  private async resolveToken(): Promise<string> {
    if (this.settings.token) return this.settings.token;
    const secret = this.io.env.JWT_SECRET ?? developmentSecret(this.io.env);
    if (secret && secret.length >= 32 && this.io.env.NODE_ENV !== 'production') {
      return signDevelopmentToken(
        {
          secret,
          issuer: this.io.env.JWT_ISSUER ?? 'park-dev',
          audience: this.io.env.JWT_AUDIENCE ?? 'park',
        },
        { role: 'operator', subject: 'parkctl', ttlSeconds: SIGNED_TOKEN_TTL_S },
      );
    }
    throw new CliError(
      'no token: pass --token <jwt> or set PARK_TOKEN' +
        (secret && secret.length < 32 ? ' (JWT_SECRET is shorter than 32 characters)' : '') +
        ' (development: set JWT_SECRET, or run `npm start` once, and parkctl signs an operator token)',
    );
  }

  async metadata(): Promise<grpc.Metadata> {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await this.token()}`);
    return metadata;
  }

  callOptions(): Partial<grpc.CallOptions> {
    return { deadline: new Date(Date.now() + this.settings.timeoutMs) };
  }

  /**
   * A unary call with the token and the deadline; a failure becomes a CliError with the status,
   * the server's message and its field violations.
   */
  async unary<S extends ServiceName, Response>(
    service: S,
    invoke: (
      client: Clients[S],
      metadata: grpc.Metadata,
      options: Partial<grpc.CallOptions>,
      done: UnaryDone<Response>,
    ) => unknown,
  ): Promise<Response> {
    const client = this.client(service);
    const metadata = await this.metadata();
    try {
      return await new Promise<Response>((resolve, reject) => {
        invoke(client, metadata, this.callOptions(), (error, response) =>
          error ? reject(error) : resolve(response),
        );
      });
    } catch (error) {
      if (isServiceError(error)) {
        throw new CliError(describeServiceError(error, this.settings.addresses[service]));
      }
      throw error;
    }
  }

  kafka() {
    const settings = kafkaSettingsFromEnv('parkctl', this.io.env);
    return createKafka({
      ...settings,
      brokers: this.settings.kafkaBrokers,
      logLevel: (this.io.env.KAFKA_LOG_LEVEL as LogLevel | undefined) ?? 'nothing',
    });
  }

  print(view: View): void {
    this.io.stdout.write(render(view, this.settings.output));
  }

  progress(options: ProgressOptions): ProgressBar {
    return new ProgressBar(this.io.stderr, options);
  }

  close(): void {
    for (const client of Object.values(this.clients)) client?.close();
  }
}
