import { once, type EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth';
import type {
  AnyHandler,
  BidiStreamingHandler,
  CallContext,
  ClientStreamingHandler,
  GrpcService,
  ServerStreamingHandler,
  UnaryHandler,
} from './service';
import { activeSpan, mapError, traceIdOf } from './status';

type SurfaceCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;
type AnyMethod = grpc.MethodDefinition<unknown, unknown>;

/**
 * Runs every application call: refuses it while the server drains, authenticates it, hands the
 * handler a CallContext, maps what it throws to a status and counts it while in flight, so a
 * graceful shutdown knows what it waits for.
 */
export class CallRuntime {
  private readonly inFlight = new Set<AbortController>();
  private readonly drainController = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly logger: Logger,
  ) {}

  get draining(): boolean {
    return this.drainController.signal.aborted;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** From now on new calls get UNAVAILABLE; calls in flight go on. */
  startDraining(): void {
    this.drainController.abort(new Error('server is shutting down'));
  }

  /** Aborts the signal of every call still in flight (the server is being forced down). */
  abortAll(): void {
    for (const controller of this.inFlight) controller.abort(new Error('server was forced down'));
  }

  whenIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  implement(service: GrpcService): grpc.UntypedServiceImplementation {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [key, method] of Object.entries(service.definition)) {
      const handler = service.handlers[key];
      if (typeof handler !== 'function') {
        throw new Error(`${service.name}: no handler for ${method.path}`);
      }
      implementation[key] = this.wrap(method as AnyMethod, handler);
    }
    return implementation;
  }

  private wrap(method: AnyMethod, handler: AnyHandler): grpc.UntypedHandleCall {
    const path = method.path;
    if (method.requestStream && method.responseStream) {
      const bidi = handler as unknown as BidiStreamingHandler<unknown, unknown>;
      return (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        void this.run(
          call,
          path,
          (context) => writeAll(call, bidi(requestsOf(call), context), context.signal),
          (status) => call.emit('error', status),
        );
    }
    if (method.requestStream) {
      const clientStreaming = handler as unknown as ClientStreamingHandler<unknown, unknown>;
      return (
        call: grpc.ServerReadableStream<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) =>
        void this.run(
          call,
          path,
          async (context) => callback(null, await clientStreaming(requestsOf(call), context)),
          (status) => callback(status),
        );
    }
    if (method.responseStream) {
      const serverStreaming = handler as unknown as ServerStreamingHandler<unknown, unknown>;
      return (call: grpc.ServerWritableStream<unknown, unknown>) =>
        void this.run(
          call,
          path,
          (context) => writeAll(call, serverStreaming(call.request, context), context.signal),
          (status) => call.emit('error', status),
        );
    }
    const unary = handler as unknown as UnaryHandler<unknown, unknown>;
    return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      void this.run(
        call,
        path,
        async (context) => callback(null, await unary(call.request, context)),
        (status) => callback(status),
      );
  }

  private async run(
    call: SurfaceCall,
    path: string,
    body: (context: CallContext) => Promise<void>,
    fail: (status: grpc.StatusObject) => void,
  ): Promise<void> {
    // Taken before the first await: the server span is the active one only while the
    // instrumented handler runs synchronously.
    const span = activeSpan();
    if (this.draining) {
      fail({
        code: grpc.status.UNAVAILABLE,
        details: 'server is shutting down: retry on another replica',
        metadata: new grpc.Metadata(),
      });
      return;
    }
    const controller = new AbortController();
    this.inFlight.add(controller);
    const onCancel = () => controller.abort(new Error('call cancelled by the client'));
    const events: EventEmitter = call;
    events.once('cancelled', onCancel);
    const started = performance.now();
    let logger = this.logger.child({ grpc_method: path });
    let code: number = grpc.status.OK;
    try {
      const principal = await this.verifier.verifyAuthorization(authorizationOf(call.metadata));
      logger = logger.child({ subject: principal.subject });
      // The client may have given up while its token was checked: then skip the handler.
      controller.signal.throwIfAborted();
      await body({
        principal,
        method: path,
        metadata: call.metadata,
        peer: call.getPeer(),
        deadline: call.getDeadline(),
        signal: controller.signal,
        draining: this.drainController.signal,
        logger,
      });
    } catch (error) {
      // Nobody is listening any more (client gone, or the server forced down): nothing to send.
      if (call.cancelled || controller.signal.aborted) {
        code = grpc.status.CANCELLED;
        return;
      }
      const traceId = traceIdOf(span);
      const { status, internal } = mapError(error, traceId);
      code = status.code;
      if (internal) {
        logger.error({ err: error, trace_id: traceId }, `${path} failed`);
        span?.recordException(error instanceof Error ? error : String(error));
      } else {
        logger.debug({ grpc_code: code, reason: status.details }, `${path} refused`);
      }
      fail(status);
    } finally {
      events.off('cancelled', onCancel);
      this.inFlight.delete(controller);
      if (this.inFlight.size === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
      logger.debug(
        { grpc_code: code, duration_ms: Math.round(performance.now() - started) },
        `${path} done`,
      );
    }
  }
}

function authorizationOf(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The request stream as a plain async iterable. Leaving the loop early must not destroy the call
 * (the default for a Readable's iterator): a destroyed duplex can no longer send its status.
 */
function requestsOf<Request>(
  call: grpc.ServerReadableStream<Request, unknown> | grpc.ServerDuplexStream<Request, unknown>,
): AsyncIterable<Request> {
  return {
    [Symbol.asyncIterator]: () =>
      call.iterator({ destroyOnReturn: false }) as AsyncIterator<Request>,
  };
}

/** Writes every response with backpressure, then ends the call with OK. */
async function writeAll<Response>(
  call: grpc.ServerWritableStream<unknown, Response> | grpc.ServerDuplexStream<unknown, Response>,
  responses: AsyncIterable<Response>,
  signal: AbortSignal,
): Promise<void> {
  for await (const response of responses) {
    signal.throwIfAborted();
    if (!call.write(response)) await once(call, 'drain', { signal });
  }
  call.end();
}
