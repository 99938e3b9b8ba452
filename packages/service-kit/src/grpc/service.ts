import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Principal } from '../auth';

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** The caller, from its verified bearer token. */
  readonly principal: Principal;
  /** The full method path, e.g. "/park.diagnostics.v1.DiagnosticsService/Ping". */
  readonly method: string;
  /** The request metadata (headers), authorization included. */
  readonly metadata: grpc.Metadata;
  readonly peer: string;
  readonly deadline: grpc.Deadline;
  /**
   * Aborted when the call ends early: the client cancelled, the deadline passed or the server
   * was forced down. Pass it to long work (queries, waits) so it stops when nobody listens.
   */
  readonly signal: AbortSignal;
  /**
   * Aborted when the server starts shutting down. A long-lived stream (a subscription) should
   * end then, so its client reconnects to another replica instead of being cut at the deadline.
   */
  readonly draining: AbortSignal;
  /** The server's logger with the method and the caller's subject bound. */
  readonly logger: Logger;
}

type RequestOf<M> = M extends { requestDeserialize: (bytes: Buffer) => infer Request }
  ? Request
  : never;
type ResponseOf<M> = M extends { responseSerialize: (value: infer Response) => Buffer }
  ? Response
  : never;

export type UnaryHandler<Request, Response> = (
  request: Request,
  context: CallContext,
) => Promise<Response> | Response;
export type ClientStreamingHandler<Request, Response> = (
  requests: AsyncIterable<Request>,
  context: CallContext,
) => Promise<Response> | Response;
/** Yields the responses; the kit writes them with backpressure and ends the call. */
export type ServerStreamingHandler<Request, Response> = (
  request: Request,
  context: CallContext,
) => AsyncIterable<Response>;
export type BidiStreamingHandler<Request, Response> = (
  requests: AsyncIterable<Request>,
  context: CallContext,
) => AsyncIterable<Response>;

/** The handler shape a method definition calls for, from its streaming flags. */
export type MethodHandler<M> = M extends { requestStream: true; responseStream: true }
  ? BidiStreamingHandler<RequestOf<M>, ResponseOf<M>>
  : M extends { requestStream: true }
    ? ClientStreamingHandler<RequestOf<M>, ResponseOf<M>>
    : M extends { responseStream: true }
      ? ServerStreamingHandler<RequestOf<M>, ResponseOf<M>>
      : UnaryHandler<RequestOf<M>, ResponseOf<M>>;

/** One handler per method of a (ts-proto, outputServices=grpc-js) service definition. */
export type ServiceHandlers<Definition extends grpc.ServiceDefinition> = {
  [Method in keyof Definition]: MethodHandler<Definition[Method]>;
};

export type AnyHandler = (input: never, context: CallContext) => unknown;

/** A service implementation ready to be registered on a GrpcServer. */
export interface GrpcService {
  /** The fully-qualified service name, e.g. "park.diagnostics.v1.DiagnosticsService". */
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
  readonly handlers: Readonly<Record<string, AnyHandler>>;
}

/**
 * Binds handlers to a generated service definition. The handlers receive the decoded request
 * and a CallContext holding the authenticated principal; they return (or yield) responses and
 * throw ApiErrors, which the server turns into statuses.
 */
export function defineService<Definition extends grpc.ServiceDefinition>(
  definition: Definition,
  handlers: ServiceHandlers<Definition>,
): GrpcService {
  const methods = Object.values(definition);
  const names = new Set(methods.map((method) => serviceNameOf(method.path)));
  if (names.size !== 1) {
    throw new Error(`a service definition must hold the methods of one service, not ${names.size}`);
  }
  return {
    name: [...names][0]!,
    definition,
    handlers: handlers as unknown as Record<string, AnyHandler>,
  };
}

/** "/park.diagnostics.v1.DiagnosticsService/Ping" -> "park.diagnostics.v1.DiagnosticsService". */
export function serviceNameOf(path: string): string {
  const match = /^\/([^/]+)\/[^/]+$/.exec(path);
  if (!match) throw new Error(`not a gRPC method path: ${path}`);
  return match[1]!;
}
