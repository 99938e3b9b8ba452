import * as grpc from '@grpc/grpc-js';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { eventually } from '@park/testing';
import { trace } from '@opentelemetry/api';
import { traceIdOf } from './status';
import { fieldViolationsOf } from './status';
import {
  echoClient,
  echoService,
  type EchoClient,
  type EchoProbe,
  type EchoRequest,
  type EchoResponse,
} from './test-support/echo';
import {
  bearer,
  captureLogs,
  failure,
  startServer,
  token,
  unary,
  type TestServer,
} from './test-support/fixtures';

const logs = captureLogs();
const probe: EchoProbe = { streamAborted: false, sawDraining: false };
let server: TestServer;
let client: EchoClient;
let auth: grpc.Metadata;
beforeAll(async () => {
  server = await startServer({ services: [echoService(probe)], logger: logs.logger });
  client = echoClient(server.address);
  auth = bearer(await token({ role: 'operator', subject: 'op-7' }));
});
afterAll(async () => {
  client.close();
  await server.stop();
});

const echo = (request: EchoRequest) =>
  unary<EchoResponse>((done) => client.echo(request, auth, done));

/** Reads a server stream to its end: the messages and the final status. */
function readAll(
  stream: grpc.ClientReadableStream<EchoResponse>,
): Promise<{ messages: string[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    stream.on('data', (message: EchoResponse) => messages.push(message.text));
    stream.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    stream.on('end', () => resolve({ messages }));
  });
}

/**
 * google.rpc.Status from grpc-status-details-bin, decoded field by field here rather than with
 * the kit's own reader, so a mistake in the encoder cannot hide behind the same mistake.
 */
function decodeStatus(error: grpc.ServiceError) {
  const [bytes] = error.metadata.get('grpc-status-details-bin');
  const status = new BinaryReader(bytes as Buffer);
  const result = {
    code: -1,
    message: '',
    details: [] as { typeUrl: string; violations: string[][] }[],
  };
  while (status.pos < status.len) {
    const [field, wireType] = status.tag();
    if (field === 1) result.code = status.int32();
    else if (field === 2) result.message = status.string();
    else if (field === 3) {
      const any = new BinaryReader(status.bytes());
      const detail = { typeUrl: '', violations: [] as string[][] };
      while (any.pos < any.len) {
        const [anyField] = any.tag();
        if (anyField === 1) detail.typeUrl = any.string();
        else {
          const badRequest = new BinaryReader(any.bytes());
          while (badRequest.pos < badRequest.len) {
            badRequest.tag();
            const violation = new BinaryReader(badRequest.bytes());
            const pair: string[] = [];
            while (violation.pos < violation.len) {
              violation.tag();
              pair.push(violation.string());
            }
            detail.violations.push(pair);
          }
        }
      }
      result.details.push(detail);
    } else status.skip(wireType);
  }
  return result;
}

describe('errors a handler throws become statuses', () => {
  it('ValidationError: INVALID_ARGUMENT naming the fields, with google.rpc.BadRequest details', async () => {
    const error = await failure(echo({ text: 'x', fail: 'validation' }));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toBe(
      'invalid argument: readings[3].value: must not be negative; meter_id: is required',
    );
    expect(decodeStatus(error)).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      message: error.details,
      details: [
        {
          typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
          violations: [
            ['readings[3].value', 'must not be negative'],
            ['meter_id', 'is required'],
          ],
        },
      ],
    });
    // The kit's reader, for clients and other services' tests, agrees.
    expect(fieldViolationsOf(error)).toEqual([
      { field: 'readings[3].value', description: 'must not be negative' },
      { field: 'meter_id', description: 'is required' },
    ]);
  });

  it('WrongExpectedVersionError from the event store: ABORTED, so the client retries', async () => {
    const error = await failure(echo({ text: 'x', fail: 'conflict' }));
    expect(error.code).toBe(grpc.status.ABORTED);
    expect(error.details).toMatch(/changed concurrently/);
  });

  it.each<[EchoRequest['fail'], number]>([
    ['not_found', grpc.status.NOT_FOUND],
    ['precondition', grpc.status.FAILED_PRECONDITION],
  ])('ApiError %s maps through GRPC_STATUS', async (fail, code) => {
    const error = await failure(echo({ text: 'meter-9', fail }));
    expect(error.code).toBe(code);
  });

  it('a database out of reach or a pool with no connection free: UNAVAILABLE, to retry with backoff', async () => {
    const error = await failure(echo({ text: 'x', fail: 'pool_exhausted' }));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toBe(
      'the service cannot reach its database right now: retry with backoff',
    );
  });

  it('anything else: INTERNAL with only a trace id; the real error is in the log under that id', async () => {
    const error = await failure(echo({ text: 'call-1', fail: 'internal' }));
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(error.details).not.toMatch(/secret|password|xyz/);
    const [, traceId] = /^internal error \(trace ([0-9a-f]{32})\)$/.exec(error.details) ?? [];
    expect(traceId).toBeDefined();
    const logged = logs.lines().filter((line) => line.trace_id === traceId);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'error',
      grpc_method: '/park.test.v1.EchoService/Echo',
      subject: 'op-7',
      err: { message: 'secret db password xyz (call-1)' },
    });
    expect((logged[0]!.err as { stack: string }).stack).toContain('echo.ts');
  });

  it('a second internal error gets another trace id', async () => {
    const first = await failure(echo({ text: 'a', fail: 'internal' }));
    const second = await failure(echo({ text: 'b', fail: 'internal' }));
    expect(first.details).not.toBe(second.details);
  });
});

