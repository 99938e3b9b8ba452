import type { ChildProcess } from 'node:child_process';
import { exitOf, spawnTsChild } from '@park/testing';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { park } from '@park/contracts';
import {
  signDevelopmentToken,
  TokenVerifier,
  type AuthSettings,
  type TokenRequest,
} from '../../auth';
import { createLogger, type Logger } from '../../logger';
import { Readiness } from '../../readiness';
import {
  createGrpcServer,
  type GrpcServer,
  type GrpcServerConfig,
  type GrpcServerOptions,
} from '../server';

export const AUTH: AuthSettings = {
  issuer: 'park-test',
  audience: 'park',
  secret: 'grpc-test-secret-of-at-least-32-characters',
};

export const CONFIG: GrpcServerConfig = {
  SERVICE_NAME: 'kit-test',
  SERVICE_VERSION: '9.8.7',
  GRPC_HOST: '127.0.0.1',
  GRPC_PORT: 0,
  SHUTDOWN_TIMEOUT_MS: 10_000,
};

export function token(request: TokenRequest, settings: AuthSettings = AUTH): Promise<string> {
  return signDevelopmentToken(settings, request);
}

export function bearer(jwt: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${jwt}`);
  return metadata;
}

/** A logger whose JSON lines the test can read back. */
export function captureLogs(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const captured: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      captured.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger({ service: 'kit-test', level: 'debug', destination });
  return {
    logger,
    lines: () => captured.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export interface TestServer {
  server: GrpcServer;
  port: number;
  address: string;
  stop(): Promise<void>;
}

/** A kit server on 127.0.0.1 and a free port; ready (no dependencies) unless told otherwise. */
export async function startServer(options: Partial<GrpcServerOptions> = {}): Promise<TestServer> {
  let readiness = options.readiness;
  if (!readiness) {
    readiness = new Readiness([]);
    await readiness.start();
  }
  const server = createGrpcServer({
    config: CONFIG,
    verifier: new TokenVerifier(AUTH),
    logger: captureLogs().logger,
    ...options,
    readiness,
  });
  const port = await server.start();
  return {
    server,
    port,
    address: `127.0.0.1:${port}`,
    async stop() {
      await server.shutdown({ timeoutMs: 2_000 });
      readiness.stop();
    },
  };
}

export function diagnosticsClient(address: string): park.diagnostics.v1.DiagnosticsServiceClient {
  return new park.diagnostics.v1.DiagnosticsServiceClient(
    address,
    grpc.credentials.createInsecure(),
  );
}

/** A unary call as a promise: `await unary<PingResponse>((done) => client.ping({}, md, done))`. */
export function unary<Response>(
  invoke: (done: (error: grpc.ServiceError | null, response: Response) => void) => unknown,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** The ServiceError a call failed with; fails the test if it succeeded. */
export async function failure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** Runs a TypeScript file of src/grpc as a child process with an IPC channel. */
export function spawnChild(file: string, env: Record<string, string> = {}): ChildProcess {
  return spawnTsChild(path.join(__dirname, '..', file), env);
}

export { exitOf };
