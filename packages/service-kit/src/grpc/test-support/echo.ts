import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { WrongExpectedVersionError } from '@park/eventstore';
import { NotFoundError, PreconditionError, ValidationError } from '../../errors';
import { defineService, type GrpcService } from '../service';

/**
 * A service with one method of each kind (unary, client-, server- and bidi-streaming), JSON on
 * the wire so it needs no generated code, shaped like a ts-proto grpc-js definition. A request
 * names the failure its handler should throw.
 */
export interface EchoRequest {
  text: string;
  fail?: 'validation' | 'conflict' | 'internal' | 'not_found' | 'precondition' | 'pool_exhausted';
  /** Server streaming: fail after this many responses. */
  failAfter?: number;
  /** Server streaming: keep sending until the call ends (or the server drains). */
  forever?: boolean;
  /** With forever: go on even while the server drains, as a careless subscription would. */
  ignoreDraining?: boolean;
}
export interface EchoResponse {
  text: string;
  principal: string;
}

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as never,
};
function method<RequestStream extends boolean, ResponseStream extends boolean>(
  name: string,
  requestStream: RequestStream,
  responseStream: ResponseStream,
) {
  return {
    path: `/park.test.v1.EchoService/${name}` as const,
    requestStream,
    responseStream,
    requestSerialize: json.serialize as (value: EchoRequest) => Buffer,
    requestDeserialize: json.deserialize as (bytes: Buffer) => EchoRequest,
    responseSerialize: json.serialize as (value: EchoResponse) => Buffer,
    responseDeserialize: json.deserialize as (bytes: Buffer) => EchoResponse,
  };
}

export const EchoServiceDefinition = {
  echo: method('Echo', false, false),
  collect: method('Collect', true, false),
  expand: method('Expand', false, true),
  chat: method('Chat', true, true),
} as const;

export interface EchoClient extends grpc.Client {
  echo(
    request: EchoRequest,
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response: EchoResponse) => void,
  ): grpc.ClientUnaryCall;
  echo(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: (error: grpc.ServiceError | null, response: EchoResponse) => void,
  ): grpc.ClientUnaryCall;
  collect(
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response: EchoResponse) => void,
  ): grpc.ClientWritableStream<EchoRequest>;
  expand(request: EchoRequest, metadata: grpc.Metadata): grpc.ClientReadableStream<EchoResponse>;
  chat(metadata: grpc.Metadata): grpc.ClientDuplexStream<EchoRequest, EchoResponse>;
}

export function echoClient(address: string): EchoClient {
  const Client = grpc.makeGenericClientConstructor(EchoServiceDefinition, 'EchoService');
  return new Client(address, grpc.credentials.createInsecure()) as unknown as EchoClient;
}

function maybeFail(request: EchoRequest): void {
  switch (request.fail) {
    case 'validation':
      throw new ValidationError([
        { field: 'readings[3].value', description: 'must not be negative' },
        { field: 'meter_id', description: 'is required' },
      ]);
    case 'conflict':
      throw new WrongExpectedVersionError('meter-7', 3, 4);
    case 'internal':
      throw new Error(`secret db password xyz (${request.text})`);
    case 'not_found':
      throw new NotFoundError(`meter ${request.text} not found`);
    case 'precondition':
      throw new PreconditionError('the period is closed');
    case 'pool_exhausted':
      // What pg's pool throws when no connection frees up within connectionTimeoutMillis.
      throw new Error('timeout exceeded when trying to connect');
    default:
  }
}

export interface EchoProbe {
  /** Set when a server-streaming handler saw its call end (signal aborted). */
  streamAborted: boolean;
  /** Set when a handler saw the server start draining. */
  sawDraining: boolean;
}

export function echoService(
  probe: EchoProbe = { streamAborted: false, sawDraining: false },
): GrpcService {
  return defineService(EchoServiceDefinition, {
    echo: (request, { principal }) => {
      maybeFail(request);
      return { text: request.text, principal: principal.subject };
    },
    collect: async (requests, { principal }) => {
      const texts: string[] = [];
      for await (const request of requests) {
        maybeFail(request);
        texts.push(request.text);
      }
      return { text: texts.join(' '), principal: principal.subject };
    },
    expand: async function* (request, { principal, signal, draining }) {
      if (request.forever) {
        try {
          for (let i = 0; ; i++) {
            if (draining.aborted && !request.ignoreDraining) {
              probe.sawDraining = true;
              return;
            }
            yield { text: `${request.text}-${i}`, principal: principal.subject };
            await sleep(20, undefined, { signal });
          }
        } finally {
          if (signal.aborted) probe.streamAborted = true;
        }
      }
      const letters = [...request.text];
      for (const [i, letter] of letters.entries()) {
        if (request.failAfter === i) maybeFail(request);
        yield { text: letter, principal: principal.subject };
      }
    },
    chat: async function* (requests, { principal }) {
      for await (const request of requests) {
        maybeFail(request);
        yield { text: request.text.toUpperCase(), principal: principal.subject };
      }
    },
  });
}