describe('every kind of call is wrapped', () => {
  it('unary: the response carries the principal', async () => {
    expect(await echo({ text: 'hello' })).toEqual({ text: 'hello', principal: 'op-7' });
  });

  it('client streaming: reads every request', async () => {
    const response = await unary<EchoResponse>((done) => {
      const call = client.collect(auth, done);
      for (const text of ['a', 'b', 'c']) call.write({ text });
      call.end();
    });
    expect(response).toEqual({ text: 'a b c', principal: 'op-7' });
  });

  it('client streaming: an error in the middle maps like a unary one', async () => {
    const error = await failure(
      unary<EchoResponse>((done) => {
        const call = client.collect(auth, done);
        call.write({ text: 'a' });
        call.write({ text: 'b', fail: 'conflict' });
        call.end();
      }),
    );
    expect(error.code).toBe(grpc.status.ABORTED);
  });

  it('server streaming: the responses, then OK', async () => {
    expect(await readAll(client.expand({ text: 'abc' }, auth))).toEqual({
      messages: ['a', 'b', 'c'],
    });
  });

  it('server streaming: the responses so far, then the mapped error with its details', async () => {
    const { messages, error } = await readAll(
      client.expand({ text: 'abcdef', failAfter: 2, fail: 'validation' }, auth),
    );
    expect(messages).toEqual(['a', 'b']);
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolationsOf(error!).map((v) => v.field)).toEqual([
      'readings[3].value',
      'meter_id',
    ]);
  });

  it('server streaming: a client that cancels aborts the handler signal', async () => {
    const stream = client.expand({ text: 'tick', forever: true }, auth);
    const received: string[] = [];
    await new Promise<void>((resolve) => {
      stream.on('data', (message: EchoResponse) => {
        received.push(message.text);
        if (received.length === 3) resolve();
      });
    });
    stream.on('error', () => undefined);
    stream.cancel();
    await eventually(() => expect(probe.streamAborted).toBe(true), 5_000);
    await eventually(() => expect(server.server.inFlight).toBe(0), 5_000);
  });

  it('bidi streaming: answers each request, and an internal error hides its message', async () => {
    const chat = client.chat(auth);
    const done = readAll(chat);
    chat.write({ text: 'one' });
    chat.write({ text: 'two' });
    chat.write({ text: 'three', fail: 'internal' });
    chat.end();
    const { messages, error } = await done;
    expect(messages).toEqual(['ONE', 'TWO']);
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(error?.details).toMatch(/^internal error \(trace [0-9a-f]{32}\)$/);
  });
});

describe('trace ids', () => {
  it("are the active span's when there is one", () => {
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    expect(traceIdOf(span)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('are random, in the same format, without a valid span', () => {
    const invalid = trace.wrapSpanContext({
      traceId: '00000000000000000000000000000000',
      spanId: '0000000000000000',
      traceFlags: 0,
    });
    const ids = [traceIdOf(undefined), traceIdOf(invalid)];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});
